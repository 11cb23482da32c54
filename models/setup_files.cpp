// Setup-file lookup and expansion for the commands.
#include "models/setup_files.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/error.h"

namespace lits {

std::vector<std::string> preset_folders() {
  namespace fs = std::filesystem;
  std::vector<std::string> folders;
  // /proc/self/exe is the binary itself, symbolic links resolved: a tree that was installed, moved or
  // copied elsewhere, or reached through a link in PATH, finds its own presets.
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) folders.push_back((exe.parent_path() / LITS_PRESETS_FROM_BINARY).lexically_normal().string());
  const std::string source = fs::path(LITS_PRESETS_DIR).lexically_normal().string();
  if (std::find(folders.begin(), folders.end(), source) == folders.end()) folders.push_back(source);
  return folders;
}

std::string resolve_setup_path(const std::string& path) {
  namespace fs = std::filesystem;
  if (fs::exists(path)) return path;
  const std::vector<std::string> folders = preset_folders();
  for (const std::string& folder : folders)
    if (const fs::path preset = fs::path(folder) / path; fs::exists(preset)) return preset.string();
  std::error_code ec;
  const fs::path cwd = fs::current_path(ec);
  std::string looked;
  for (const std::string& folder : folders) looked += (looked.empty() ? "" : ", ") + folder;
  LITS_THROW("setup file '" << path << "' not found: not a file as given (from " << (ec ? "?" : cwd.string())
                            << "), nor in the preset folders " << looked);
}

std::vector<Setup> load_runs(const std::string& setup, const std::string& base) {
  const std::string setup_path = resolve_setup_path(setup);
  std::ifstream in(setup_path);
  LITS_CHECK(in.good(), "cannot read setup file '" << setup_path << "'");
  std::stringstream text;
  text << in.rdbuf();
  // A file with run separators is a variation file; one without is a baseline of its own.
  if (!has_run_separator(text.str())) return {parse_setup_text(text.str(), setup_path)};
  const Setup baseline = parse_setup_file(resolve_setup_path(base.empty() ? "Baseline_Parameters.txt" : base));
  const std::vector<Setup> runs = expand_variations_text(baseline, text.str(), setup_path);
  LITS_CHECK(!runs.empty(), "setup file '" << setup_path << "' defines no runs");
  return runs;
}

}  // namespace lits
