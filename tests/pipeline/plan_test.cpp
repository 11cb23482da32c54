// The training plan: the setup's training keys read once, typed, and refused beyond their limits with
// the key, the value and the limit named, before anything is built.
#include <gtest/gtest.h>

#include "pipeline/train/plan.h"
#include "tests/support/errors.h"
#include "tests/support/tiny_run.h"

namespace lits::testing {
namespace {

TEST(TrainPlan, ReadsEachKeyOnce) {
  const TrainPlan p = make_train_plan(tiny_setup());
  EXPECT_EQ(p.task, DataTask::kLiver);
  EXPECT_EQ(p.data.task, DataTask::kLiver);
  EXPECT_EQ(p.batch_size, 2);
  EXPECT_EQ(p.epochs, 2);
  EXPECT_EQ(p.data.crop_height, 32);
  EXPECT_EQ(p.data.channels, 1);  // from the network
  EXPECT_DOUBLE_EQ(p.schedule.lr_at(0), 3e-3);
  EXPECT_EQ(make_train_plan(tiny_setup(), 7).epochs, 7);  // --epochs overrides n_epochs
}

TEST(TrainPlan, ValuesBeyondTheLimitsAreRefused) {
  const auto refused = [](const char* key, const char* value, std::initializer_list<const char*> parts) {
    lits::Setup s = tiny_setup();
    s.set("Training", key, parse_value(value, "test"));
    expect_contains(error_of([&] { make_train_plan(s); }), parts);
  };
  refused("batch_size", "100000000", {"batch_size 100000000", "1 to 4096"});
  refused("batch_size", "0", {"batch_size 0", "1 to 4096"});
  refused("crop_size", "[32, 100000]", {"crop_size [32, 100000]", "1 to 8192"});
  refused("n_epochs", "1000000000", {"n_epochs 1000000000", "0 to 100000"});
  refused("num_workers", "100000", {"num_workers 100000", "0 to 256"});
  refused("crop_size", "[30, 30]", {"crop_size [30, 30]", "divisible", "4"});
  lits::Setup deep = tiny_setup();
  deep.set("Network", "structure", parse_value("[2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]", "test"));
  expect_contains(error_of([&] { make_train_plan(deep); }), {"12 levels", "at most 10"});
}

TEST(TrainPlan, PrecisionIsFp32UnlessTheSetupSaysOtherwise) {
  EXPECT_EQ(make_train_plan(tiny_setup()).precision, Precision::kFp32);
  for (const char* name : {"fp32", "tf32", "bf16"}) {
    lits::Setup s = tiny_setup();
    s.set("Training", "precision", Value::string(name));
    EXPECT_STREQ(precision_name(make_train_plan(s).precision), name);
  }
  lits::Setup s = tiny_setup();
  s.set("Training", "precision", Value::string("fp16"));
  expect_contains(error_of([&] { make_train_plan(s); }), {"precision", "'fp16'", "fp32, tf32 or bf16"});
  // A setup file may carry the key under # Training.
  const lits::Setup parsed = parse_setup_text("# Training\nprecision: 'bf16'\n", "t.txt");
  EXPECT_EQ(parsed.get<std::string>("precision"), "bf16");
}

}  // namespace
}  // namespace lits::testing
