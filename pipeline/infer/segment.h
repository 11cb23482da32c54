// `lits segment` and `lits submit` over NIfTI volumes (docs/reference.md sections 7.1-7.2), straight from
// the NIfTI files (no conversion step), one volume at a time:
//   segment: the liver ensemble on every slice, post-processed (postprocess.h) unless asked not to, written
//            as a uint8 mask with the volume's geometry under the input's own file name in the output
//            folder (patient_A.nii.gz -> OUT/patient_A.nii.gz); with save_probabilities also the ensemble's
//            probability of each class (background, liver: summing to 1 per voxel) before post-processing,
//            OUT/probabilities/patient_A_{background,liver}.nii.gz, uint16 scaled by scl_slope 1/65535 (NIfTI
//            has no float16 type; the same 2 bytes per voxel, steps of 1.5e-5) with the volume's geometry;
//   submit:  the lesion ensemble on every slice of the liver's z-range (its last slice included, unlike the
//            reference), masked by the liver mask of the same slice (the reference took the neighbour's), and
//            the LiTS submission file OUT/test-segmentation-N.nii (N the volume's number; NAME-segmentation.nii
//            for a volume without one) with 0 background, 1 liver, 2 lesion and the volume's geometry. Liver
//            masks pair with volumes by case (case_files.h): the same name, or the same number.
// Inputs are NIfTI files and folders of them (case_files.h). A volume whose slice axis is not
// superior-inferior is reordered to axial for the networks and its outputs back (orientation.h); a volume
// whose in-plane spacing is more than 1.5 times off the training volumes' gets a warning. A volume that
// cannot be read or processed is reported with the file and the reason; the others go on.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace lits {

struct SegmentOptions {
  std::vector<std::string> inputs;  // NIfTI files and folders of them
  std::string liver;                // submit: folder of the liver masks written by segment
  std::string out;                  // created when missing
  std::vector<std::string> models;  // run folders; more than one is an ensemble
  std::string device = "auto";
  int64_t batch = 4;                // slices per forward pass
  bool bn_batch_stats = false;      // the reference's train-mode BatchNorm at test time
  std::string checkpoint = "best";  // which weights of each run: "best" or "latest"
  bool postprocess = true;          // segment: largest component and closing (postprocess.h)
  bool tta = false;                 // test-time mirroring (inference.h)
  bool fast = false;                // segment: the networks at half resolution (inference.h)
  bool save_probabilities = false;  // segment: OUT/probabilities/NAME_{background,liver}.nii.gz
  bool cuda_graphs = false;         // each batch shape's forward as a CUDA graph (CUDA, eval mode)
};

struct VolumeOutcome {
  std::string input, output;
  bool ok = false;
  std::string error;             // the file and the reason, when not ok
  int64_t slices = 0;            // in the volume
  int64_t segmented_slices = 0;  // run through the networks
  int64_t z0 = 0, z1 = -1;       // the liver's slice range (inclusive), -1 when empty
  int64_t liver_voxels = 0, lesion_voxels = 0;
  double seconds = 0.0;
  std::string orientation;            // the file's axis directions ("RAS", "RSA", ...)
  bool reordered = false;             // segmented as an axial reordering of a non-axial stack
  std::vector<std::string> warnings;  // e.g. spacing far from the training volumes'
  std::vector<std::string> probability_files;
};

struct SegmentReport {
  std::vector<VolumeOutcome> volumes;  // in volume-number order
  int64_t failures = 0;
  double seconds = 0.0;
  double slices_per_s = 0.0;  // network slices per second of inference (reading and writing excluded)
};

// `progress` after each volume with (outcome, done, total); `slice_progress(done, total)` inside a volume.
using VolumeProgress = std::function<void(const VolumeOutcome&, int64_t, int64_t)>;
using SliceProgress = std::function<void(int64_t, int64_t)>;

SegmentReport segment_liver(const SegmentOptions& options, const VolumeProgress& progress = nullptr,
                            const SliceProgress& slice_progress = nullptr);
SegmentReport submit_lesions(const SegmentOptions& options, const VolumeProgress& progress = nullptr,
                             const SliceProgress& slice_progress = nullptr);

}  // namespace lits
