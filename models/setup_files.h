// Locating and expanding setup files for the commands: a name that is not a path is looked up in
// models/presets/ (as the reference resolves names in its Training_Setup_Files folder).
#pragma once

#include <string>
#include <vector>

#include "models/setup.h"

namespace lits {

// `path` as given when it exists, else models/presets/<path>; throws naming both when neither does.
std::string resolve_setup_path(const std::string& path);
// The runs of `setup` (a variation file) merged onto `base` (default: the presets' baseline).
// A setup file without `=` separators is itself a baseline: its one run is returned.
std::vector<Setup> load_runs(const std::string& setup, const std::string& base);

}  // namespace lits
