// `lits forward`: one forward pass of a network on an .npy input, the output written to an .npy, in float64
// by default. It exists so that other implementations of the same network can be checked against the
// engine value by value (tools/compare_torch.py does so with PyTorch): the network comes from a setup file
// (initialised from a seed) or a trained run folder, optionally with weights from a safetensors file, and
// --save-weights writes the weights the pass started from under the checkpoints' names ("model.<name>").
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>

#include "engine/autograd.h"
#include "engine/cuda_context.h"
#include "engine/error.h"
#include "models/setup_files.h"
#include "models/unet.h"
#include "pipeline/infer/inference.h"
#include "pipeline/io/npy.h"
#include "pipeline/io/safetensors.h"
#include "pipeline/train/checkpoint.h"
#include "tools/commands.h"

namespace lits::tools {

namespace {

// The "model.<name>" tensors of a safetensors file, without the prefix. A lits checkpoint is read through
// load_checkpoint, so its checksum is verified; other files (--save-weights) are taken as they are.
NamedTensors read_weights(const std::string& path) {
  std::map<std::string, std::string> meta;
  NamedTensors all = read_safetensors(path, &meta);
  const std::string ext = ".safetensors";
  if (meta.count("lits_state") && path.size() > ext.size() && path.ends_with(ext))
    return load_checkpoint(path.substr(0, path.size() - ext.size())).model;
  NamedTensors model;
  for (auto& [name, t] : all)
    if (name.rfind("model.", 0) == 0) model.emplace_back(name.substr(6), t);
  LITS_CHECK(!model.empty(), "forward: '" << path
                                          << "' holds no model.<name> tensors (expected a lits checkpoint or a file "
                                             "written by --save-weights)");
  return model;
}

Tensor read_input(const std::string& path) {
  const NpyArray a = read_npy(path);
  LITS_CHECK((a.type == NpyType::kFloat32 || a.type == NpyType::kFloat64) && a.shape.size() == 4,
             "forward: input '" << path << "' is " << npy_descr(a.type) << " with " << a.shape.size()
                                << " dims (expected float32 or float64 [N, C, H, W])");
  Tensor x = Tensor::empty(Shape(a.shape), a.type == NpyType::kFloat64 ? DType::kFloat64 : DType::kFloat32);
  if (!a.bytes.empty()) std::memcpy(x.data_ptr(), a.bytes.data(), a.bytes.size());
  return x;
}

}  // namespace

int run_forward(const ForwardOptions& o) {
  LITS_CHECK(o.setup.empty() != o.model.empty(), "forward: give --setup or --model (one of them)");
  const Device device = parse_device(o.device);
  const DType dtype = o.dtype == "float32" ? DType::kFloat32 : DType::kFloat64;
  LITS_CHECK(o.dtype == "float32" || o.dtype == "float64",
             "forward: --dtype '" << o.dtype << "' (expected float32 or float64)");
  Generator gen(o.seed);
  LoadedModel loaded;
  std::unique_ptr<UNet> built;
  UNet* net = nullptr;
  std::string source;
  if (!o.model.empty()) {
    loaded = load_model(o.model, Device::cpu(), false);
    net = loaded.net.get();
    source = o.model + " (checkpoint_best)";
  } else {
    const std::vector<Setup> runs = load_runs(o.setup, o.base);
    LITS_CHECK(o.run >= 0 && o.run < static_cast<int>(runs.size()),
               "forward: --run " << o.run << " but '" << o.setup << "' has " << runs.size() << " run(s)");
    built = std::make_unique<UNet>(unet_config_from(runs[static_cast<size_t>(o.run)]), gen);
    net = built.get();
    source = o.setup + " run " + std::to_string(o.run) + ", seed " + std::to_string(o.seed);
  }
  if (!o.weights.empty()) {
    load_module_state(*net, read_weights(o.weights), o.weights);
    source += ", weights " + o.weights;
  }
  if (!o.save_weights.empty()) {
    // Before the pass: in training mode it would update BatchNorm's running statistics.
    NamedTensors named;
    for (const auto& [n, t] : net->named_parameters()) named.emplace_back("model." + n, t);
    for (const auto& [n, t] : net->named_buffers()) named.emplace_back("model." + n, t);
    write_safetensors(o.save_weights, named);
  }
  const Tensor x = read_input(o.input).to(dtype).to(device);
  net->to(dtype);
  net->to(device);
  net->train(o.train_mode);
  NoGradGuard no_grad;
  const auto t0 = std::chrono::steady_clock::now();
  const Tensor out = net->run(x).out;
  cuda::synchronize(device);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  Tensor host = out.to(Device::cpu());
  if (!host.is_contiguous()) host = host.clone();
  write_npy(o.output, dtype == DType::kFloat64 ? NpyType::kFloat64 : NpyType::kFloat32, host.shape().vec(),
            host.data_ptr());
  std::printf("forward: %s, %lld parameters, %s mode, input %s: output %s written to %s (%.1f ms)\n", source.c_str(),
              static_cast<long long>(net->parameter_count()), o.train_mode ? "training" : "eval", x.str().c_str(),
              out.str().c_str(), o.output.c_str(), ms);
  if (!o.save_weights.empty()) std::printf("forward: weights written to %s\n", o.save_weights.c_str());
  return 0;
}

}  // namespace lits::tools
