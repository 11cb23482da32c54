// libFuzzer target: setup files on any text, as `lits info` and `lits train` read them: a complete
// setup, or runs of variations merged onto the Baseline; then every run's network configuration and
// training plan resolved (with their limits), without building anything.
#include "models/setup.h"
#include "models/unet_config.h"
#include "pipeline/train/plan.h"
#include "tests/fuzz/fuzz_file.h"

namespace {

const lits::Setup& baseline() {
  static const lits::Setup base = lits::parse_setup_file(LITS_FUZZ_PRESETS "/Baseline_Parameters.txt");
  return base;
}

void resolve(const lits::Setup& s) {
  lits::fuzz::refused_or_read([&] { lits::unet_config_from(s); });
  lits::fuzz::refused_or_read([&] {
    lits::TrainPlan plan = lits::make_train_plan(s);
    lits::set_plan_network(plan, lits::unet_config_from(s));
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  lits::fuzz::refused_or_read([&] {
    if (lits::has_run_separator(text)) {
      for (const lits::Setup& s : lits::expand_variations_text(baseline(), text, "input.txt")) resolve(s);
    } else {
      resolve(lits::parse_setup_text(text, "input.txt"));
    }
  });
  return 0;
}
