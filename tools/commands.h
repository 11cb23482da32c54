// The subcommands of `lits`, callable without the CLI (main.cpp parses flags into these).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "pipeline/data/convert.h"
#include "pipeline/data/phantom.h"
#include "pipeline/infer/segment.h"
#include "pipeline/train/trainer.h"

namespace lits::tools {

// Every benchmark prints this before its figures when it runs on the emulated device: they time the
// emulator on the CPU and say nothing about a GPU.
inline void note_emulated_timings(const Device& device) {
  if (device.is_cuda() && cuda_emulated())
    std::printf("NOTE: %s: these timings measure the emulator, not a GPU; they mean nothing for GPU speed\n",
                device.label().c_str());
}

struct DemoOptions {
  std::string out = "lits-demo";  // cleared first when it is an earlier demo folder
  std::string device = "auto";
  bool quick = false;
  uint64_t seed = 1;
};
// Returns the process exit status.

struct BenchOpsOptions {
  std::string device = "auto";
  bool quick = false;
  int repeats = 20;
  std::string json;  // also write the results here when set
};
int run_bench_ops(const BenchOpsOptions& options);

struct BenchLoaderOptions {
  std::string data;                // slice store; empty: a temporary phantom store
  std::vector<int> threads{1, 2};  // worker counts to measure
  std::string task = "liver";
  int channels = 3;
  int64_t size = 256;  // crop
  int64_t batch = 4;
  int64_t batches = 50;
  bool no_augment = false;
  bool quick = false;
  std::string json;
};
int run_bench_loader(const BenchLoaderOptions& options);

struct BenchTrainOptions {
  std::string setup = "Setup_Small_Liver.txt";
  std::string base;
  std::string device = "auto";
  std::string data;   // slice store; empty: a temporary phantom store
  int64_t batch = 0;  // 0: the setup's batch_size
  int64_t size = 0;   // crop; 0: the setup's crop_size
  int64_t steps = 10;
  int warmup = 2;
  int threads = 2;
  bool quick = false;
  std::string json;
  std::string ranks;      // "1,2": start mpirun jobs of these sizes and report the scaling efficiency
  std::string precision;  // overrides the setup's `precision` key when set
  bool cuda_graphs = false;
  bool deterministic = false;
};
int run_bench_train(const BenchTrainOptions& options);

struct InfoOptions {
  std::string setup;
  std::string base;  // default: models/presets/Baseline_Parameters.txt
  int64_t size = 256;
  bool json = false;
};
int run_info(const InfoOptions& options);

struct GraphOptions {
  std::string setup;
  std::string base;
  std::string out;  // FILE.dot; FILE.svg is written too when Graphviz `dot` is installed
  int run = 0;      // which run of the setup file
};
int run_graph(const GraphOptions& options);

// `lits synth`: phantom CT volumes in the LiTS layout (options in pipeline/data/phantom.h).
int run_synth(const SynthOptions& options);

// `lits convert`: LiTS NIfTI volumes into the slice store (options in pipeline/data/convert.h).
int run_convert(const ConvertOptions& options);

// `lits train`: every run of a setup file, or --resume of one run folder.
struct TrainCommandOptions {
  std::string setup;
  std::string base;
  std::string precision;       // overrides every run's `precision` key when set
  bool deterministic = false;  // cuDNN algorithms restricted to deterministic ones
  TrainOptions train;
};
int run_train(const TrainCommandOptions& options);

// `lits segment` (liver masks) and `lits submit` (final 0/1/2 labels), pipeline/infer/segment.h.
int run_segment(const SegmentOptions& options);
int run_submit(const SegmentOptions& options);

// `lits evaluate` (pipeline/infer/evaluate.h).
struct EvaluateOptions {
  std::string pred, truth, json, csv;
};
int run_evaluate(const EvaluateOptions& options);

// `lits bench infer`: slices/s of a setup's network at full slice size (random weights: speed only).
struct BenchInferOptions {
  std::string setup = "Setup_Small_Liver.txt";
  std::string base;
  std::string device = "auto";
  int64_t size = 512;
  int64_t batch = 4;
  int repeats = 5;
  bool quick = false;
  bool unfused = false;      // the op-by-op path even where the fused one applies
  bool verbose = false;      // list the fused program's primitives
  bool cuda_graphs = false;  // the forward as one CUDA graph (CUDA)
  std::string precision = "fp32";
  std::string json;
};
int run_bench_infer(const BenchInferOptions& options);

// `lits forward`: one forward pass on an .npy input, the output to an .npy (tools/forward.cpp), so that other
// implementations of the network can be compared with the engine's value by value (tools/compare_torch.py).
struct ForwardOptions {
  std::string setup;  // the network of this setup's run `run`, initialised from `seed` ...
  std::string base;
  int run = 0;
  uint64_t seed = 1;
  std::string model;         // ... or a trained run folder (config.json, checkpoint_best)
  std::string weights;       // optional: "model.<name>" tensors of a safetensors file loaded over the network
  std::string save_weights;  // optional: the weights the pass starts from, as "model.<name>" (float32)
  std::string input;         // .npy, float32 or float64 [N, C, H, W]
  std::string output;        // .npy [N, K, H, W] in `dtype`
  std::string dtype = "float64";
  std::string device = "cpu";
  bool train_mode = false;  // BatchNorm with batch statistics (and dropout, if any) instead of eval mode
};
int run_forward(const ForwardOptions& options);

// `lits demo`: the whole pipeline on phantom data (tools/demo.cpp).
int run_demo(const DemoOptions& options);

// Multi-line description of the build and the machine (`lits --version`).
std::string version_text();

// `lits export`: a run folder's network as an ONNX model (tools/export.cpp, pipeline/infer/onnx_export.h).
struct ExportOptions {
  std::string run;                  // run folder of `lits train`
  std::string onnx;                 // output .onnx file
  std::string checkpoint = "best";  // best or latest
};
int run_export(const ExportOptions& options);

}  // namespace lits::tools
