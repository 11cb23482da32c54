// Setup-file lookup and expansion for the commands.
#include "models/setup_files.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/error.h"

namespace lits {

std::string resolve_setup_path(const std::string& path) {
  namespace fs = std::filesystem;
  if (fs::exists(path)) return path;
  const fs::path preset = fs::path(LITS_PRESETS_DIR) / path;
  LITS_CHECK(fs::exists(preset), "setup file '" << path << "' not found (also looked in " << LITS_PRESETS_DIR << ")");
  return preset.string();
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
