// safetensors files (the format of Hugging Face's `safetensors`): an 8-byte little-endian header length,
// a JSON header {"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets": [begin, end]}}
// padded with spaces to a multiple of 8, then the raw little-endian data. PyTorch and NumPy users can read
// the checkpoints with `safetensors.torch.load_file` / `safetensors.numpy.load_file`. Written atomically.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace lits {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// Tensors of any device (copied to the host) in the given order; dtypes float32/float64/int64/int32/uint8.
// Names must be unique and non-empty. Temporary file, fsync, rename.
void write_safetensors(const std::string& path, const NamedTensors& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// CPU tensors in file order; `metadata` (optional) receives __metadata__. Errors name the file and the
// problem (not a safetensors file, truncated, overlapping or out-of-range offsets, unsupported dtype).
NamedTensors read_safetensors(const std::string& path, std::map<std::string, std::string>* metadata = nullptr);

}  // namespace lits
