// The `lits` command: one binary, one subcommand per stage of the pipeline. Errors from the library
// arrive as lits::Error and are printed as "lits: error: ..." with exit status 1 (the failed check and
// its source line only with --debug); usage errors exit with 2 and a suggestion for a mistyped name.
#include <CLI/CLI.hpp>

#include <omp.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "engine/error.h"
#include "pipeline/dist/distributed.h"
#include "tools/commands.h"
#include "tools/usage.h"

namespace {

using namespace lits::tools;

// Every subcommand's options and its CLI11 handle (set when the subcommand is added).
struct Commands {
  DemoOptions demo;
  CLI::App* demo_cmd = nullptr;
  BenchOpsOptions bench_ops;
  BenchLoaderOptions bench_loader;
  BenchTrainOptions bench_train;
  BenchInferOptions bench_infer;
  CLI::App* bench_cmd = nullptr;
  CLI::App* ops_cmd = nullptr;
  CLI::App* loader_cmd = nullptr;
  CLI::App* btrain_cmd = nullptr;
  CLI::App* binfer_cmd = nullptr;
  lits::SegmentOptions segment;
  lits::SegmentOptions submit;
  EvaluateOptions evaluate;
  CLI::App* segment_cmd = nullptr;
  CLI::App* submit_cmd = nullptr;
  CLI::App* evaluate_cmd = nullptr;
  lits::SynthOptions synth;
  lits::ConvertOptions convert;
  std::string weightmaps = "3d";
  CLI::App* synth_cmd = nullptr;
  CLI::App* convert_cmd = nullptr;
  TrainCommandOptions train;
  CLI::App* train_cmd = nullptr;
  InfoOptions info;
  GraphOptions graph;
  ForwardOptions forward;
  CLI::App* forward_cmd = nullptr;
  CLI::App* info_cmd = nullptr;
  CLI::App* graph_cmd = nullptr;
  ExportOptions export_opts;
  CLI::App* export_cmd = nullptr;
};

// The baseline file every setup-reading command merges its runs onto.
void add_base_option(CLI::App* cmd, std::string& base) {
  cmd->add_option("--base", base, "Baseline file the runs are merged onto")->default_str("Baseline_Parameters.txt");
}

// --precision (docs/gpu-fast-path.md); `what_if_unset` says what an unset option means.
CLI::Option* add_precision_option(CLI::App* cmd, std::string& precision, const char* what_if_unset) {
  return cmd
      ->add_option("--precision", precision,
                   std::string("Convolution and GEMM math: fp32, tf32 or bf16") + what_if_unset)
      ->check(CLI::IsMember({"fp32", "tf32", "bf16"}));
}

// --deterministic: cuDNN's deterministic algorithms only.
void add_deterministic_flag(CLI::App* cmd, bool& deterministic) {
  cmd->add_flag("--deterministic", deterministic,
                "cuDNN algorithms that give the same bits on every run (CUDA; slower)");
}

void add_demo(CLI::App& app, Commands& c) {
  c.demo_cmd = app.add_subcommand(
      "demo",
      "The whole LiTS pipeline on built-in phantom CT: synth, convert, train liver and lesion networks, segment, "
      "submit, evaluate; prints the LiTS metrics, the outputs and the time per stage (about 6 minutes on 2 CPU "
      "cores)");
  c.demo_cmd
      ->add_option("--out", c.demo.out, "Folder for everything the demo writes (an earlier demo folder is replaced)")
      ->capture_default_str();
  c.demo_cmd->add_option("--device", c.demo.device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  c.demo_cmd->add_flag("--quick", c.demo.quick,
                       "7 volumes of 128 x 128 x 24, 3 liver epochs, 1 lesion epoch: under a minute on 2 cores "
                       "with oneDNN; for tests");
  c.demo_cmd->add_option("--seed", c.demo.seed, "Random seed")->capture_default_str();
}

void add_bench(CLI::App& app, Commands& c) {
  c.bench_cmd = app.add_subcommand("bench", "Benchmarks that print figures (never pass/fail)");
  c.bench_cmd->require_subcommand(1);
  c.ops_cmd = c.bench_cmd->add_subcommand(
      "ops", "Time each engine op forward (+ backward where it has one) and report GB/s or GFLOP/s");
  c.ops_cmd->add_option("--device", c.bench_ops.device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  c.ops_cmd->add_flag("--quick", c.bench_ops.quick, "Small sizes and few repeats (smoke test)");
  c.ops_cmd->add_option("--repeats", c.bench_ops.repeats, "Timed repeats per op (the median is reported)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  c.ops_cmd->add_option("--json", c.bench_ops.json, "Also write the results as JSON to this file");
  c.loader_cmd = c.bench_cmd->add_subcommand(
      "loader", "Training samples per second through the threaded loader (window, channels, augmentation, crop)");
  c.loader_cmd->add_option("--data", c.bench_loader.data,
                           "Slice store from `lits convert` (default: a temporary 512 x 512 phantom store)");
  c.loader_cmd
      ->add_option("--workers", c.bench_loader.threads, "Loader worker thread counts to measure (0: no workers)")
      ->capture_default_str()
      ->delimiter(',');
  c.loader_cmd->add_option("--task", c.bench_loader.task, "liver or lesion")
      ->capture_default_str()
      ->check(CLI::IsMember({"liver", "lesion"}));
  c.loader_cmd->add_option("--channels", c.bench_loader.channels, "Stacked slices per sample (odd)")
      ->capture_default_str()
      ->check(CLI::Range(1, 99));
  c.loader_cmd->add_option("--size", c.bench_loader.size, "Crop height and width (even)")->capture_default_str();
  c.loader_cmd->add_option("--batch", c.bench_loader.batch, "Batch size")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  c.loader_cmd->add_option("--batches", c.bench_loader.batches, "Batches timed per thread count (at most an epoch)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  c.loader_cmd->add_flag("--no-augment", c.bench_loader.no_augment, "Measure without rotation, zoom and flips");
  c.loader_cmd->add_flag("--quick", c.bench_loader.quick,
                         "A small phantom store, 64 x 64 crops, 4 batches (smoke test)");
  c.loader_cmd->add_option("--json", c.bench_loader.json, "Also write the results as JSON to this file");

  c.btrain_cmd = c.bench_cmd->add_subcommand(
      "train",
      "Training steps of a setup's network: data / forward / backward / optimizer time, samples/s, peak memory");
  c.btrain_cmd->add_option("--setup", c.bench_train.setup, "Setup file (a path, or a name in models/presets/)")
      ->capture_default_str();
  add_base_option(c.btrain_cmd, c.bench_train.base);
  c.btrain_cmd->add_option("--device", c.bench_train.device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  c.btrain_cmd->add_option("--data", c.bench_train.data, "Slice store (default: a temporary 512 x 512 phantom store)");
  c.btrain_cmd->add_option("--batch", c.bench_train.batch, "Batch size (default: the setup's batch_size)")
      ->check(CLI::NonNegativeNumber);
  c.btrain_cmd->add_option("--size", c.bench_train.size, "Crop height and width (default: the setup's crop_size)")
      ->check(CLI::NonNegativeNumber);
  c.btrain_cmd->add_option("--steps", c.bench_train.steps, "Timed steps (the median is reported)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  c.btrain_cmd->add_option("--warmup", c.bench_train.warmup, "Untimed steps first")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000));
  c.btrain_cmd->add_option("--workers", c.bench_train.threads, "Loader worker threads (0: the loader runs inline)")
      ->capture_default_str()
      ->check(CLI::Range(0, 256));
  add_precision_option(c.btrain_cmd, c.bench_train.precision, " (default: the setup's precision, else fp32)");
  add_deterministic_flag(c.btrain_cmd, c.bench_train.deterministic);
  c.btrain_cmd->add_flag("--cuda-graphs", c.bench_train.cuda_graphs,
                         "Time the step as one CUDA graph (at least 4 warm-up steps: plain, 2 uncaptured, capture)");
  c.btrain_cmd->add_flag("--quick", c.bench_train.quick, "A small phantom store and 2 timed steps (smoke test)");
  c.btrain_cmd->add_option("--ranks", c.bench_train.ranks,
                           "Scaling: run data-parallel jobs of these rank counts (e.g. 1,2) with mpirun, the CPU "
                           "threads shared out, and report samples/s and efficiency per rank count");
  c.btrain_cmd->add_option("--json", c.bench_train.json, "Also write the results as JSON to this file");

  c.binfer_cmd = c.bench_cmd->add_subcommand(
      "infer", "Inference slices/s of a setup's network at full slice size (eval mode, as `lits segment` runs it)");
  c.binfer_cmd->add_option("--setup", c.bench_infer.setup, "Setup file (a path, or a name in models/presets/)")
      ->capture_default_str();
  add_base_option(c.binfer_cmd, c.bench_infer.base);
  c.binfer_cmd->add_option("--device", c.bench_infer.device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  c.binfer_cmd->add_option("--size", c.bench_infer.size, "Slice height and width")
      ->capture_default_str()
      ->check(CLI::Range(8, 4096));
  c.binfer_cmd->add_option("--batch", c.bench_infer.batch, "Slices per forward pass")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  c.binfer_cmd->add_option("--repeats", c.bench_infer.repeats, "Timed passes (the median is reported)")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  c.binfer_cmd->add_flag("--quick", c.bench_infer.quick, "64 x 64, batch 1, one pass (smoke test)");
  c.binfer_cmd->add_flag("--unfused", c.bench_infer.unfused,
                         "Time the op-by-op path on the CPU instead of the fused one `lits segment` uses");
  c.binfer_cmd->add_flag("--cuda-graphs", c.bench_infer.cuda_graphs, "Time the forward as one CUDA graph (CUDA)");
  add_precision_option(c.binfer_cmd, c.bench_infer.precision, "")->capture_default_str();
  c.binfer_cmd->add_flag("--verbose", c.bench_infer.verbose, "List the fused program's primitives");
  c.binfer_cmd->add_option("--json", c.bench_infer.json, "Also write the results as JSON to this file");
}

void add_inference(CLI::App& app, Commands& c) {
  c.segment_cmd = app.add_subcommand(
      "segment",
      "Liver masks of CT volumes with trained liver runs: NIfTI files or folders in, one uint8 mask per volume out, "
      "named as its volume and with its geometry");
  c.segment_cmd
      ->add_option("-i,--input,--volumes", c.segment.inputs,
                   "CT volumes: .nii / .nii.gz files and folders of them (any names; in a folder that has "
                   "*volume* files, those)")
      ->required();
  c.segment_cmd->add_option("--model", c.segment.models, "Liver run folder (repeat for an ensemble)")->required();
  c.segment_cmd
      ->add_option("-o,--output,--out", c.segment.out,
                   "Output folder (created): one mask per volume, under the volume's own file name")
      ->required();
  c.segment_cmd->add_option("--device", c.segment.device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  c.segment_cmd->add_option("--batch", c.segment.batch, "Slices per forward pass")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  c.segment_cmd->add_option("--checkpoint", c.segment.checkpoint, "Which weights of each run: best or latest")
      ->capture_default_str()
      ->check(CLI::IsMember({"best", "latest"}));
  c.segment_cmd->add_flag(
      "--no-postprocess", [&c](int64_t) { c.segment.postprocess = false; },
      "Write the networks' mask as is (no largest component, no closing)");
  c.segment_cmd->add_flag("--cuda-graphs", c.segment.cuda_graphs,
                          "Each batch shape's forward as one CUDA graph (CUDA, not with --bn-batch-stats)");
  c.segment_cmd->add_flag("--tta", c.segment.tta,
                          "Test-time augmentation: each slice also mirrored left-right, up-down and both, the four "
                          "probabilities averaged (4 times the network time)");
  c.segment_cmd->add_flag("--fast", c.segment.fast,
                          "The networks at half resolution, probabilities upsampled (about 4 times fewer operations; "
                          "see README for the Dice it costs)");
  c.segment_cmd->add_flag("--save-probabilities", c.segment.save_probabilities,
                          "Also write OUT/probabilities/NAME_{background,liver}.nii.gz: the ensemble's class "
                          "probabilities before post-processing (uint16 scaled to 0..1, the volume's geometry)");
  c.segment_cmd->add_flag(
      "--bn-batch-stats", c.segment.bn_batch_stats,
      "BatchNorm with per-batch statistics, as the reference's test scripts (default: running stats)");

  c.submit_cmd = app.add_subcommand(
      "submit",
      "LiTS submission: lesions inside the liver masks of `segment`, test-segmentation-N.nii with 0/1/2 per volume");
  c.submit_cmd
      ->add_option("-i,--input,--volumes", c.submit.inputs,
                   "CT volumes: .nii / .nii.gz files and folders of them (in a folder that has *volume* files, "
                   "those)")
      ->required();
  c.submit_cmd
      ->add_option("--liver", c.submit.liver,
                   "Folder of the liver masks written by `lits segment` (paired with the volumes by name or number)")
      ->required();
  c.submit_cmd->add_option("--model", c.submit.models, "Lesion run folder (repeat for an ensemble)")->required();
  c.submit_cmd
      ->add_option("-o,--output,--out", c.submit.out,
                   "Output folder for test-segmentation-N.nii (NAME-segmentation.nii for volumes without a number)")
      ->required();
  c.submit_cmd->add_option("--device", c.submit.device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  c.submit_cmd->add_option("--batch", c.submit.batch, "Slices per forward pass")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  c.submit_cmd->add_option("--checkpoint", c.submit.checkpoint, "Which weights of each run: best or latest")
      ->capture_default_str()
      ->check(CLI::IsMember({"best", "latest"}));
  c.submit_cmd->add_flag("--cuda-graphs", c.submit.cuda_graphs,
                         "Each batch shape's forward as one CUDA graph (CUDA, not with --bn-batch-stats)");
  c.submit_cmd->add_flag("--tta", c.submit.tta,
                         "Test-time augmentation: each slice also mirrored in-plane, the probabilities averaged");
  c.submit_cmd->add_flag(
      "--bn-batch-stats", c.submit.bn_batch_stats,
      "BatchNorm with per-batch statistics, as the reference's test scripts (default: running stats)");

  c.evaluate_cmd = app.add_subcommand(
      "evaluate",
      "LiTS metrics of predicted label volumes against the truth: Dice per case / global, VOE, RVD, ASSD, MSSD");
  c.evaluate_cmd
      ->add_option("--pred", c.evaluate.pred,
                   "Folder of predicted label volumes, 0/1/2 (its *segmentation* files when it has any, else all)")
      ->required();
  c.evaluate_cmd
      ->add_option("--truth", c.evaluate.truth,
                   "Folder of true label volumes (as --pred), paired with the predictions by name, else by the "
                   "number in the name")
      ->required();
  c.evaluate_cmd->add_option("--json", c.evaluate.json, "Also write every figure as JSON to this file");
  c.evaluate_cmd->add_option("--csv", c.evaluate.csv, "Also write the per-case table as CSV to this file");
}

void add_data(CLI::App& app, Commands& c) {
  c.synth_cmd = app.add_subcommand(
      "synth", "Write phantom abdominal CT volumes with liver and lesion labels in the LiTS folder layout");
  c.synth_cmd->add_option("--out", c.synth.out, "Output folder (Training_Data/, Test_Data/, Test_Truth/ inside)")
      ->required();
  c.synth_cmd->add_option("--train", c.synth.train, "Training volumes")->capture_default_str();
  c.synth_cmd->add_option("--test", c.synth.test, "Test volumes (their truth goes to Test_Truth/)")
      ->capture_default_str();
  c.synth_cmd->add_option("--size", c.synth.phantom.size, "Height and width of every slice")->capture_default_str();
  c.synth_cmd->add_option("--slices", c.synth.phantom.slices, "Slices per volume")->capture_default_str();
  c.synth_cmd->add_option("--seed", c.synth.phantom.seed, "Random seed (the same seed gives the same files)")
      ->capture_default_str();

  c.convert_cmd = app.add_subcommand(
      "convert", "Convert LiTS NIfTI volumes (and segmentations) into the slice store the training reads");
  c.convert_cmd->add_option("--in", c.convert.in, "Folder with volume-N/segmentation-N files (or a synth output)")
      ->required();
  c.convert_cmd->add_option("--out", c.convert.out, "The slice store (created if missing; re-runs replace volumes)")
      ->required();
  c.convert_cmd->add_flag("--test", c.convert.test, "Test volumes (test-volume-N): images only");
  c.convert_cmd->add_option("--weightmaps", c.weightmaps, "Weightmap formulas of the reference: 2d or 3d")
      ->capture_default_str()
      ->check(CLI::IsMember({"2d", "3d"}));
  c.convert_cmd->add_option("--workers", c.convert.threads, "Volumes converted in parallel (0: one per core)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
}

void add_train(CLI::App& app, Commands& c) {
  c.train_cmd = app.add_subcommand(
      "train", "Train every run of a setup file on a slice store (checkpoints, log.csv, plot in a run folder)");
  c.train_cmd->add_option("--setup", c.train.setup, "Setup file (a path, or a name in models/presets/)");
  add_base_option(c.train_cmd, c.train.base);
  c.train_cmd->add_option("--data", c.train.train.data,
                          "Slice store from `lits convert` (default: the setup's Training_Path)");
  c.train_cmd->add_option(
      "--save", c.train.train.save,
      "Parent of the run folder (default: Save_Path, else SAVEDATA/Standard_{Liver,Lesion}_Networks)");
  c.train_cmd->add_option("--device", c.train.train.device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  c.train_cmd->add_option("--epochs", c.train.train.epochs, "Epochs (default: the setup's n_epochs)")
      ->check(CLI::NonNegativeNumber);
  add_precision_option(c.train_cmd, c.train.precision, " (default: the setup's precision, else fp32)");
  add_deterministic_flag(c.train_cmd, c.train.deterministic);
  c.train_cmd->add_flag("--cuda-graphs", c.train.train.cuda_graphs,
                        "Run each training step as one CUDA graph (CUDA, one process, no dropout)");
  c.train_cmd->add_flag("--no-date", c.train.train.no_date, "Run folder without the date (vUnet2D_<savename>)");
  c.train_cmd->add_option(
      "--resume", c.train.train.resume,
      "Continue this run folder from its checkpoint_latest (its config.json: setup, and store unless --data)");
  c.train_cmd->add_option("--init", c.train.train.init,
                          "Start from this trained run folder (its architecture and checkpoint_best weights)");
  c.train_cmd
      ->add_option("--workers", c.train.train.threads,
                   "Loader worker threads (default: 1 on the CPU, min(num_workers, cores) on CUDA)")
      ->check(CLI::NonNegativeNumber);
  c.train_cmd->add_option("--max-steps", c.train.train.max_steps,
                          "Stop after this many steps, writing checkpoint_latest (as on SIGINT); resume later");
  c.train_cmd->add_flag("--sync-bn", c.train.train.sync_bn,
                        "Under mpirun: BatchNorm statistics over all ranks' samples (default: each rank's own batch)");
  c.train_cmd->add_option("--bucket-mb", c.train.train.bucket_mb, "Under mpirun: gradient all-reduce bucket size, MiB")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  c.train_cmd->footer(
      "Data parallel: start one process per GPU (or per CPU socket) with an MPI launcher, e.g.\n"
      "  mpirun -np 4 lits train --setup Setup_Small_Liver.txt --data STORE --device cuda\n"
      "  srun --ntasks-per-node=4 --gpus-per-node=4 --mpi=pmix lits train ...   (Slurm)\n"
      "batch_size is per rank (a step trains ranks x batch_size samples); rank i uses GPU (local rank i) mod GPUs;\n"
      "only rank 0 writes the run folder. A checkpoint resumes with any number of ranks.");
}

void add_info(CLI::App& app, Commands& c) {
  c.info_cmd = app.add_subcommand(
      "info", "Per run of a setup file: resolved parameters, parameter count, per-level shapes, FLOPs per slice");
  c.info_cmd->add_option("--setup", c.info.setup, "Setup file (a path, or a name in models/presets/)")->required();
  add_base_option(c.info_cmd, c.info.base);
  c.info_cmd->add_option("--size", c.info.size, "Input height and width for the shapes and FLOPs")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  c.info_cmd->add_flag("--json", c.info.json, "Print JSON instead of text");
}

void add_forward(CLI::App& app, Commands& c) {
  ForwardOptions& f = c.forward;
  c.forward_cmd = app.add_subcommand(
      "forward",
      "One forward pass of a network on an .npy input, the output to an .npy (float64 by default, eval mode): for "
      "comparing the engine with other implementations value by value (tools/compare_torch.py)");
  CLI::Option* setup = c.forward_cmd->add_option(
      "--setup", f.setup, "Setup file (a path, or a name in models/presets/): its network, initialised from --seed");
  add_base_option(c.forward_cmd, f.base);
  c.forward_cmd->add_option("--run", f.run, "Which run of the setup file")->capture_default_str();
  c.forward_cmd->add_option("--seed", f.seed, "Seed of the setup network's initialisation")->capture_default_str();
  c.forward_cmd
      ->add_option("--model", f.model, "Instead of --setup: a run folder of `lits train` (its checkpoint_best)")
      ->excludes(setup);
  c.forward_cmd->add_option(
      "--weights", f.weights,
      "Load the model.<name> tensors of this safetensors file (a checkpoint, or a --save-weights file) first");
  c.forward_cmd->add_option("--save-weights", f.save_weights,
                            "Write the weights the pass starts from (parameters and buffers, float32, named "
                            "model.<name> as in checkpoints) to this .safetensors file");
  c.forward_cmd->add_option("--input", f.input, "Input .npy, float32 or float64 [N, C, H, W]")->required();
  c.forward_cmd->add_option("--output", f.output, "Output .npy [N, K, H, W] (probabilities, or logits)")->required();
  c.forward_cmd->add_option("--dtype", f.dtype, "Compute and output dtype: float64 or float32")
      ->capture_default_str()
      ->check(CLI::IsMember({"float32", "float64"}));
  c.forward_cmd->add_option("--device", f.device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  c.forward_cmd->add_flag("--train-mode", f.train_mode,
                          "Training mode: BatchNorm with the batch's statistics (and dropout, if the network has "
                          "any) instead of the running statistics");
}

void add_graph(CLI::App& app, Commands& c) {
  c.graph_cmd = app.add_subcommand(
      "graph", "Draw the network of a setup file as a Graphviz graph (.dot, and .svg when `dot` is installed)");
  c.graph_cmd->add_option("--setup", c.graph.setup, "Setup file (a path, or a name in models/presets/)")->required();
  add_base_option(c.graph_cmd, c.graph.base);
  c.graph_cmd->add_option("--out", c.graph.out, "Output .dot file")->required();
  c.graph_cmd->add_option("--run", c.graph.run, "Which run of the setup file")->capture_default_str();
}

void add_export(CLI::App& app, Commands& c) {
  ExportOptions& e = c.export_opts;
  c.export_cmd = app.add_subcommand(
      "export",
      "Write a run folder's trained network as an ONNX model (opset 17, evaluation mode, BatchNorm folded; input "
      "\"input\" [N, C, H, W], output \"probabilities\" [N, K, H, W]) for other runtimes");
  c.export_cmd->add_option("--run", e.run, "Run folder of `lits train` (config.json and its checkpoints)")->required();
  c.export_cmd->add_option("--onnx", e.onnx, "Output .onnx file (written atomically)")->required();
  c.export_cmd->add_option("--checkpoint", e.checkpoint, "Which weights of the run: best or latest")
      ->capture_default_str()
      ->check(CLI::IsMember({"best", "latest"}));
}

}  // namespace

int main(int argc, char** argv) {
  // A write beyond the file-size limit (ulimit -f) then fails with EFBIG like a full disk fails with
  // ENOSPC, so it is reported by the write that hit it (keeping the previous checkpoint, failing the one
  // volume) instead of killing the process half-way through.
  std::signal(SIGXFSZ, SIG_IGN);
  CLI::App app{
      "lits: liver and liver-lesion segmentation (LiTS) on a hand-written C++/CUDA engine.\n"
      "The reference pipeline's setup files and UNet (`info`, `graph`), phantom CT (`synth`), the slice store\n"
      "(`convert`), training (`train`), inference (`segment`, `submit`), the LiTS metrics (`evaluate`),\n"
      "benchmarks (`bench ops|loader|train|infer`), one forward pass on an .npy for comparisons with other\n"
      "implementations (`forward`), and `demo`: all of it end to end on phantom CT.\n"
      "Multi-GPU and multi-process training: `mpirun -np N lits train ...` (NCCL on GPUs, MPI on CPUs)."};
  app.require_subcommand(0, 1);
  bool show_version = false;
  app.add_flag("--version", show_version, "Print the build configuration and the devices found, then exit");
  int threads = 0;
  app.add_option("--threads", threads,
                 "Compute threads (OpenMP, oneDNN) of any command, before or after it: `lits segment --threads 1 "
                 "...` (default: OMP_NUM_THREADS, else one per core). Data loading threads are --workers")
      ->check(CLI::Range(1, 4096));
  bool debug = false;
  app.add_flag("--debug", debug,
               "Error messages end with the failed check and its source line (for bug reports; also LITS_DEBUG=1)");
  // The options above are taken after a command too (`lits segment ... --threads 1`).
  app.fallthrough();
  app.footer("Exit status: 0 done, 1 failed (the error says what and where), 2 usage error.");

  Commands c;
  add_demo(app, c);
  add_bench(app, c);
  add_inference(app, c);
  add_data(app, c);
  add_info(app, c);
  add_train(app, c);
  add_graph(app, c);
  add_forward(app, c);
  add_export(app, c);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    std::fprintf(stderr, "lits: error: %s\n", e.what());
    const std::string hint = usage_suggestion(app, std::vector<std::string>(argv + 1, argv + argc));
    if (!hint.empty()) std::fprintf(stderr, "lits: %s\n", hint.c_str());
    std::fprintf(stderr, "Run `lits --help`, or `lits COMMAND --help`, for the commands and their options.\n");
    return 2;
  }
  const char* debug_env = std::getenv("LITS_DEBUG");
  lits::set_error_locations(debug || (debug_env != nullptr && std::string(debug_env) == "1"));
  // Before any parallel region; oneDNN sizes its primitives by this count (kernels/conv_onednn.cpp).
  if (threads > 0) omp_set_num_threads(threads);
  try {
    if (show_version) {
      std::cout << version_text();
      return 0;
    }
    // Under an MPI launcher of several ranks, only training is data parallel: any other command would run
    // once per rank, each writing the same outputs.
    if (lits::mpi_job_size() > 1 && !*c.train_cmd && !*c.btrain_cmd) {
      std::fprintf(stderr,
                   "lits: error: started by %s as one of %d ranks, but only `lits train` and `lits bench train` run "
                   "data parallel; run this command as a single process\n",
                   lits::mpi_launcher().c_str(), lits::mpi_job_size());
      return 1;
    }
    if (*c.demo_cmd) return run_demo(c.demo);
    if (*c.ops_cmd) return run_bench_ops(c.bench_ops);
    if (*c.loader_cmd) return run_bench_loader(c.bench_loader);
    if (*c.btrain_cmd) return run_bench_train(c.bench_train);
    if (*c.binfer_cmd) return run_bench_infer(c.bench_infer);
    if (*c.segment_cmd) return run_segment(c.segment);
    if (*c.submit_cmd) return run_submit(c.submit);
    if (*c.evaluate_cmd) return run_evaluate(c.evaluate);
    if (*c.synth_cmd) return run_synth(c.synth);
    if (*c.convert_cmd) {
      c.convert.weightmaps = c.weightmaps == "2d" ? lits::WeightmapMode::k2d : lits::WeightmapMode::k3d;
      return run_convert(c.convert);
    }
    if (*c.info_cmd) return run_info(c.info);
    if (*c.train_cmd) return run_train(c.train);
    if (*c.graph_cmd) return run_graph(c.graph);
    if (*c.forward_cmd) return run_forward(c.forward);
    if (*c.export_cmd) return run_export(c.export_opts);
    std::cout << app.help();
    return 0;
  } catch (const lits::Error& e) {
    std::fprintf(stderr, "lits: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lits: unexpected error: %s\n", e.what());
    return 1;
  }
}
