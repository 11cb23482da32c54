// Setup files in the reference's format (docs/reference.md sections 1.2-1.4): Python literals,
// the baseline's `#` sections, the variation file's `=` run blocks and their Cartesian product.
//
// Each line is, checked in this order:
// - a comment when it has a `%` outside quotes (the whole line is dropped, as in the reference, but a
//   `%` inside a quoted value no longer hides the line);
// - a run-block separator when it has a `=` outside quotes (a baseline ignores such lines, as the
//   reference does);
// - a section header when it has a `#` outside quotes: the name is the text after the last `#`,
//   spaces removed, and must be Network, Training or Paths;
// - otherwise, unless blank, `key: value`, split at the first `:` outside quotes; the key loses its
//   spaces (as in the reference), the value keeps them and is parsed as one Python literal.
#include "models/setup.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <utility>

#include "engine/error.h"

namespace lits {
namespace {

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n\f\v");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t\r\n\f\v");
  return s.substr(b, e - b + 1);
}

std::string remove_spaces(const std::string& s) {
  std::string out;
  for (const char c : s)
    if (!std::isspace(static_cast<unsigned char>(c))) out += c;
  return out;
}

// ---- Setup files ----

// Every key of docs/reference.md section 1.4, space-separated, by home section.
constexpr std::pair<const char*, const char*> kSections[] = {
    {"Network",
     "structure filter_start channels init_type use_batchnorm dropout use_pypool use_auxiliary_inputs use_conv_pool "
     "backbone block_type up_conv_type se_reduction filter_start_up structure_up dilation dilation_up"},
    {"Training",
     "mode network_type data n_epochs lr l2_reg gpu num_workers batch_size step_size gamma crop_size perc_data "
     "train_val_split seed loss_func class_weights num_classes augment verbose_idx initialization pos_sample_chance "
     "no_standardize epsilon wmap_weight weight_score focal_gamma Training_ROI_Vicinity savename precision"},
    {"Paths", "Training_Path Save_Path"}};

std::vector<std::string> words(const char* text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// Case-insensitive edit distance, for a "did you mean" hint on unknown keys.
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      const bool same =
          std::tolower(static_cast<unsigned char>(a[i - 1])) == std::tolower(static_cast<unsigned char>(b[j - 1]));
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string did_you_mean(const std::string& key) {
  std::string best;
  size_t best_distance = 4;  // further than 3 edits is not a typo worth suggesting
  for (const auto& [section, keys] : kSections) {
    for (const std::string& known : words(keys)) {
      const size_t d = edit_distance(key, known);
      if (d < best_distance) best_distance = d, best = known;
    }
  }
  return best.empty() ? "" : " (did you mean '" + best + "'?)";
}

enum class LineKind { kBlank, kComment, kSeparator, kHeader, kEntry };

// Position of the first `c` outside single- or double-quoted text, or npos.
size_t find_unquoted(const std::string& line, char c) {
  char quote = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    const char ch = line[i];
    if (quote != 0) {
      if (ch == '\\')
        ++i;
      else if (ch == quote)
        quote = 0;
    } else if (ch == c) {
      return i;
    } else if (ch == '\'' || ch == '"') {
      quote = ch;
    }
  }
  return std::string::npos;
}

LineKind classify(const std::string& line) {
  if (trim(line).empty()) return LineKind::kBlank;
  if (find_unquoted(line, '%') != std::string::npos) return LineKind::kComment;
  if (find_unquoted(line, '=') != std::string::npos) return LineKind::kSeparator;
  if (find_unquoted(line, '#') != std::string::npos) return LineKind::kHeader;
  return LineKind::kEntry;
}

struct Line {
  int number = 0;
  std::string text;
};

// Lines without their `\r` (files edited on Windows) and without a UTF-8 byte-order mark.
std::vector<Line> split_lines(const std::string& text) {
  std::vector<Line> lines;
  std::istringstream in(text);
  std::string s;
  int number = 0;
  while (std::getline(in, s)) {
    if (!s.empty() && s.back() == '\r') s.pop_back();
    if (number == 0 && s.rfind("\xEF\xBB\xBF", 0) == 0) s.erase(0, 3);
    lines.push_back({++number, s});
  }
  return lines;
}

std::string header_name(const std::string& line, const std::string& where) {
  const std::string name = remove_spaces(line.substr(line.rfind('#') + 1));
  if (name != "Network" && name != "Training" && name != "Paths")
    LITS_THROW(where << ": unknown section '" << name << "' in the header `" << trim(line)
                     << "`; expected Network, Training or Paths");
  return name;
}

struct KeyValue {
  std::string key;
  std::string value_text;
};

KeyValue split_key_value(const std::string& line, const std::string& where) {
  const size_t colon = find_unquoted(line, ':');
  if (colon == std::string::npos)
    LITS_THROW(where << ": expected `key: value` but found `" << trim(line) << "` (no ':' outside quotes)");
  KeyValue kv{remove_spaces(line.substr(0, colon)), line.substr(colon + 1)};
  if (kv.key.empty()) LITS_THROW(where << ": missing key before the ':' in `" << trim(line) << "`");
  return kv;
}

void check_key(const std::string& key, const std::string& section, const std::string& where) {
  const std::string home = section_of_key(key);
  if (home.empty())
    LITS_THROW(where << ": unknown key '" << key << "' under # " << section << did_you_mean(key)
                     << "; expected a key of docs/reference.md section 1.4 (models/presets/Baseline_Parameters.txt "
                        "lists them)");
  if (home != section)
    LITS_THROW(where << ": key '" << key << "' is under # " << section << " but belongs to section # " << home);
}

// Remembers the line of each key of one file or run block; a second setting is an error.
void check_not_repeated(std::map<std::string, int>& seen, const std::string& key, const std::string& file, int line) {
  const auto [it, inserted] = seen.emplace(key, line);
  if (!inserted)
    LITS_THROW(file << ":" << line << ": key '" << key << "' is set twice, at lines " << it->second << " and " << line
                    << "; keep one");
}

std::string read_file_text(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) LITS_THROW("setup file '" << path << "' does not exist");
  if (std::filesystem::is_directory(path, ec))
    LITS_THROW("setup file '" << path << "' is a directory; expected a text file");
  std::ifstream in(path, std::ios::binary);
  if (!in) LITS_THROW("cannot open setup file '" << path << "': " << std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) LITS_THROW("cannot read setup file '" << path << "': " << std::strerror(errno));
  return text.str();
}

}  // namespace

// ---- Setup ----

bool Setup::has(const std::string& key) const { return find(key) != nullptr; }

const Value* Setup::find(const std::string& key) const {
  for (const SetupEntry& e : entries_)
    if (e.key == key) return &e.value;
  return nullptr;
}

const Value& Setup::at(const std::string& key) const {
  const Value* v = find(key);
  if (v == nullptr)
    LITS_THROW("setup key '" << key
                             << "' is missing from every setup file (the baseline and the variation file); add it "
                             << "under # " << (section_of_key(key).empty() ? "its section" : section_of_key(key)));
  return *v;
}

template <>
bool Setup::get<bool>(const std::string& key) const {
  return at(key).as_bool(key);
}
template <>
int64_t Setup::get<int64_t>(const std::string& key) const {
  return at(key).as_int(key);
}
template <>
double Setup::get<double>(const std::string& key) const {
  return at(key).as_double(key);
}
template <>
std::string Setup::get<std::string>(const std::string& key) const {
  return at(key).as_string(key);
}
template <>
std::vector<int64_t> Setup::get<std::vector<int64_t>>(const std::string& key) const {
  return at(key).as_int_list(key);
}
template <>
std::vector<double> Setup::get<std::vector<double>>(const std::string& key) const {
  return at(key).as_double_list(key);
}
template <>
std::vector<std::string> Setup::get<std::vector<std::string>>(const std::string& key) const {
  std::vector<std::string> out;
  for (const Value& v : at(key).as_list(key)) out.push_back(v.as_string(key));
  return out;
}

void Setup::set(const std::string& section, const std::string& key, Value value, const std::string& file, int line) {
  for (SetupEntry& e : entries_) {
    if (e.key != key) continue;
    e.section = section;
    e.value = std::move(value);
    e.file = file;
    e.line = line;
    return;
  }
  entries_.push_back({section, key, std::move(value), file, line});
}

bool has_run_separator(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (classify(line) == LineKind::kSeparator) return true;
  return false;
}

std::string section_of_key(const std::string& key) {
  for (const auto& [section, keys] : kSections)
    for (const std::string& known : words(keys))
      if (key == known) return section;
  return "";
}

Setup parse_setup_text(const std::string& text, const std::string& file_name) {
  Setup setup;
  std::string section;  // empty until the first header: earlier lines are ignored, as in the reference
  std::map<std::string, int> seen;
  for (const Line& line : split_lines(text)) {
    const std::string where = file_name + ":" + std::to_string(line.number);
    const LineKind kind = classify(line.text);
    if (kind == LineKind::kHeader) section = header_name(line.text, where);
    if (kind != LineKind::kEntry || section.empty()) continue;
    const KeyValue kv = split_key_value(line.text, where);
    check_key(kv.key, section, where);
    check_not_repeated(seen, kv.key, file_name, line.number);
    setup.set(section, kv.key, parse_value(kv.value_text, where + ", key '" + kv.key + "'"), file_name, line.number);
  }
  return setup;
}

Setup parse_setup_file(const std::string& path) { return parse_setup_text(read_file_text(path), path); }

namespace {

struct Alternatives {
  std::string section, key;
  std::vector<Value> values;
  int line = 0;
};

struct RunBlock {
  std::string title;
  int line = 0;
  std::vector<Alternatives> keys;
};

// A typo such as a long list pasted into several keys should fail here, not exhaust memory.
constexpr size_t kMaxRunsPerBlock = 10000;

}  // namespace

std::vector<Setup> expand_variations_text(const Setup& base, const std::string& text, const std::string& file_name) {
  std::vector<RunBlock> blocks;
  // The section carries on from one block to the next, as a plain line-by-line reader does; a key
  // before any header after the first separator has none and is an error.
  std::string section;
  std::map<std::string, int> seen;
  for (const Line& line : split_lines(text)) {
    const std::string where = file_name + ":" + std::to_string(line.number);
    const LineKind kind = classify(line.text);
    if (kind == LineKind::kSeparator) {
      blocks.push_back({trim(line.text), line.number, {}});
      seen.clear();
      continue;
    }
    if (blocks.empty()) continue;  // before the first separator: ignored, as in the reference
    if (kind == LineKind::kHeader) section = header_name(line.text, where);
    if (kind != LineKind::kEntry) continue;
    const KeyValue kv = split_key_value(line.text, where);
    if (section.empty()) {
      const std::string home = section_of_key(kv.key);
      LITS_THROW(where << ": key '" << kv.key
                       << "' comes before any `#` section header after the first `=` line; put it "
                       << (home.empty() ? "under a header" : "under # " + home));
    }
    check_key(kv.key, section, where);
    check_not_repeated(seen, kv.key, file_name, line.number);
    const std::string key_where = where + ", key '" + kv.key + "'";
    const Value alternatives = parse_value(kv.value_text, key_where);
    if (!alternatives.is_list())
      LITS_THROW(key_where << ": expected a list of alternatives, e.g. " << kv.key << ": [" << alternatives.str()
                           << "], but found " << alternatives.str());
    // An empty list would silently drop the whole block (a product with nothing is empty).
    if (alternatives.as_list(kv.key).empty())
      LITS_THROW(key_where << ": the list of alternatives is empty, which would give no runs; to set the value [] "
                           << "write " << kv.key << ": [[]]");
    blocks.back().keys.push_back({section, kv.key, alternatives.as_list(kv.key), line.number});
  }

  // Each block's runs in itertools.product order: the last key varies fastest. A block without keys
  // gives one run equal to the baseline (the product of nothing has one element).
  std::vector<Setup> runs;
  for (const RunBlock& block : blocks) {
    size_t count = 1;
    for (const Alternatives& a : block.keys) {
      count *= a.values.size();
      if (count > kMaxRunsPerBlock)
        LITS_THROW(file_name << ":" << block.line << ": the run block `" << block.title << "` expands to more than "
                             << kMaxRunsPerBlock << " runs (the product of its lists of alternatives); split it");
    }
    for (size_t r = 0; r < count; ++r) {
      Setup run = base;
      run.run_index = static_cast<int>(r);
      run.block_title = block.title;
      size_t rest = r;
      std::vector<size_t> choice(block.keys.size());
      for (size_t k = block.keys.size(); k-- > 0;) {
        choice[k] = rest % block.keys[k].values.size();
        rest /= block.keys[k].values.size();
      }
      for (size_t k = 0; k < block.keys.size(); ++k) {
        const Alternatives& a = block.keys[k];
        run.set(a.section, a.key, a.values[choice[k]], file_name, a.line);
      }
      runs.push_back(std::move(run));
    }
  }
  return runs;
}

std::vector<Setup> expand_variations_file(const Setup& base, const std::string& path) {
  return expand_variations_text(base, read_file_text(path), path);
}

}  // namespace lits
