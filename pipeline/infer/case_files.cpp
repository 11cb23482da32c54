// Input files and case pairing (see case_files.h).
#include "pipeline/infer/case_files.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <sstream>

#include "engine/error.h"

namespace fs = std::filesystem;

namespace lits {

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void sort_by_number(std::vector<fs::path>& files) {
  std::sort(files.begin(), files.end(), [](const fs::path& a, const fs::path& b) {
    const int64_t na = file_number(a.filename().string()), nb = file_number(b.filename().string());
    return na != nb ? na < nb : a.filename() < b.filename();
  });
}

// The NIfTI files directly in `folder`. Not e.is_regular_file(): it throws on a symbolic link loop. A name
// that looks like a volume is taken whatever it is, so that reading it says what is wrong with that file.
std::vector<fs::path> folder_files(const fs::path& folder) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(folder)) {
    std::error_code ec;
    if (e.is_directory(ec) || !is_nifti_name(e.path().filename().string())) continue;
    files.push_back(e.path());
  }
  return files;
}

std::string names(const std::vector<fs::path>& files) {
  std::ostringstream s;
  s << files.size() << " file" << (files.size() == 1 ? "" : "s");
  for (size_t i = 0; i < files.size() && i < 4; ++i) s << (i == 0 ? " (" : ", ") << files[i].filename().string();
  if (files.size() > 4) s << ", ...";
  if (!files.empty()) s << ")";
  return s.str();
}

}  // namespace

std::string nifti_suffix(const std::string& name) {
  const std::string l = lower(name);
  for (const char* ext : {".nii.gz", ".nii"}) {
    const size_t n = std::string(ext).size();
    if (l.size() > n && l.compare(l.size() - n, n, ext) == 0) return name.substr(name.size() - n);
  }
  return "";
}

bool is_nifti_name(const std::string& name) { return !nifti_suffix(name).empty(); }

std::string nifti_stem(const std::string& name) { return name.substr(0, name.size() - nifti_suffix(name).size()); }

int64_t file_number(const std::string& name) {
  const std::string stem = nifti_stem(name);
  size_t end = stem.size();
  while (end > 0 && !std::isdigit(static_cast<unsigned char>(stem[end - 1]))) --end;
  size_t begin = end;
  while (begin > 0 && std::isdigit(static_cast<unsigned char>(stem[begin - 1]))) --begin;
  if (begin == end || end - begin > 9) return -1;
  return std::stoll(stem.substr(begin, end - begin));
}

std::vector<fs::path> nifti_inputs(const std::vector<std::string>& paths, const char* what, const std::string& prefer) {
  LITS_CHECK(!paths.empty(), "no " << what << " given (NIfTI files or folders of them)");
  std::vector<fs::path> files;
  for (const std::string& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      const std::vector<fs::path> found = nifti_files_preferring(p, prefer, what);
      LITS_CHECK(!found.empty(), what << " folder '" << p << "' holds no .nii or .nii.gz files");
      files.insert(files.end(), found.begin(), found.end());
    } else {
      LITS_CHECK(fs::exists(p, ec) || fs::is_symlink(fs::symlink_status(p, ec)),
                 what << " '" << p << "' does not exist");
      LITS_CHECK(is_nifti_name(fs::path(p).filename().string()),
                 what << " '" << p << "' is not named .nii or .nii.gz (expected a NIfTI file or a folder of them)");
      files.emplace_back(p);
    }
  }
  std::map<std::string, fs::path> seen;
  std::vector<fs::path> unique;
  for (const fs::path& f : files) {
    const std::string name = lower(f.filename().string());
    auto it = seen.find(name);
    if (it != seen.end()) {
      std::error_code ec;
      if (fs::equivalent(it->second, f, ec)) continue;  // the same file given twice
      LITS_THROW(what << " '" << it->second.string() << "' and '" << f.string()
                      << "' have the same file name, so their outputs would overwrite each other; rename one");
    }
    seen.emplace(name, f);
    unique.push_back(f);
  }
  return unique;
}

std::vector<fs::path> nifti_files_preferring(const std::string& folder, const std::string& word, const char* what) {
  std::error_code ec;
  LITS_CHECK(fs::is_directory(folder, ec), what << " folder '" << folder << "' does not exist or is not a folder");
  std::vector<fs::path> all = folder_files(folder), with;
  for (const fs::path& f : all)
    if (lower(f.filename().string()).find(lower(word)) != std::string::npos) with.push_back(f);
  std::vector<fs::path> files = with.empty() ? all : with;
  sort_by_number(files);
  return files;
}

CasePairing pair_cases(const std::vector<fs::path>& a, const std::vector<fs::path>& b) {
  CasePairing r;
  std::vector<bool> used(b.size(), false);
  std::map<std::string, size_t> b_stem;
  std::map<int64_t, std::vector<size_t>> b_number;
  std::map<int64_t, int> a_number_count;
  for (size_t j = 0; j < b.size(); ++j) {
    b_stem.emplace(lower(nifti_stem(b[j].filename().string())), j);
    b_number[file_number(b[j].filename().string())].push_back(j);
  }
  for (const fs::path& f : a) ++a_number_count[file_number(f.filename().string())];
  // Names first, over all files, so that a number never takes a file another case has by name.
  for (const fs::path& f : a) {
    CasePair p;
    p.a = f;
    p.key = nifti_stem(f.filename().string());
    auto s = b_stem.find(lower(p.key));
    if (s != b_stem.end() && !used[s->second]) {
      p.b = b[s->second];
      used[s->second] = true;
    }
    r.pairs.push_back(p);
  }
  for (CasePair& p : r.pairs) {
    if (!p.b.empty()) continue;
    const int64_t n = file_number(p.a.filename().string());
    auto it = b_number.find(n);
    if (n >= 0 && a_number_count[n] == 1 && it != b_number.end() && it->second.size() == 1 && !used[it->second[0]]) {
      p.b = b[it->second[0]];
      used[it->second[0]] = true;
      p.key = "#" + std::to_string(n);
    }
  }
  for (size_t j = 0; j < b.size(); ++j)
    if (!used[j]) r.b_unpaired.push_back(b[j]);
  return r;
}

std::string CasePairing::describe(const std::vector<fs::path>& a, const std::vector<fs::path>& b) const {
  return names(a) + " and " + names(b);
}

}  // namespace lits
