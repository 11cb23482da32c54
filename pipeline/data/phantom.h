// Phantom abdominal CT in the LiTS layout (`lits synth`): the built-in data the whole pipeline can be run
// and tested on without downloading LiTS. Each volume is a body outline with fat and muscle, spine,
// ribs, aorta, kidneys, bowel gas, a smoothly deformed liver spanning a sub-range of the slices and
// 0..6 hypodense lesions inside it, in HU, with partial-volume blur and CT noise on the image only.
// Spacing (0.6..1.0 mm in-plane, 1..5 mm between slices) and orientation (RAS or LAS) vary per volume.
// Everything is a function of (seed, set, volume index), so a dataset is the same on every machine and
// for every thread count.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "pipeline/io/nifti.h"

namespace lits {

struct PhantomOptions {
  int64_t size = 128;   // H: every slice is H x H voxels
  int64_t slices = 48;  // D
  uint64_t seed = 1;
};

struct Phantom {
  NiftiGeometry geometry;       // int16-ready: qform and sform set, every field exact in NIfTI-1's floats
  std::vector<float> hu;        // integers in [-1024, 3071], NIfTI voxel order (i fastest, then j, then k)
  std::vector<uint8_t> labels;  // 0 background, 1 liver, 2 lesion (lesions only inside the liver)
  int lesions = 0;              // lesions with at least one labelled voxel
};

// Volume `volume_index` of the training set (test_set false) or of the test set. The anatomy is built in
// patient (RAS+ world) millimetres and sampled through the voxel-to-world affine, so the liver stays on the
// patient's right whichever way the first axis runs, and spacing changes voxel shapes as in a scanner.
// In every set, volume 0 has lesions and volume 1 has none; of the others about a quarter have none.
Phantom make_phantom(const PhantomOptions& options, int64_t volume_index, bool test_set);

struct SynthOptions {
  std::string out;  // the dataset folder
  int train = 12;
  int test = 4;
  PhantomOptions phantom;
};

// What write_synth_dataset reports after each volume (image and labels) is on disk.
struct SynthVolumeInfo {
  std::string image;   // path of the image file
  std::string labels;  // path of its segmentation
  bool test_set = false;
  int64_t index = 0;
  std::array<int64_t, 3> dims{0, 0, 0};
  std::array<double, 3> spacing{0.0, 0.0, 0.0};
  std::string orientation;  // "RAS" or "LAS"
  int lesions = 0;
  int64_t bytes = 0;  // both files together
};

// Writes out/Training_Data/{volume,segmentation}-i.nii.gz (i < train), out/Test_Data/test-volume-i.nii.gz
// and out/Test_Truth/test-segmentation-i.nii.gz (i < test), creating the folders; images are int16, labels
// uint8, every file written atomically. An existing `out` must be empty or a previous synth output (only
// those three folders, holding only files named as LiTS names them): its files of the same names are
// replaced and its LiTS-named files beyond the new counts removed, so the folder always holds exactly one
// dataset. Anything else there is an error, and nothing is written. `progress` (optional) is called
// after each volume, in order.
void write_synth_dataset(const SynthOptions& options,
                         const std::function<void(const SynthVolumeInfo&)>& progress = nullptr);

}  // namespace lits
