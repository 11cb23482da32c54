// `lits demo`: the whole LiTS pipeline on built-in phantom data, end to end, with the same code as the full
// pipeline (only sizes and epochs are small, models/presets/Demo_*.txt):
//   synth -> convert -> train liver -> train lesion (from the liver run) -> segment -> submit -> evaluate,
// each stage printing its own progress, then a summary: the LiTS metrics on the test phantoms, where every
// output is, and the time of every stage. Exit status 1 when a stage fails.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "engine/device.h"
#include "engine/error.h"
#include "pipeline/io/json.h"
#include "tools/commands.h"

namespace fs = std::filesystem;

namespace lits::tools {
namespace {

constexpr const char* kMarker = ".lits-demo";  // marks a folder this command may clear

// The demo's sizes: the full demo is meant for 2 CPU cores in under 10 minutes, --quick for tests.
// 256 x 256 phantoms: at 128 the reference's liver closing (a 5 x 5 in-plane box, sized for 512 x 512 CT)
// grows the small livers by a fifth, and lesions are only a few pixels across. --quick uses 128 all
// the same, for speed, and its bars allow for that.
// The liver network's bars, checked and reported at the end: its best validation Dice (what the
// trainer selects checkpoint_best on) and the LiTS liver Dice per case on the test phantoms after
// segment and post-processing. The full demo's 0.90 validation bar is Demo_Liver's claim (12 phantom
// volumes, 6 epochs); --quick, sized for the test suite, only has to show that the network learned
// and that every stage after training works.
struct DemoPlan {
  int train = 12, test = 4;
  int64_t size = 256, slices = 48;
  int64_t liver_epochs = -1, lesion_epochs = -1;  // -1: the presets' n_epochs
  double val_bar = 0.90, test_bar = 0.85;
};

DemoPlan plan_for(bool quick) {
  DemoPlan p;
  if (quick) {
    p.train = 7;
    p.test = 1;
    p.size = 128;
    p.slices = 24;
    p.liver_epochs = 3;
    p.lesion_epochs = 1;
    p.val_bar = 0.80;
    p.test_bar = 0.70;
  }
  return p;
}

// Clears `out` when it is an earlier demo (or empty / absent); anything else is refused.
void prepare_folder(const fs::path& out) {
  if (fs::exists(out)) {
    LITS_CHECK(fs::is_directory(out), "demo: --out '" << out.string() << "' exists and is not a folder");
    const bool empty = fs::directory_iterator(out) == fs::directory_iterator();
    LITS_CHECK(empty || fs::exists(out / kMarker), "demo: --out '"
                                                       << out.string()
                                                       << "' holds other files; give an empty or new folder "
                                                          "(an earlier demo folder is reused)");
    for (const auto& e : fs::directory_iterator(out)) fs::remove_all(e.path());
  }
  fs::create_directories(out);
  std::ofstream(out / kMarker) << "written by `lits demo`; the next demo into this folder replaces it\n";
}

std::string metric(const Json* s, const char* key, const char* format = "%.4f") {
  const Json* v = s ? s->find(key) : nullptr;
  if (v == nullptr || v->kind != Json::Kind::kNumber) return "n/a";
  char b[32];
  std::snprintf(b, sizeof b, format, v->number);
  return b;
}

}  // namespace

int run_demo(const DemoOptions& options) {
  const auto t_start = std::chrono::steady_clock::now();
  const Device device = parse_device(options.device);  // fails early on a bad --device
  const DemoPlan plan = plan_for(options.quick);
  const fs::path out = fs::absolute(options.out);
  prepare_folder(out);
  std::printf(
      "lits demo%s: the LiTS pipeline on phantom CT (%d training and %d test volumes of %lld x %lld x %lld) on %s\n"
      "  synth -> convert -> train liver -> train lesion -> segment -> submit -> evaluate, into %s\n\n",
      options.quick ? " --quick" : "", plan.train, plan.test, static_cast<long long>(plan.size),
      static_cast<long long>(plan.size), static_cast<long long>(plan.slices), device.label().c_str(), out.c_str());
  std::fflush(stdout);

  struct Stage {
    std::string name;
    double seconds = 0;
  };
  std::vector<Stage> stages;
  auto stage = [&](const char* name, const std::function<int()>& body) {
    std::printf("=== %s ===\n", name);
    std::fflush(stdout);
    const auto t0 = std::chrono::steady_clock::now();
    const int rc = body();
    stages.push_back({name, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()});
    std::printf("--- %s: %.1f s\n\n", name, stages.back().seconds);
    std::fflush(stdout);
    LITS_CHECK(rc == 0, "demo: stage '" << name << "' failed (exit status " << rc << "); see its messages above");
  };

  const fs::path data = out / "data", store = out / "store", runs = out / "runs";
  const fs::path liver_masks = out / "liver_masks", submission = out / "submission";
  const fs::path liver_run = runs / "Standard_Liver_Networks" / "vUnet2D_demo_liver";
  const fs::path lesion_run = runs / "Standard_Lesion_Networks" / "vUnet2D_demo_lesion";
  stage("synth", [&] {
    SynthOptions s;
    s.out = data.string();
    s.train = plan.train;
    s.test = plan.test;
    s.phantom.size = plan.size;
    s.phantom.slices = plan.slices;
    s.phantom.seed = options.seed;
    return run_synth(s);
  });
  stage("convert", [&] {
    ConvertOptions c;
    c.in = (data / "Training_Data").string();
    c.out = store.string();
    return run_convert(c);
  });
  stage("train liver", [&] {
    TrainCommandOptions t;
    t.setup = "Demo_Liver.txt";
    t.train.data = store.string();
    t.train.save = liver_run.parent_path().string();
    t.train.device = options.device;
    t.train.epochs = plan.liver_epochs;
    t.train.no_date = true;
    return run_train(t);
  });
  stage("train lesion", [&] {
    TrainCommandOptions t;
    t.setup = "Demo_Lesion.txt";
    t.train.data = store.string();
    t.train.save = lesion_run.parent_path().string();
    t.train.device = options.device;
    t.train.epochs = plan.lesion_epochs;
    t.train.no_date = true;
    t.train.init = liver_run.string();
    return run_train(t);
  });
  stage("segment", [&] {
    SegmentOptions s;
    s.inputs = {(data / "Test_Data").string()};
    s.models = {liver_run.string()};
    s.out = liver_masks.string();
    s.device = options.device;
    return run_segment(s);
  });
  stage("submit", [&] {
    SegmentOptions s;
    s.inputs = {(data / "Test_Data").string()};
    s.liver = liver_masks.string();
    s.models = {lesion_run.string()};
    s.out = submission.string();
    s.device = options.device;
    return run_submit(s);
  });
  stage("evaluate", [&] {
    EvaluateOptions e;
    e.pred = submission.string();
    e.truth = (data / "Test_Truth").string();
    e.json = (out / "evaluation.json").string();
    e.csv = (out / "evaluation.csv").string();
    return run_evaluate(e);
  });

  const Json ev = read_json_file((out / "evaluation.json").string());
  const Json *liver = ev.find("liver"), *lesion = ev.find("lesion");
  const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  std::printf("=== lits demo summary ===\n");
  std::printf("test phantoms: %d volumes (the LiTS metrics; liver = labels 1 + 2, lesion = label 2)\n", plan.test);
  std::printf("  %-7s Dice per case %s | Dice global %s | VOE %s | RVD %s | ASSD %s mm | MSSD %s mm\n", "liver",
              metric(liver, "dice_per_case").c_str(), metric(liver, "dice_global").c_str(),
              metric(liver, "voe").c_str(), metric(liver, "rvd").c_str(), metric(liver, "assd_mm", "%.2f").c_str(),
              metric(liver, "mssd_mm", "%.2f").c_str());
  std::printf("  %-7s Dice per case %s | Dice global %s | VOE %s | RVD %s | ASSD %s mm | MSSD %s mm\n", "lesion",
              metric(lesion, "dice_per_case").c_str(), metric(lesion, "dice_global").c_str(),
              metric(lesion, "voe").c_str(), metric(lesion, "rvd").c_str(), metric(lesion, "assd_mm", "%.2f").c_str(),
              metric(lesion, "mssd_mm", "%.2f").c_str());
  const Json best = read_json_file((liver_run / "checkpoint_best.json").string());
  const Json* val = best.find("best_val_dice");
  const Json* test = liver ? liver->find("dice_per_case") : nullptr;
  auto reached = [](const Json* v, double bar) { return v && v->kind == Json::Kind::kNumber && v->number >= bar; };
  const bool met = reached(val, plan.val_bar) && reached(test, plan.test_bar);
  std::printf("liver bars: best validation Dice %s (>= %.2f), test Dice per case %s (>= %.2f): %s\n",
              metric(&best, "best_val_dice").c_str(), plan.val_bar, metric(liver, "dice_per_case").c_str(),
              plan.test_bar, met ? "met" : "NOT met");
  std::printf("outputs:\n");
  std::printf("  phantom NIfTI data      %s\n", data.c_str());
  std::printf("  slice store             %s\n", store.c_str());
  std::printf("  liver run               %s (log.csv, training_results.svg, samples_*.png)\n", liver_run.c_str());
  std::printf("  lesion run              %s\n", lesion_run.c_str());
  std::printf("  liver masks             %s\n", liver_masks.c_str());
  std::printf("  submission              %s (test-segmentation-N.nii)\n", submission.c_str());
  std::printf("  metrics                 %s, %s\n", (out / "evaluation.json").c_str(),
              (out / "evaluation.csv").c_str());
  std::printf("time per stage:");
  for (const Stage& s : stages) std::printf("  %s %.0f s", s.name.c_str(), s.seconds);
  std::printf("\ntotal %.0f s on %s\n", total, device.label().c_str());
  return 0;
}

}  // namespace lits::tools
