// The slice store (`lits convert`, docs/architecture.md section 9): LiTS NIfTI volumes turned into per-volume NumPy
// arrays in the reference's slice orientation (docs/reference.md section 4.2: slice k is A[i][j] = vox(i, j, k),
// no reorientation), with the boundary weightmaps precomputed and an index.json the loader reads.
// Layout, for a volume named `volume-N` (or `test-volume-N`):
//   OUT/volume-N/image.npy            int16 [D, H, W], HU after scl_slope/inter, truncated toward zero, clamped
//   OUT/volume-N/labels.npy           uint8 [D, H, W], 0 background, 1 liver, 2 lesion (training only)
//   OUT/volume-N/liver_weights.npy    float16 [D, H, W] (training only)
//   OUT/volume-N/lesion_weights.npy   float16 [D, H, W] (training only)
//   OUT/volume-N/volume.json          shape, spacing, sources, per-slice liver/lesion flags
//   OUT/index.json                    every volume.json of the store in one array
// with H = NIfTI dim i, W = dim j, D = dim k. Each volume is built in a hidden temporary folder and renamed
// into place, so the store only ever holds complete volumes, and a re-run replaces, never duplicates.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "pipeline/data/weightmap.h"

namespace lits {

struct ConvertOptions {
  std::string in;   // the LiTS folder: volume-N / segmentation-N, or test-volume-N with `test`
  std::string out;  // the store; created when missing
  bool test = false;
  WeightmapMode weightmaps = WeightmapMode::k3d;  // the reference's quick start runs the 3D script
  int threads = 0;                                // volumes converted at once; 0 = hardware concurrency
};

// One volume of the store: the contents of its volume.json.
struct StoreEntry {
  std::string name;                           // "volume-N" or "test-volume-N", also the folder name
  std::vector<std::string> sources;           // the image, then the segmentation (absolute paths)
  std::array<int64_t, 3> shape{0, 0, 0};      // [D, H, W]
  std::array<double, 3> spacing_mm{0, 0, 0};  // (slice, row, column) = (pixdim[3], pixdim[1], pixdim[2])
  std::string orientation;                    // of the source affine ("RAS", ...), for information only
  std::string nifti_datatype;                 // the image's datatype in its file ("int16", ...)
  bool labels = false;                        // labels.npy and both weightmaps are present (training)
  std::string weightmaps;                     // "2d", "3d", or empty without labels
  std::vector<uint8_t> liver;                 // per slice: 1 when the slice has a label >= 1 (empty without labels)
  std::vector<uint8_t> lesion;                // per slice: 1 when the slice has a label == 2
  int64_t liver_slices = 0, lesion_slices = 0;
  int64_t liver_voxels = 0, lesion_voxels = 0;  // label >= 1, label == 2
  int64_t bytes = 0;                            // the .npy files together
};

struct ConvertFailure {
  std::string file;    // the input file at fault
  std::string reason;  // what was wrong with it
};

// What convert_dataset reports after each volume, in completion order (serialised: never two at once).
struct ConvertProgress {
  int done = 0, total = 0;
  std::string name;
  bool ok = false;
  const StoreEntry* entry = nullptr;        // when ok
  const ConvertFailure* failure = nullptr;  // when not
  double seconds = 0.0;
};

struct ConvertReport {
  std::vector<StoreEntry> converted;     // ordered by volume number
  std::vector<ConvertFailure> failures;  // ordered by volume number
  int64_t bytes_written = 0;             // the .npy and volume.json files written by this run
  int64_t store_volumes = 0;             // entries of the index.json written at the end
  int threads = 0;                       // workers used
  std::vector<std::string> ignored;      // NIfTI files of the folder not named as LiTS files (not converted)
  double seconds = 0.0;
};

// Converts every volume found in options.in. A bad volume (missing partner file, shape mismatch, unreadable
// or non-NIfTI file, unsupported datatype, 4D data, labels outside 0/1/2) becomes a ConvertFailure naming
// the file and the reason; the other volumes go on, and the failed one leaves nothing in the store (a
// complete earlier conversion of it stays). index.json is rewritten at the end from every volume folder
// in the store. Throws lits::Error only for problems with the folders themselves or the options.
ConvertReport convert_dataset(const ConvertOptions& options,
                              const std::function<void(const ConvertProgress&)>& progress = nullptr);

// Bytes the store spends on one H x W slice: image 2 B per pixel, plus labels 1 B and two float16
// weightmaps 4 B for training volumes (7 B per pixel: 1.75 MiB for 512 x 512).
int64_t store_bytes_per_slice(bool labels, int64_t height = 512, int64_t width = 512);

// The store's index.json, as written by convert_dataset. The JSON reader reads only the store's own files
// (objects, arrays, strings, numbers, booleans); anything else is a lits::Error naming the file.
std::vector<StoreEntry> read_store_index(const std::string& out_dir);
// One volume's volume.json.
StoreEntry read_volume_json(const std::string& path);

// NIfTI voxel order (i fastest: (k * nj + j) * ni + i) to the store's [D, H, W] = (k, i, j) order and back.
// dims = the NIfTI (ni, nj, nk). Images are truncated toward zero and clamped to int16, as convert does.
std::vector<int16_t> store_image_from_nifti(const std::vector<float>& values, const std::array<int64_t, 3>& dims);
std::vector<uint8_t> store_mask_from_nifti(const std::vector<uint8_t>& voxels, const std::array<int64_t, 3>& dims);
std::vector<uint8_t> nifti_mask_from_store(const std::vector<uint8_t>& mask, const std::array<int64_t, 3>& dims);
std::vector<uint16_t> nifti_mask_from_store(const std::vector<uint16_t>& mask, const std::array<int64_t, 3>& dims);

struct StoredVolume {
  StoreEntry entry;
  std::vector<int16_t> image;           // [D, H, W]
  std::vector<uint8_t> labels;          // [D, H, W], empty without labels
  std::vector<uint16_t> liver_weights;  // float16 bits (half_to_float), empty without labels
  std::vector<uint16_t> lesion_weights;
};
// Reads a whole volume back from the store, checking every array's dtype and shape against volume.json.
StoredVolume read_stored_volume(const std::string& out_dir, const std::string& name);

}  // namespace lits
