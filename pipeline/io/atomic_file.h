// Whole-file writes that a crash cannot leave half done: the bytes go to a temporary file in the same
// folder, are flushed to disk (fsync), and the file is renamed over the target, so a reader sees the old
// file or the new one. The temporary is removed when anything fails.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace lits {

// The file is the concatenation of `parts` (pointer, byte count).
void write_file_atomic(const std::string& path, const std::vector<std::pair<const void*, size_t>>& parts);
void write_text_atomic(const std::string& path, const std::string& text);

}  // namespace lits
