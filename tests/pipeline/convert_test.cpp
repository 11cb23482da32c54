// The slice store (`lits convert`): layout and dtypes, image and labels in the reference's [k][i][j] order
// read back voxel for voxel, weightmaps bit-exact against compute_weightmaps, per-slice flags, index.json,
// idempotent re-runs, test mode, one named failure per bad input with nothing half-written left behind, and
// the same store whatever the thread count.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "pipeline/data/convert.h"
#include "pipeline/data/phantom.h"
#include "pipeline/data/weightmap.h"
#include "pipeline/io/json.h"
#include "pipeline/io/nifti.h"
#include "pipeline/io/npy.h"
#include "tests/support/errors.h"

namespace lits::testing {
namespace {

namespace fs = std::filesystem;

// Each test works in a fresh folder of its own holding a small synthetic LiTS dataset, removed afterwards.
class Convert : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lits_convert_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    SynthOptions s;
    s.out = (dir_ / "lits").string();
    s.train = 3;
    s.test = 1;
    s.phantom.size = 64;
    s.phantom.slices = 16;
    write_synth_dataset(s);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string train_dir() const { return (dir_ / "lits" / "Training_Data").string(); }
  std::string store() const { return (dir_ / "store").string(); }

  ConvertOptions options(int threads = 2) const {
    ConvertOptions o;
    o.in = train_dir();
    o.out = store();
    o.threads = threads;
    return o;
  }

  // Every file under `root` (relative name -> contents), to compare whole stores.
  static std::vector<std::pair<std::string, std::string>> contents(const fs::path& root) {
    std::vector<std::pair<std::string, std::string>> files;
    for (const auto& f : fs::recursive_directory_iterator(root)) {
      if (!f.is_regular_file()) continue;
      std::ifstream in(f.path(), std::ios::binary);
      files.emplace_back(fs::relative(f.path(), root).string(),
                         std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
    }
    std::sort(files.begin(), files.end());
    return files;
  }

  std::vector<std::string> entries_in(const fs::path& folder) const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(folder)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  fs::path dir_;
};

TEST_F(Convert, StoreHoldsTheVolumesInSliceOrderWithExactWeightmaps) {
  const ConvertReport report = convert_dataset(options());
  ASSERT_TRUE(report.failures.empty()) << report.failures[0].file << ": " << report.failures[0].reason;
  ASSERT_EQ(report.converted.size(), 3u);
  EXPECT_EQ(report.store_volumes, 3);
  EXPECT_EQ(entries_in(store()), (std::vector<std::string>{"index.json", "volume-0", "volume-1", "volume-2"}));

  for (int n = 0; n < 3; ++n) {
    const std::string name = "volume-" + std::to_string(n);
    EXPECT_EQ(entries_in(fs::path(store()) / name),
              (std::vector<std::string>{"image.npy", "labels.npy", "lesion_weights.npy", "liver_weights.npy",
                                        "volume.json"}));
    const std::string image_path = train_dir() + "/volume-" + std::to_string(n) + ".nii.gz";
    const NiftiVolume nifti = read_nifti(image_path);
    const std::vector<uint8_t> seg = read_nifti_labels(train_dir() + "/segmentation-" + std::to_string(n) + ".nii.gz");
    const NiftiGeometry& g = nifti.geometry;
    const int64_t ni = g.dims[0], nj = g.dims[1], nk = g.dims[2];

    const StoredVolume s = read_stored_volume(store(), name);
    const StoreEntry& e = s.entry;
    EXPECT_EQ(e.name, name);
    EXPECT_EQ(e.shape, (std::array<int64_t, 3>{nk, ni, nj}));
    EXPECT_EQ(e.spacing_mm, (std::array<double, 3>{g.pixdim[2], g.pixdim[0], g.pixdim[1]}));
    EXPECT_EQ(e.orientation, g.orientation());
    EXPECT_EQ(e.nifti_datatype, "int16");
    EXPECT_TRUE(e.labels);
    EXPECT_EQ(e.weightmaps, "3d");
    ASSERT_EQ(e.sources.size(), 2u);
    EXPECT_EQ(e.sources[0], image_path);
    EXPECT_EQ(e.bytes, nk * store_bytes_per_slice(true, ni, nj) + 4 * 128);  // four .npy headers of 128 B

    // image[k][i][j] = vox(i, j, k), every voxel; labels the same way.
    ASSERT_EQ(s.image.size(), nifti.values.size());
    std::vector<uint8_t> labels_kij(seg.size());
    std::vector<uint8_t> liver(static_cast<size_t>(nk), 0), lesion(static_cast<size_t>(nk), 0);
    for (int64_t k = 0; k < nk; ++k)
      for (int64_t j = 0; j < nj; ++j)
        for (int64_t i = 0; i < ni; ++i) {
          const size_t src = static_cast<size_t>((k * nj + j) * ni + i),
                       dst = static_cast<size_t>((k * ni + i) * nj + j);
          ASSERT_EQ(s.image[dst], static_cast<int16_t>(nifti.values[src]))
              << name << " voxel " << i << "," << j << "," << k;
          labels_kij[dst] = seg[src];
          liver[static_cast<size_t>(k)] |= seg[src] >= 1;
          lesion[static_cast<size_t>(k)] |= seg[src] == 2;
        }
    EXPECT_EQ(s.labels, labels_kij);
    EXPECT_EQ(e.liver, liver);
    EXPECT_EQ(e.lesion, lesion);
    EXPECT_EQ(e.liver_slices, std::count(liver.begin(), liver.end(), 1));
    EXPECT_EQ(e.lesion_slices, std::count(lesion.begin(), lesion.end(), 1));
    EXPECT_EQ(e.liver_voxels, std::count_if(seg.begin(), seg.end(), [](uint8_t v) { return v >= 1; }));
    EXPECT_GT(e.liver_slices, 0);
    // The phantom's volume 0 always has lesions, its volume 1 none.
    if (n == 0) {
      EXPECT_GT(e.lesion_slices, 0);
    }
    if (n == 1) {
      EXPECT_EQ(e.lesion_slices, 0);
    }

    const Weightmaps w = compute_weightmaps(labels_kij, {nk, ni, nj}, e.spacing_mm, WeightmapMode::k3d);
    std::vector<uint16_t> liver_half, lesion_half;
    for (float v : w.liver) liver_half.push_back(float_to_half(v));
    for (float v : w.lesion) lesion_half.push_back(float_to_half(v));
    EXPECT_EQ(s.liver_weights, liver_half);
    EXPECT_EQ(s.lesion_weights, lesion_half);
  }

  // index.json: the three volume.json entries, in order, equal to what each folder holds.
  const std::vector<StoreEntry> index = read_store_index(store());
  ASSERT_EQ(index.size(), 3u);
  for (size_t v = 0; v < 3; ++v) {
    const StoreEntry one = read_volume_json(store() + "/" + index[v].name + "/volume.json");
    EXPECT_EQ(index[v].name, "volume-" + std::to_string(v));
    EXPECT_EQ(index[v].shape, one.shape);
    EXPECT_EQ(index[v].spacing_mm, one.spacing_mm);
    EXPECT_EQ(index[v].liver, one.liver);
    EXPECT_EQ(index[v].lesion, one.lesion);
  }
  // NumPy sees int16 / uint8 / float16 arrays of shape [D, H, W].
  EXPECT_EQ(read_npy(store() + "/volume-0/image.npy").type, NpyType::kInt16);
  EXPECT_EQ(read_npy(store() + "/volume-0/labels.npy").type, NpyType::kUInt8);
  EXPECT_EQ(read_npy(store() + "/volume-0/liver_weights.npy").type, NpyType::kFloat16);
}

TEST_F(Convert, TwoDimensionalMapsFollowThe2dFormulas) {
  ConvertOptions o = options();
  o.weightmaps = WeightmapMode::k2d;
  ASSERT_TRUE(convert_dataset(o).failures.empty());
  const StoredVolume s = read_stored_volume(store(), "volume-0");
  EXPECT_EQ(s.entry.weightmaps, "2d");
  const Weightmaps w = compute_weightmaps(s.labels, s.entry.shape, s.entry.spacing_mm, WeightmapMode::k2d);
  std::vector<uint16_t> liver_half;
  for (float v : w.liver) liver_half.push_back(float_to_half(v));
  EXPECT_EQ(s.liver_weights, liver_half);
}

TEST_F(Convert, ARerunReplacesAndNeverDuplicates) {
  ASSERT_TRUE(convert_dataset(options()).failures.empty());
  const auto first = contents(store());
  // A leftover of a crashed run (a process id that cannot be alive) is cleared too.
  fs::create_directories(fs::path(store()) / ".tmp-volume-1-999999999");
  const ConvertReport again = convert_dataset(options());
  EXPECT_TRUE(again.failures.empty());
  EXPECT_EQ(again.store_volumes, 3);
  EXPECT_EQ(contents(store()), first);
  EXPECT_EQ(read_store_index(store()).size(), 3u);
  EXPECT_EQ(entries_in(store()), (std::vector<std::string>{"index.json", "volume-0", "volume-1", "volume-2"}));
}

// Names in capitals (as some exports write them) are LiTS names too; NIfTI files of other names are
// listed as ignored rather than skipped without a word.
TEST_F(Convert, NamesInAnyLetterCaseAndOtherNiftiFilesReported) {
  const fs::path t(train_dir());
  fs::rename(t / "volume-2.nii.gz", t / "Volume-2.NII.GZ");
  fs::rename(t / "segmentation-2.nii.gz", t / "SEGMENTATION-2.nii.gz");
  fs::copy_file(t / "volume-0.nii.gz", t / "patient_A.nii.gz");
  const ConvertReport r = convert_dataset(options());
  EXPECT_TRUE(r.failures.empty());
  EXPECT_EQ(r.store_volumes, 3);
  EXPECT_EQ(r.ignored, (std::vector<std::string>{"patient_A.nii.gz"}));
  ASSERT_EQ(r.converted.size(), 3u);
  EXPECT_EQ(r.converted[2].name, "volume-2");
  EXPECT_TRUE(r.converted[2].labels);  // SEGMENTATION-2 was read as its segmentation
}

TEST_F(Convert, ThreadCountDoesNotChangeTheStore) {
  ConvertOptions one = options(1), two = options(2);
  two.out = (dir_ / "store2").string();
  ASSERT_TRUE(convert_dataset(one).failures.empty());
  const ConvertReport r2 = convert_dataset(two);
  ASSERT_TRUE(r2.failures.empty());
  EXPECT_EQ(r2.threads, 2);
  EXPECT_EQ(contents(one.out), contents(two.out));
}

TEST_F(Convert, TestModeStoresTheImageOnly) {
  ConvertOptions o = options();
  o.in = (dir_ / "lits").string();  // the dataset root: its Test_Data folder is used
  o.test = true;
  const ConvertReport report = convert_dataset(o);
  ASSERT_TRUE(report.failures.empty());
  ASSERT_EQ(report.converted.size(), 1u);
  EXPECT_EQ(entries_in(fs::path(store()) / "test-volume-0"), (std::vector<std::string>{"image.npy", "volume.json"}));
  const StoredVolume s = read_stored_volume(store(), "test-volume-0");
  EXPECT_FALSE(s.entry.labels);
  EXPECT_TRUE(s.entry.liver.empty());
  EXPECT_TRUE(s.labels.empty());
  const NiftiVolume nifti = read_nifti((dir_ / "lits" / "Test_Data" / "test-volume-0.nii.gz").string());
  const auto& d = nifti.geometry.dims;
  EXPECT_EQ(s.image[static_cast<size_t>((5 * d[0] + 7) * d[1] + 11)],
            static_cast<int16_t>(nifti.values[static_cast<size_t>((5 * d[1] + 11) * d[0] + 7)]));
  EXPECT_EQ(store_bytes_per_slice(false), 512 * 512 * 2);
  EXPECT_EQ(store_bytes_per_slice(true), 7 * 512 * 512);
}

TEST_F(Convert, BadInputIsNamedAndTheRestIsConverted) {
  const fs::path in = train_dir();
  // volume-3: no segmentation.
  fs::copy_file(in / "volume-0.nii.gz", in / "volume-3.nii.gz");
  // volume-4: a segmentation of other dims.
  fs::copy_file(in / "volume-0.nii.gz", in / "volume-4.nii.gz");
  write_nifti_mask((in / "segmentation-4.nii.gz").string(), make_nifti_geometry({32, 32, 8}, {1.0, 1.0, 2.0}),
                   std::vector<uint8_t>(32 * 32 * 8, 0));
  // volume-9: not a NIfTI file.
  std::ofstream(in / "volume-9.nii.gz") << "this is not a NIfTI file";
  fs::copy_file(in / "segmentation-0.nii.gz", in / "segmentation-9.nii.gz");
  // volume-5: a label 3.
  fs::copy_file(in / "volume-0.nii.gz", in / "volume-5.nii.gz");
  const NiftiGeometry g = read_nifti_geometry((in / "volume-0.nii.gz").string());
  std::vector<uint8_t> labels = read_nifti_labels((in / "segmentation-0.nii.gz").string());
  labels[17] = 3;
  write_nifti_mask((in / "segmentation-5.nii.gz").string(), g, labels);
  // volume-7: truncated.
  {
    std::ifstream whole(in / "volume-0.nii.gz", std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(whole)), std::istreambuf_iterator<char>());
    std::ofstream(in / "volume-7.nii.gz", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
    fs::copy_file(in / "segmentation-0.nii.gz", in / "segmentation-7.nii.gz");
  }
  // segmentation-6: no volume.
  fs::copy_file(in / "segmentation-0.nii.gz", in / "segmentation-6.nii.gz");

  std::vector<std::string> progressed;
  const ConvertReport report =
      convert_dataset(options(3), [&](const ConvertProgress& p) { progressed.push_back(p.name); });
  EXPECT_EQ(progressed.size(), 9u);
  ASSERT_EQ(report.converted.size(), 3u);
  ASSERT_EQ(report.failures.size(), 6u);
  const auto& f = report.failures;  // in volume order: 3, 4, 5, 6, 7, 9
  EXPECT_EQ(f[0].file, (in / "volume-3.nii.gz").string());
  expect_contains(f[0].reason, {"volume without its segmentation", "segmentation-3"});
  EXPECT_EQ(f[1].file, (in / "segmentation-4.nii.gz").string());
  expect_contains(f[1].reason, {"segmentation-4.nii.gz", "32 x 32 x 8", "expected the same dims"});
  EXPECT_EQ(f[2].file, (in / "segmentation-5.nii.gz").string());
  expect_contains(f[2].reason, {"segmentation-5.nii.gz", "voxel (17, 0, 0) has label 3", "expected 0"});
  EXPECT_EQ(f[3].file, (in / "segmentation-6.nii.gz").string());
  expect_contains(f[3].reason, {"segmentation without its volume", "volume-6"});
  EXPECT_EQ(f[4].file, (in / "volume-7.nii.gz").string());
  expect_contains(f[4].reason, {"volume-7.nii.gz", "truncated"});
  EXPECT_EQ(f[5].file, (in / "volume-9.nii.gz").string());
  expect_contains(f[5].reason, {"volume-9.nii.gz", "not a NIfTI file"});

  // Only the good volumes and the index are in the store: no temporaries, no folder of a failed volume.
  EXPECT_EQ(entries_in(store()), (std::vector<std::string>{"index.json", "volume-0", "volume-1", "volume-2"}));
  EXPECT_EQ(read_store_index(store()).size(), 3u);
}

TEST_F(Convert, MissingOrEmptyInputIsAnError) {
  ConvertOptions o = options();
  o.in = (dir_ / "nowhere").string();
  expect_contains(error_of([&] { convert_dataset(o); }), {"nowhere", "does not exist"});
  fs::create_directories(dir_ / "empty");
  o.in = (dir_ / "empty").string();
  expect_contains(error_of([&] { convert_dataset(o); }), {"no volume-N / segmentation-N", "empty"});
  o = options();
  o.threads = -1;
  expect_contains(error_of([&] { convert_dataset(o); }), {"threads -1"});
}

TEST(StoreJson, ReadsWhatItWritesAndNamesTheFileOfBadText) {
  const std::string name = "a \"quoted\" \\ name\twith\ncontrols";
  const Json j = parse_json("{\"s\": " + json_string(name) + ", \"n\": [" + json_number(0.1) + ", " +
                                json_number(-2.5e-7) + ", 3], \"b\": true, \"f\": false, \"z\": null, \"e\": {}}",
                            "x.json");
  ASSERT_EQ(j.kind, Json::Kind::kObject);
  EXPECT_EQ(j.find("s")->text, name);
  ASSERT_EQ(j.find("n")->items.size(), 3u);
  EXPECT_EQ(j.find("n")->items[0].number, 0.1);
  EXPECT_EQ(j.find("n")->items[1].number, -2.5e-7);
  EXPECT_TRUE(j.find("b")->boolean);
  EXPECT_FALSE(j.find("f")->boolean);
  EXPECT_EQ(j.find("z")->kind, Json::Kind::kNull);
  EXPECT_EQ(j.find("e")->kind, Json::Kind::kObject);
  EXPECT_EQ(j.find("missing"), nullptr);
  expect_contains(error_of([] { parse_json("{\"a\": [1, 2}", "bad.json"); }), {"bad.json", "not valid JSON"});
  expect_contains(error_of([] { parse_json("{} extra", "bad.json"); }), {"bad.json", "after the end"});
}

}  // namespace
}  // namespace lits::testing
