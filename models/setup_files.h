// Locating and expanding setup files for the commands: a name that is not a path is looked up in the
// preset folders (as the reference resolves names in its Training_Setup_Files folder): the one beside
// the running binary (PREFIX/share/lits/presets for an installed or relocated tree, from PREFIX/bin/lits),
// then the source tree's models/presets/ (for the binaries of a build folder).
#pragma once

#include <string>
#include <vector>

#include "models/setup.h"

namespace lits {

// The preset folders, in lookup order (whether or not they exist): beside the running binary, then the
// source tree's. The same folder is listed once.
std::vector<std::string> preset_folders();
// `path` as given when it exists, else <folder>/<path> for the first preset folder that has it; throws
// naming every place it looked when none does.
std::string resolve_setup_path(const std::string& path);
// The runs of `setup` (a variation file) merged onto `base` (default: the presets' baseline).
// A setup file without `=` separators is itself a baseline: its one run is returned.
std::vector<Setup> load_runs(const std::string& setup, const std::string& base);

}  // namespace lits
