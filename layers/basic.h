// Parameter-free layers: LeakyReLU, MaxPool2d, UpsampleNearest2x, Dropout2d.
#pragma once

#include "engine/ops.h"
#include "layers/module.h"

namespace lits {

class LeakyReLU : public Module {
 public:
  explicit LeakyReLU(double slope = 0.05) : Module("LeakyReLU"), slope_(slope) {}
  Tensor forward(const Tensor& x) override { return leaky_relu(x, slope_); }

 private:
  double slope_;
};

class MaxPool2d : public Module {
 public:
  MaxPool2d(int64_t kernel = 3, int64_t stride = 2, int64_t padding = 1)
      : Module("MaxPool2d"), kernel_(kernel), stride_(stride), padding_(padding) {}
  Tensor forward(const Tensor& x) override { return max_pool2d(x, kernel_, stride_, padding_); }

 private:
  int64_t kernel_, stride_, padding_;
};

class UpsampleNearest2x : public Module {
 public:
  UpsampleNearest2x() : Module("UpsampleNearest2x") {}
  Tensor forward(const Tensor& x) override { return upsample_nearest2x(x); }
};

// Whole-channel dropout in training mode, identity in evaluation. Masks come from `gen` (the
// default generator unless given), whose state a checkpoint saves.
class Dropout2d : public Module {
 public:
  explicit Dropout2d(double p, Generator& gen = default_generator());
  Tensor forward(const Tensor& x) override { return dropout2d(x, p_, is_training(), *gen_); }

 private:
  double p_;
  Generator* gen_;
};

}  // namespace lits
