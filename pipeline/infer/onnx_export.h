// The ONNX export of a trained run (`lits export`, docs/reference.md section 7.4): the UNet's evaluation-mode
// graph written with Debian's ONNX protobuf classes (libonnx-dev), opset 17, so that other runtimes
// (onnxruntime, TensorRT, OpenVINO) can run the network without lits. What the graph holds:
//   - a BatchNorm right after a convolution (the input norm, the ResBlock norms, the next level's first norm
//     after a strided-conv pool) folded into that convolution's weights and bias, as models/unet_fused.h
//     folds them; the other BatchNorms as BatchNormalization with the running statistics;
//   - GroupNorm (which opset 17 lacks) as Reshape [N, G, -1] -> InstanceNormalization (unit scale, zero
//     shift) -> Reshape back -> Mul gamma -> Add beta, the same arithmetic;
//   - squeeze-excitation as GlobalAveragePool -> Conv 1x1 -> LeakyRelu -> Conv 1x1 -> Sigmoid -> Mul;
//   - no dropout (evaluation mode), no deep-supervision heads, not the bottleneck's discarded downsampler;
//   - softmax (over the classes) or sigmoid (one class) at the end, also for runs trained on logits, so the
//     output is always probabilities.
// Input "input" float32 [N, C, H, W], output "probabilities" float32 [N, K, H, W], N, H and W dynamic; H and
// W must be multiples of the size divisor 2^(levels-1), which the model's doc_string and metadata state.
#pragma once

#include <cstdint>
#include <string>

#include "models/unet.h"

namespace lits {

constexpr int kOnnxOpset = 17;

// Whether this build has the export (CMake found libonnx-dev and libprotobuf-dev; LITS_ONNX).
bool onnx_export_available();

struct OnnxExportInfo {
  int opset = kOnnxOpset;
  int64_t nodes = 0, initializers = 0;
  int64_t values = 0;        // float values the initializers hold
  int64_t folded_norms = 0;  // BatchNorms folded into the convolution before them
  int64_t batch_norms = 0;   // BatchNormalization nodes
  int64_t group_norms = 0;   // GroupNorms written as InstanceNormalization and an affine
  int64_t size_divisor = 1;
  int64_t bytes = 0;  // of the file
  std::string doc;    // the model's doc_string
};

// Writes `net` (float weights, any device; read, not modified) as an ONNX model to `path`,
// atomically (a temporary file in the same folder, then a rename). `description` starts the doc_string
// (where the network comes from, how its input is made); `metadata` adds "key=value" lines as
// metadata_props. The graph is checked with ONNX's model checker before it is written. Throws naming
// `path` when the folder is missing or not writable, and when the model would exceed protobuf's 2 GiB.
OnnxExportInfo export_onnx(UNet& net, const std::string& path, const std::string& description,
                           const std::string& metadata = "");

// The network of run folder `run_dir` (config.json, checkpoint_<which>.safetensors, loaded as `lits segment`
// loads it: pipeline/infer/inference.h's load_model) exported to `path`; the doc_string also says how lits
// makes the input (HU window, standardisation, adjacent slices as channels, the padding value of air).
OnnxExportInfo export_run_onnx(const std::string& run_dir, const std::string& which, const std::string& path);

}  // namespace lits
