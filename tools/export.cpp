// `lits export`: writes a run folder's trained network as an ONNX model (pipeline/infer/onnx_export.h says
// what the graph holds), then one line on what was written.
#include <cstdio>

#include "pipeline/infer/onnx_export.h"
#include "tools/commands.h"

namespace lits::tools {

int run_export(const ExportOptions& o) {
  const OnnxExportInfo info = export_run_onnx(o.run, o.checkpoint, o.onnx);
  std::printf(
      "export: %s (checkpoint_%s) -> %s: ONNX opset %d, %lld nodes, %lld initializers (%lld values, %.1f MiB); "
      "%lld BatchNorms folded into convolutions, %lld BatchNormalization, %lld GroupNorms; input \"input\" "
      "float32 [N, C, H, W], H and W multiples of %lld; output \"probabilities\" [N, K, H, W]\n",
      o.run.c_str(), o.checkpoint.c_str(), o.onnx.c_str(), info.opset, static_cast<long long>(info.nodes),
      static_cast<long long>(info.initializers), static_cast<long long>(info.values),
      static_cast<double>(info.bytes) / (1 << 20), static_cast<long long>(info.folded_norms),
      static_cast<long long>(info.batch_norms), static_cast<long long>(info.group_norms),
      static_cast<long long>(info.size_divisor));
  return 0;
}

}  // namespace lits::tools
