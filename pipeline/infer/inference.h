// Inference with trained runs (docs/reference.md sections 7.1-7.3): a run folder's network rebuilt from its
// config.json with its checkpoint_best weights, and the ensemble's foreground probability of a volume's
// slices, batched, streamed slice batch by slice batch into a 0/1 mask (mean probability > 0.5), so no
// volume of probabilities is ever held.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/setup.h"
#include "models/unet.h"
#include "models/unet_fused.h"
#include "models/unet_graph.h"

namespace lits {

struct NiftiGeometry;  // pipeline/io/nifti.h

struct LoadedModel {
  std::string dir;
  Setup setup;
  std::unique_ptr<Generator> gen;  // outlives the network (dropout)
  std::unique_ptr<UNet> net;
  std::unique_ptr<FusedUNet> fused;  // the CPU's fused path over `net`, where it applies
  // CUDA graphs over `net` (InferenceOptions::cuda_graphs), made at the first batch that asks.
  mutable std::shared_ptr<GraphedForward> graphed;
  int channels = 1;
  bool standardize = false;
  int64_t divisor = 1;             // H and W must be multiples: 2^(levels-1)
  std::vector<float> input_table;  // hu_input_table(standardize), made once
  // The training volumes' median in-plane spacing (rows, columns) in mm from config.json; 0 for run folders
  // written before it was recorded.
  std::array<double, 2> training_spacing{0.0, 0.0};
};

// `dir` must be a run folder (config.json, checkpoint_<which>.safetensors; `which` is "best" or "latest");
// errors name it. The network is in
// eval mode (BatchNorm running statistics), or in training mode with `bn_batch_stats` (per-batch BatchNorm
// statistics and active dropout, as the reference's test scripts ran it). On the CPU in eval mode the
// slices go through the fused path (models/unet_fused.h) where the network allows it, unless the
// environment sets LITS_FUSED=0.
LoadedModel load_model(const std::string& dir, Device device, bool bn_batch_stats, const std::string& which = "best");

// A volume in the slice store's layout: slice k is image[k][i][j] = voxel (i, j, k), int16 HU.
struct SliceVolume {
  int64_t depth = 0, height = 0, width = 0;
  std::vector<int16_t> image;  // [depth, height, width]
};

// A NIfTI volume read into the slice store's layout; its geometry too when `geometry` is given. With
// `axial`, a volume whose third axis is not superior-inferior is reordered to be axial first
// (orientation.h) and *axial receives the order; the geometry stays the file's.
SliceVolume read_slice_volume(const std::string& path, NiftiGeometry* geometry = nullptr,
                              std::array<int, 3>* axial = nullptr);

// How the slices go through the networks: with test-time augmentation (each slice also mirrored in-plane:
// columns, rows and both; the four outputs mirrored back and averaged), and at half resolution (2 x 2
// blocks averaged in, the probabilities upsampled bilinearly: about 4 times fewer operations per slice).
struct InferenceOptions {
  bool tta = false;
  bool half_resolution = false;
  // On CUDA in eval mode, each batch shape's forward as a CUDA graph (models/unet_graph.h).
  bool cuda_graphs = false;
};

// Probabilities stored as uint16: p = value / kProbabilityScale (steps of 1.5e-5).
inline constexpr float kProbabilityScale = 65535.0f;

// The ensemble's mean foreground probability [count, height, width] of slices first .. first + count - 1,
// each model's input made as segment_slices describes.
std::vector<float> ensemble_probability(const std::vector<LoadedModel>& models, const SliceVolume& volume,
                                        int64_t first, int64_t count, Device device,
                                        const InferenceOptions& options = {});

// The mask [depth, height, width] of slices z0 .. z1 (inclusive; others 0): for each model, its `channels`
// slices around k (reflected at the ends as in training), windowed with its own standardisation, padded
// with -1024 HU to its size divisor; the foreground probability is the last output channel (softmax or
// sigmoid applied when the model outputs logits), averaged over the models (and mirrors); foreground where
// the mean exceeds 0.5. Optional `liver` [depth, height, width] zeroes the result outside it.
// `progress(done, total)` after every batch. With `probability`, also the mean foreground probability of
// every voxel ([depth, height, width], 0 outside z0 .. z1) as uint16 (kProbabilityScale), not masked.
std::vector<uint8_t> segment_slices(const std::vector<LoadedModel>& models, const SliceVolume& volume, int64_t z0,
                                    int64_t z1, int64_t batch, Device device,
                                    const std::vector<uint8_t>* liver = nullptr,
                                    const std::function<void(int64_t, int64_t)>& progress = nullptr,
                                    const InferenceOptions& options = {}, std::vector<uint16_t>* probability = nullptr);

}  // namespace lits
