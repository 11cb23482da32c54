// The `lits` command: one binary, one subcommand per stage of the pipeline. Errors from the
// library arrive as lits::Error and are printed as "lits: error: ..." with exit status 1.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "engine/error.h"
#include "pipeline/distributed.h"
#include "tools/commands.h"

int main(int argc, char** argv) {
  using namespace lits::tools;
  CLI::App app{
      "lits: liver and liver-lesion segmentation (LiTS) on a hand-written C++/CUDA engine.\n"
      "The reference pipeline's setup files and UNet (`info`, `graph`), phantom CT (`synth`), the slice store\n"
      "(`convert`), training (`train`), inference (`segment`, `submit`), the LiTS metrics (`evaluate`),\n"
      "benchmarks (`bench ops|loader|train|infer`), and `demo`: all of it end to end on phantom CT.\n"
      "Multi-GPU and multi-process training: `mpirun -np N lits train ...` (NCCL on GPUs, MPI on CPUs)."};
  app.require_subcommand(0, 1);
  bool show_version = false;
  app.add_flag("--version", show_version, "Print the build configuration and the devices found, then exit");

  DemoOptions demo;
  CLI::App* demo_cmd = app.add_subcommand(
      "demo",
      "The whole LiTS pipeline on built-in phantom CT: synth, convert, train liver and lesion networks, segment, "
      "submit, evaluate; prints the LiTS metrics, the outputs and the time per stage (about 5 minutes on 2 CPU "
      "cores)");
  demo_cmd->add_option("--out", demo.out, "Folder for everything the demo writes (an earlier demo folder is replaced)")
      ->capture_default_str();
  demo_cmd->add_option("--device", demo.device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  demo_cmd->add_flag("--quick", demo.quick, "Fewer and thinner volumes, fewer epochs (about 2 minutes; for tests)");
  demo_cmd->add_option("--seed", demo.seed, "Random seed")->capture_default_str();

  CLI::App* bench_cmd = app.add_subcommand("bench", "Benchmarks that print figures (never pass/fail)");
  bench_cmd->require_subcommand(1);
  BenchOpsOptions bench_ops;
  CLI::App* ops_cmd = bench_cmd->add_subcommand(
      "ops", "Time each engine op forward (+ backward where it has one) and report GB/s or GFLOP/s");
  ops_cmd->add_option("--device", bench_ops.device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  ops_cmd->add_flag("--quick", bench_ops.quick, "Small sizes and few repeats (smoke test)");
  ops_cmd->add_option("--repeats", bench_ops.repeats, "Timed repeats per op (the median is reported)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  ops_cmd->add_option("--json", bench_ops.json, "Also write the results as JSON to this file");
  BenchLoaderOptions bench_loader;
  CLI::App* loader_cmd = bench_cmd->add_subcommand(
      "loader", "Training samples per second through the threaded loader (window, channels, augmentation, crop)");
  loader_cmd->add_option("--data", bench_loader.data,
                         "Slice store from `lits convert` (default: a temporary 512 x 512 phantom store)");
  loader_cmd->add_option("--threads", bench_loader.threads, "Worker thread counts to measure (0: no workers)")
      ->capture_default_str()
      ->delimiter(',');
  loader_cmd->add_option("--task", bench_loader.task, "liver or lesion")
      ->capture_default_str()
      ->check(CLI::IsMember({"liver", "lesion"}));
  loader_cmd->add_option("--channels", bench_loader.channels, "Stacked slices per sample (odd)")
      ->capture_default_str()
      ->check(CLI::Range(1, 99));
  loader_cmd->add_option("--size", bench_loader.size, "Crop height and width (even)")->capture_default_str();
  loader_cmd->add_option("--batch", bench_loader.batch, "Batch size")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  loader_cmd->add_option("--batches", bench_loader.batches, "Batches timed per thread count (at most an epoch)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  loader_cmd->add_flag("--no-augment", bench_loader.no_augment, "Measure without rotation, zoom and flips");
  loader_cmd->add_flag("--quick", bench_loader.quick, "A small phantom store, 64 x 64 crops, 4 batches (smoke test)");
  loader_cmd->add_option("--json", bench_loader.json, "Also write the results as JSON to this file");

  BenchTrainOptions bench_train;
  CLI::App* btrain_cmd = bench_cmd->add_subcommand(
      "train",
      "Training steps of a setup's network: data / forward / backward / optimizer time, samples/s, peak memory");
  btrain_cmd->add_option("--setup", bench_train.setup, "Setup file (a path, or a name in models/presets/)")
      ->capture_default_str();
  btrain_cmd->add_option("--base", bench_train.base, "Baseline file the runs are merged onto")
      ->default_str("Baseline_Parameters.txt");
  btrain_cmd->add_option("--device", bench_train.device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  btrain_cmd->add_option("--data", bench_train.data, "Slice store (default: a temporary 512 x 512 phantom store)");
  btrain_cmd->add_option("--batch", bench_train.batch, "Batch size (default: the setup's batch_size)")
      ->check(CLI::NonNegativeNumber);
  btrain_cmd->add_option("--size", bench_train.size, "Crop height and width (default: the setup's crop_size)")
      ->check(CLI::NonNegativeNumber);
  btrain_cmd->add_option("--steps", bench_train.steps, "Timed steps (the median is reported)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  btrain_cmd->add_option("--warmup", bench_train.warmup, "Untimed steps first")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000));
  btrain_cmd->add_option("--threads", bench_train.threads, "Loader worker threads")
      ->capture_default_str()
      ->check(CLI::Range(0, 256));
  btrain_cmd->add_flag("--quick", bench_train.quick, "A small phantom store and 2 timed steps (smoke test)");
  btrain_cmd->add_option("--ranks", bench_train.ranks,
                         "Scaling: run data-parallel jobs of these rank counts (e.g. 1,2) with mpirun, the CPU "
                         "threads shared out, and report samples/s and efficiency per rank count");
  btrain_cmd->add_option("--json", bench_train.json, "Also write the results as JSON to this file");

  BenchInferOptions bench_infer;
  CLI::App* binfer_cmd = bench_cmd->add_subcommand(
      "infer", "Inference slices/s of a setup's network at full slice size (eval mode, as `lits segment` runs it)");
  binfer_cmd->add_option("--setup", bench_infer.setup, "Setup file (a path, or a name in models/presets/)")
      ->capture_default_str();
  binfer_cmd->add_option("--base", bench_infer.base, "Baseline file the runs are merged onto")
      ->default_str("Baseline_Parameters.txt");
  binfer_cmd->add_option("--device", bench_infer.device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  binfer_cmd->add_option("--size", bench_infer.size, "Slice height and width")
      ->capture_default_str()
      ->check(CLI::Range(8, 4096));
  binfer_cmd->add_option("--batch", bench_infer.batch, "Slices per forward pass")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  binfer_cmd->add_option("--repeats", bench_infer.repeats, "Timed passes (the median is reported)")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  binfer_cmd->add_flag("--quick", bench_infer.quick, "64 x 64, batch 1, one pass (smoke test)");

  lits::SegmentOptions segment;
  CLI::App* segment_cmd = app.add_subcommand(
      "segment", "Liver masks of NIfTI volumes with trained liver runs (largest component, closing), input geometry");
  segment_cmd->add_option("--volumes", segment.volumes, "Folder of *volume*-N.nii[.gz] files")->required();
  segment_cmd->add_option("--model", segment.models, "Liver run folder (repeat for an ensemble)")->required();
  segment_cmd->add_option("--out", segment.out, "Output folder: *liver*-N masks (uint8)")->required();
  segment_cmd->add_option("--device", segment.device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  segment_cmd->add_option("--batch", segment.batch, "Slices per forward pass")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  segment_cmd->add_flag(
      "--bn-batch-stats", segment.bn_batch_stats,
      "BatchNorm with per-batch statistics, as the reference's test scripts (default: running stats)");

  lits::SegmentOptions submit;
  CLI::App* submit_cmd = app.add_subcommand(
      "submit", "LiTS submission: lesions inside the liver masks of `segment`, test-segmentation-N.nii with 0/1/2");
  submit_cmd->add_option("--volumes", submit.volumes, "Folder of *volume*-N.nii[.gz] files")->required();
  submit_cmd->add_option("--liver", submit.liver, "Folder of the liver masks written by `lits segment`")->required();
  submit_cmd->add_option("--model", submit.models, "Lesion run folder (repeat for an ensemble)")->required();
  submit_cmd->add_option("--out", submit.out, "Output folder for test-segmentation-N.nii")->required();
  submit_cmd->add_option("--device", submit.device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  submit_cmd->add_option("--batch", submit.batch, "Slices per forward pass")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  submit_cmd->add_flag("--bn-batch-stats", submit.bn_batch_stats,
                       "BatchNorm with per-batch statistics, as the reference's test scripts (default: running stats)");

  EvaluateOptions evaluate;
  CLI::App* evaluate_cmd = app.add_subcommand(
      "evaluate",
      "LiTS metrics of predicted label volumes against the truth: Dice per case / global, VOE, RVD, ASSD, MSSD");
  evaluate_cmd->add_option("--pred", evaluate.pred, "Folder of *segmentation*-N.nii[.gz] predictions")->required();
  evaluate_cmd->add_option("--truth", evaluate.truth, "Folder of *segmentation*-N.nii[.gz] truth (paired by N)")
      ->required();
  evaluate_cmd->add_option("--json", evaluate.json, "Also write every figure as JSON to this file");
  evaluate_cmd->add_option("--csv", evaluate.csv, "Also write the per-case table as CSV to this file");

  lits::SynthOptions synth;
  CLI::App* synth_cmd = app.add_subcommand(
      "synth", "Write phantom abdominal CT volumes with liver and lesion labels in the LiTS folder layout");
  synth_cmd->add_option("--out", synth.out, "Output folder (Training_Data/, Test_Data/, Test_Truth/ inside)")
      ->required();
  synth_cmd->add_option("--train", synth.train, "Training volumes")->capture_default_str();
  synth_cmd->add_option("--test", synth.test, "Test volumes (their truth goes to Test_Truth/)")->capture_default_str();
  synth_cmd->add_option("--size", synth.phantom.size, "Height and width of every slice")->capture_default_str();
  synth_cmd->add_option("--slices", synth.phantom.slices, "Slices per volume")->capture_default_str();
  synth_cmd->add_option("--seed", synth.phantom.seed, "Random seed (the same seed gives the same files)")
      ->capture_default_str();

  lits::ConvertOptions convert;
  std::string weightmaps = "3d";
  CLI::App* convert_cmd = app.add_subcommand(
      "convert", "Convert LiTS NIfTI volumes (and segmentations) into the slice store the training reads");
  convert_cmd->add_option("--in", convert.in, "Folder with volume-N/segmentation-N files (or a synth output)")
      ->required();
  convert_cmd->add_option("--out", convert.out, "The slice store (created if missing; re-runs replace volumes)")
      ->required();
  convert_cmd->add_flag("--test", convert.test, "Test volumes (test-volume-N): images only");
  convert_cmd->add_option("--weightmaps", weightmaps, "Weightmap formulas of the reference: 2d or 3d")
      ->capture_default_str()
      ->check(CLI::IsMember({"2d", "3d"}));
  convert_cmd->add_option("--threads", convert.threads, "Volumes converted in parallel (0: one per core)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);

  InfoOptions info;
  CLI::App* info_cmd = app.add_subcommand(
      "info", "Per run of a setup file: resolved parameters, parameter count, per-level shapes, FLOPs per slice");
  info_cmd->add_option("--setup", info.setup, "Setup file (a path, or a name in models/presets/)")->required();
  info_cmd->add_option("--base", info.base, "Baseline file the runs are merged onto")
      ->default_str("Baseline_Parameters.txt");
  info_cmd->add_option("--size", info.size, "Input height and width for the shapes and FLOPs")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  info_cmd->add_flag("--json", info.json, "Print JSON instead of text");

  TrainCommandOptions train;
  CLI::App* train_cmd = app.add_subcommand(
      "train", "Train every run of a setup file on a slice store (checkpoints, log.csv, plot in a run folder)");
  train_cmd->add_option("--setup", train.setup, "Setup file (a path, or a name in models/presets/)");
  train_cmd->add_option("--base", train.base, "Baseline file the runs are merged onto")
      ->default_str("Baseline_Parameters.txt");
  train_cmd->add_option("--data", train.train.data,
                        "Slice store from `lits convert` (default: the setup's Training_Path)");
  train_cmd->add_option(
      "--save", train.train.save,
      "Parent of the run folder (default: Save_Path, else SAVEDATA/Standard_{Liver,Lesion}_Networks)");
  train_cmd->add_option("--device", train.train.device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  train_cmd->add_option("--epochs", train.train.epochs, "Epochs (default: the setup's n_epochs)")
      ->check(CLI::NonNegativeNumber);
  train_cmd->add_flag("--no-date", train.train.no_date, "Run folder without the date (vUnet2D_<savename>)");
  train_cmd->add_option("--resume", train.train.resume,
                        "Continue this run folder from its checkpoint_latest (its config.json: setup, and store unless --data)");
  train_cmd->add_option("--init", train.train.init,
                        "Start from this trained run folder (its architecture and checkpoint_best weights)");
  train_cmd
      ->add_option("--threads", train.train.threads,
                   "Loader worker threads (default: 1 on the CPU, min(num_workers, cores) on CUDA)")
      ->check(CLI::NonNegativeNumber);
  train_cmd->add_option("--max-steps", train.train.max_steps,
                        "Stop after this many steps, writing checkpoint_latest (as on SIGINT); resume later");
  train_cmd->add_flag("--sync-bn", train.train.sync_bn,
                      "Under mpirun: BatchNorm statistics over all ranks' samples (default: each rank's own batch)");
  train_cmd->add_option("--bucket-mb", train.train.bucket_mb, "Under mpirun: gradient all-reduce bucket size, MiB")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  train_cmd->footer(
      "Data parallel: start one process per GPU (or per CPU socket) with an MPI launcher, e.g.\n"
      "  mpirun -np 4 lits train --setup Setup_Small_Liver.txt --data STORE --device cuda\n"
      "  srun --ntasks-per-node=4 --gpus-per-node=4 --mpi=pmix lits train ...   (Slurm)\n"
      "batch_size is per rank (a step trains ranks x batch_size samples); rank i uses GPU (local rank i) mod GPUs;\n"
      "only rank 0 writes the run folder. A checkpoint resumes with any number of ranks.");

  GraphOptions graph;
  CLI::App* graph_cmd = app.add_subcommand(
      "graph", "Draw the network of a setup file as a Graphviz graph (.dot, and .svg when `dot` is installed)");
  graph_cmd->add_option("--setup", graph.setup, "Setup file (a path, or a name in models/presets/)")->required();
  graph_cmd->add_option("--base", graph.base, "Baseline file the runs are merged onto")
      ->default_str("Baseline_Parameters.txt");
  graph_cmd->add_option("--out", graph.out, "Output .dot file")->required();
  graph_cmd->add_option("--run", graph.run, "Which run of the setup file")->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (show_version) {
      std::cout << version_text();
      return 0;
    }
    // Under an MPI launcher of several ranks, only training is data parallel: any other command would run
    // once per rank, each writing the same outputs.
    if (lits::mpi_job_size() > 1 && !*train_cmd && !*btrain_cmd) {
      std::fprintf(stderr,
                   "lits: error: started by %s as one of %d ranks, but only `lits train` and `lits bench train` run "
                   "data parallel; run this command as a single process\n",
                   lits::mpi_launcher().c_str(), lits::mpi_job_size());
      return 1;
    }
    if (*demo_cmd) return run_demo(demo);
    if (*ops_cmd) return run_bench_ops(bench_ops);
    if (*loader_cmd) return run_bench_loader(bench_loader);
    if (*btrain_cmd) return run_bench_train(bench_train);
    if (*binfer_cmd) return run_bench_infer(bench_infer);
    if (*segment_cmd) return run_segment(segment);
    if (*submit_cmd) return run_submit(submit);
    if (*evaluate_cmd) return run_evaluate(evaluate);
    if (*synth_cmd) return run_synth(synth);
    if (*convert_cmd) {
      convert.weightmaps = weightmaps == "2d" ? lits::WeightmapMode::k2d : lits::WeightmapMode::k3d;
      return run_convert(convert);
    }
    if (*info_cmd) return run_info(info);
    if (*train_cmd) return run_train(train);
    if (*graph_cmd) return run_graph(graph);
    std::cout << app.help();
    return 0;
  } catch (const lits::Error& e) {
    std::fprintf(stderr, "lits: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lits: unexpected error: %s\n", e.what());
    return 2;
  }
}
