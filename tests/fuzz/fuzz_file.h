// What the fuzz targets share: the readers take paths, so each input is written to a file of this
// process's own first (in /dev/shm when there is one, to spare the disk). A lits::Error is the readers'
// answer to bad input and ends the case; anything else (a crash, a sanitizer report, another exception,
// an allocation over libFuzzer's -malloc_limit_mb) is a finding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace lits::fuzz {

// Writes `size` bytes to this process's input file named `name` ("input.nii"); gzip-compressed when
// `compress`. Returns its path.
std::string input_file(const uint8_t* data, size_t size, const std::string& name, bool compress = false);

// A folder of this process's own, for inputs that are folders (a store's index.json).
std::string input_folder();

// Runs `f`; a lits::Error (the readers' refusal of bad input) is swallowed, anything else escapes.
template <typename F>
void refused_or_read(F&& f);

}  // namespace lits::fuzz

#include "engine/error.h"

template <typename F>
void lits::fuzz::refused_or_read(F&& f) {
  try {
    f();
  } catch (const lits::Error&) {
  }
}
