// The run folder's images: round-number axis ticks and epoch labels of training_results.svg, RGB PNG files
// that decode to their pixels, and the sample image: its layout (titles, captions, four tiles, legend), the
// overlay's colours for known true positives, misses and false positives, and the radiological orientation
// (a known asymmetric slice, and the phantom's liver on the viewer's left for RAS and LAS volumes).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>

#include <zlib.h>

#include "engine/error.h"
#include "pipeline/data/loader.h"
#include "pipeline/io/png.h"
#include "pipeline/train/run_folder.h"
#include "pipeline/train/samples.h"
#include "pipeline/train/ticks.h"
#include "tests/support/store.h"

namespace lits::testing {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> labels_of(const Ticks& t) { return t.labels; }

TEST(NiceTicks, RoundStepsCoverTheRange) {
  // The issue's loss axis read 0.7587, 0.793, 0.8272, ...: now 0.05 steps, widened outward.
  Ticks t = nice_ticks(0.7587, 0.9716);
  EXPECT_EQ(labels_of(t), (std::vector<std::string>{"0.75", "0.80", "0.85", "0.90", "0.95", "1.00"}));
  EXPECT_DOUBLE_EQ(t.step, 0.05);
  EXPECT_DOUBLE_EQ(t.lo, 0.75);
  EXPECT_NEAR(t.hi, 1.0, 1e-12);
  t = nice_ticks(0.0, 1.0);
  EXPECT_EQ(labels_of(t), (std::vector<std::string>{"0.0", "0.2", "0.4", "0.6", "0.8", "1.0"}));
  t = nice_ticks(0.3, 1.7);
  EXPECT_EQ(labels_of(t), (std::vector<std::string>{"0.0", "0.5", "1.0", "1.5", "2.0"}));
  t = nice_ticks(3.0, 97.0, 10);
  EXPECT_EQ(labels_of(t), (std::vector<std::string>{"0", "10", "20", "30", "40", "50", "60", "70", "80", "90", "100"}));
  t = nice_ticks(-0.13, 0.02);
  EXPECT_EQ(labels_of(t), (std::vector<std::string>{"-0.15", "-0.10", "-0.05", "0.00", "0.05"}))
      << "0.02 steps would take 8 intervals";
}

TEST(NiceTicks, TinyAndSingleValueRanges) {
  // A range of a few millionths gets millionths.
  Ticks t = nice_ticks(0.912345, 0.912349);
  EXPECT_EQ(labels_of(t), (std::vector<std::string>{"0.912345", "0.912346", "0.912347", "0.912348", "0.912349"}));
  // One value (a single epoch): widened by 5% each side, the value itself a tick.
  t = nice_ticks(0.8, 0.8);
  EXPECT_EQ(labels_of(t), (std::vector<std::string>{"0.76", "0.78", "0.80", "0.82", "0.84"}));
  t = nice_ticks(0.0, 0.0);
  EXPECT_EQ(labels_of(t), (std::vector<std::string>{"-0.6", "-0.4", "-0.2", "0.0", "0.2", "0.4", "0.6"}));
  t = nice_ticks(2.5e-7, 2.5e-7);
  EXPECT_EQ(labels_of(t), (std::vector<std::string>{"0.000000235", "0.000000240", "0.000000245", "0.000000250",
                                                    "0.000000255", "0.000000260", "0.000000265"}));
  t = nice_ticks(std::nan(""), 3.0);
  EXPECT_EQ(labels_of(t), (std::vector<std::string>{"0.0", "0.2", "0.4", "0.6", "0.8", "1.0"}));
}

TEST(NiceTicks, EveryTickIsAMultipleOfAOneTwoFiveStep) {
  uint64_t x = 12345;
  auto next = [&] {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<double>(x >> 11) / 9007199254740992.0;
  };
  for (int trial = 0; trial < 500; ++trial) {
    const double scale = std::pow(10.0, std::floor(next() * 12.0) - 6.0);
    const double lo = (next() - 0.5) * 10 * scale, hi = lo + next() * 10 * scale;
    const Ticks t = nice_ticks(lo, hi);
    ASSERT_GE(t.values.size(), 2u);
    ASSERT_LE(t.values.size(), 7u) << lo << " " << hi;
    EXPECT_LE(t.lo, lo + 1e-6 * t.step);
    EXPECT_GE(t.hi, hi - 1e-6 * t.step);
    const double e = std::floor(std::log10(t.step) + 1e-9), m = t.step / std::pow(10.0, e);
    EXPECT_TRUE(std::fabs(m - 1) < 1e-9 || std::fabs(m - 2) < 1e-9 || std::fabs(m - 5) < 1e-9) << t.step;
    for (size_t k = 0; k < t.values.size(); ++k) {
      const double q = t.values[k] / t.step;
      EXPECT_NEAR(q, std::round(q), 1e-6);
      EXPECT_NEAR(std::stod(t.labels[k]), t.values[k], 1e-9 * t.step + 1e-12);
    }
  }
}

TEST(EpochTicks, StepsOfOneTwoFiveTimesTenAtMostTenLabels) {
  EXPECT_EQ(labels_of(epoch_ticks(0, 0)), (std::vector<std::string>{"0"}));
  EXPECT_EQ(labels_of(epoch_ticks(5, 5)), (std::vector<std::string>{"5"}));
  EXPECT_EQ(labels_of(epoch_ticks(0, 9)), (std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}));
  EXPECT_EQ(labels_of(epoch_ticks(0, 10)), (std::vector<std::string>{"0", "2", "4", "6", "8", "10"}));
  EXPECT_EQ(labels_of(epoch_ticks(3, 47)),
            (std::vector<std::string>{"5", "10", "15", "20", "25", "30", "35", "40", "45"}));
  EXPECT_EQ(labels_of(epoch_ticks(0, 99)),
            (std::vector<std::string>{"0", "10", "20", "30", "40", "50", "60", "70", "80", "90"}));
  EXPECT_EQ(labels_of(epoch_ticks(0, 1000)), (std::vector<std::string>{"0", "200", "400", "600", "800", "1000"}));
  const Ticks t = epoch_ticks(3, 47);
  EXPECT_DOUBLE_EQ(t.lo, 3.0);  // the axis spans the epochs run, not the ticks
  EXPECT_DOUBLE_EQ(t.hi, 47.0);
}

class RunImages : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lits_run_images_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string read(const std::string& name) const {
    std::ifstream in(dir_ / name, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  fs::path dir_;
};

std::vector<std::string> matches(const std::string& text, const std::string& pattern) {
  std::vector<std::string> out;
  const std::regex re(pattern);
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it)
    out.push_back((*it)[1].str());
  return out;
}

TEST_F(RunImages, TrainingPlotLabelsEpochsAndRoundTicks) {
  std::vector<EpochRow> rows;
  for (int e = 0; e < 12; ++e) {
    EpochRow r;
    r.epoch = e;
    r.train_loss = 0.8959 - (0.8959 - 0.7587) * e / 11.0;
    r.train_dice = 0.5 + 0.43 * e / 11.0;
    r.val_dice = 0.45 + 0.46 * e / 11.0;
    rows.push_back(r);
  }
  write_log_csv(dir_.string(), rows);
  write_training_plot(dir_.string(), rows);
  const std::string svg = read("training_results.svg");
  // The epochs as log.csv writes them: 0 .. 11, every second one labelled.
  EXPECT_EQ(matches(svg, R"re(<text x="[^"]*" y="498" text-anchor="middle">([^<]*)</text>)re"),
            (std::vector<std::string>{"0", "2", "4", "6", "8", "10"}));
  const std::string log = read("log.csv");
  EXPECT_NE(log.find("\n10,"), std::string::npos);
  EXPECT_EQ(matches(svg, R"re(text-anchor="end" fill="#1f77b4">([^<]*)</text>)re"),
            (std::vector<std::string>{"0.75", "0.80", "0.85", "0.90"}));
  EXPECT_EQ(matches(svg, R"re(<text x="848" y="[^"]*">([^<]*)</text>)re"),
            (std::vector<std::string>{"0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1.0"}));
  EXPECT_EQ(svg.find("0.7587"), std::string::npos);
  // A gridline per tick: 4 loss, 7 Dice (dashed), 6 epochs.
  EXPECT_EQ(matches(svg, R"re(<line ([^>]*)stroke="white" stroke-width="1.5"/>)re").size(), 4u + 6u);
  EXPECT_EQ(matches(svg, R"re(<line ([^>]*)stroke-dasharray="3,3"/>)re").size(), 7u);
  // The lowest loss tick (0.75) is the bottom of the box, the highest (0.90) its top.
  EXPECT_NE(svg.find("y1=\"480\" y2=\"480\" stroke=\"white\""), std::string::npos);
  EXPECT_NE(svg.find("y1=\"60\" y2=\"60\" stroke=\"white\""), std::string::npos);
}

TEST_F(RunImages, TrainingPlotOfOneEpoch) {
  EpochRow r;
  r.epoch = 0;
  r.train_loss = 0.42;
  r.train_dice = 0.6;
  r.val_dice = 0.55;
  write_training_plot(dir_.string(), {r});
  const std::string svg = read("training_results.svg");
  EXPECT_EQ(matches(svg, R"re(<text x="[^"]*" y="498" text-anchor="middle">([^<]*)</text>)re"),
            (std::vector<std::string>{"0"}));
  EXPECT_EQ(matches(svg, R"re(text-anchor="end" fill="#1f77b4">([^<]*)</text>)re"),
            (std::vector<std::string>{"0.39", "0.40", "0.41", "0.42", "0.43", "0.44", "0.45"}));
  EXPECT_EQ(matches(svg, R"re(<circle cx="([^"]*)")re"), (std::vector<std::string>{"460", "460", "460"}));
}

// A PNG written by png.cpp (one IDAT, unfiltered scanlines), decoded.
struct Png {
  uint32_t width = 0, height = 0;
  int bit_depth = 0, colour_type = -1;
  std::vector<uint8_t> pixels;  // [height, width, channels]
};

Png decode_png(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string b((std::istreambuf_iterator<char>(in)), {});
  Png png;
  EXPECT_EQ(b.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  auto u32 = [&](size_t at) {
    return uint32_t(uint8_t(b[at])) << 24 | uint32_t(uint8_t(b[at + 1])) << 16 | uint32_t(uint8_t(b[at + 2])) << 8 |
           uint8_t(b[at + 3]);
  };
  std::string idat;
  for (size_t at = 8; at + 12 <= b.size();) {
    const uint32_t n = u32(at);
    const std::string type = b.substr(at + 4, 4);
    EXPECT_EQ(u32(at + 8 + n),
              uint32_t(crc32(crc32(0, Z_NULL, 0), reinterpret_cast<const Bytef*>(b.data() + at + 4), n + 4)))
        << type;
    if (type == "IHDR") {
      png.width = u32(at + 8);
      png.height = u32(at + 12);
      png.bit_depth = uint8_t(b[at + 16]);
      png.colour_type = uint8_t(b[at + 17]);
    } else if (type == "IDAT") {
      idat += b.substr(at + 8, n);
    }
    at += 12 + n;
  }
  const size_t channels = png.colour_type == 2 ? 3 : 1, row = png.width * channels;
  std::vector<uint8_t> raw(png.height * (row + 1));
  uLongf n = raw.size();
  EXPECT_EQ(uncompress(raw.data(), &n, reinterpret_cast<const Bytef*>(idat.data()), idat.size()), Z_OK);
  EXPECT_EQ(n, raw.size());
  for (size_t r = 0; r < png.height; ++r) {
    EXPECT_EQ(raw[r * (row + 1)], 0) << "filter type of row " << r;
    png.pixels.insert(png.pixels.end(), raw.begin() + static_cast<std::ptrdiff_t>(r * (row + 1) + 1),
                      raw.begin() + static_cast<std::ptrdiff_t>((r + 1) * (row + 1)));
  }
  return png;
}

TEST_F(RunImages, RgbPngDecodesToItsPixels) {
  std::vector<uint8_t> px(5 * 3 * 3);
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>(i * 41 + 7);
  write_png_rgb((dir_ / "c.png").string(), 5, 3, px);
  const Png png = decode_png((dir_ / "c.png").string());
  EXPECT_EQ(png.width, 5u);
  EXPECT_EQ(png.height, 3u);
  EXPECT_EQ(png.bit_depth, 8);
  EXPECT_EQ(png.colour_type, 2);
  EXPECT_EQ(png.pixels, px);
  EXPECT_THROW(write_png_rgb((dir_ / "d.png").string(), 5, 3, std::vector<uint8_t>(15)), Error);
}

TEST(SampleOrientation, RadiologicalViewFromTheOrientationCode) {
  EXPECT_EQ(radiological_view("RAS"), (SliceView{true, true, true}));
  EXPECT_EQ(radiological_view("LAS"), (SliceView{true, true, false}));
  EXPECT_EQ(radiological_view("LPS"), (SliceView{true, false, false}));
  EXPECT_EQ(radiological_view("RPI"), (SliceView{true, false, true}));
  EXPECT_EQ(radiological_view("ARS"), (SliceView{false, true, true}));  // i anterior, j right: no transpose
  EXPECT_EQ(radiological_view("PLS"), (SliceView{false, false, false}));
  EXPECT_EQ(radiological_view("RSA"), (SliceView{true, true, true}));  // coronal: superior at the top
  EXPECT_EQ(radiological_view("ASR"), (SliceView{true, true, true}));  // sagittal: anterior on the left
  EXPECT_EQ(radiological_view(""), radiological_view("RAS"));
  EXPECT_EQ(radiological_view("???"), radiological_view("RAS"));
  EXPECT_EQ(radiological_view("RRS"), radiological_view("RAS"));
}

TEST(SampleOrientation, AKnownSliceLandsWhereTheConventionPutsIt) {
  // Store plane: 2 rows (NIfTI i) x 3 columns (NIfTI j), value 10 i + j.
  const std::vector<uint8_t> plane = {0, 1, 2, 10, 11, 12};
  // RAS: i points to the patient's right, so i = 1 is the viewer's left column; j points anterior, so j = 2
  // is the top row.
  EXPECT_EQ(view_plane(plane, 2, 3, radiological_view("RAS")), (std::vector<uint8_t>{12, 2, 11, 1, 10, 0}));
  // LAS: i points to the patient's left, so i = 0 is the viewer's left column.
  EXPECT_EQ(view_plane(plane, 2, 3, radiological_view("LAS")), (std::vector<uint8_t>{2, 12, 1, 11, 0, 10}));
  // LPS (the DICOM frame): j points posterior, so j = 0 is the top row.
  EXPECT_EQ(view_plane(plane, 2, 3, radiological_view("LPS")), (std::vector<uint8_t>{0, 10, 1, 11, 2, 12}));
  EXPECT_EQ(view_plane(plane, 2, 3, SliceView{}), plane);
}

// Two rows of 48 x 64 tiles, CT grey 100 everywhere; truth = the top half, prediction = the left half: true
// positives top left, misses top right, false positives bottom left, nothing bottom right.
std::vector<SampleRow> quadrant_rows() {
  SampleRow r;
  r.caption = "volume-7 slice 3";
  r.h = 48;
  r.w = 64;
  r.ct.assign(48 * 64, 100);
  for (int64_t y = 0; y < 48; ++y)
    for (int64_t x = 0; x < 64; ++x) {
      r.truth.push_back(y < 24);
      r.prediction.push_back(x < 32);
    }
  SampleRow second = r;
  second.caption = "volume-12 slice 40";
  return {r, second};
}

bool has_colour(const Canvas& c, int64_t x0, int64_t y0, int64_t w, int64_t h, Rgb colour) {
  for (int64_t y = y0; y < y0 + h; ++y)
    for (int64_t x = x0; x < x0 + w; ++x)
      if (c.at(x, y) == colour) return true;
  return false;
}

TEST_F(RunImages, SampleImageLayoutAndOverlayColours) {
  const std::vector<SampleRow> rows = quadrant_rows();
  const SampleLayout l = sample_layout(rows);
  // 6-pixel margins, 4 columns of 64 with 4-pixel gaps; a title line (7 + 4), then per row a caption line and
  // its 48 tiles and 6 pixels, then the legend and the margin.
  EXPECT_EQ(l.width, 6 + 4 * 64 + 3 * 4 + 6);
  EXPECT_EQ(l.height, 6 + 11 + 2 * (11 + 48 + 6) + 7 + 6);
  EXPECT_EQ(l.scale, 1);
  EXPECT_EQ(l.column_x, (std::array<int64_t, 4>{6, 74, 142, 210}));
  EXPECT_EQ(l.caption_y, (std::vector<int64_t>{17, 82}));
  EXPECT_EQ(l.tile_y, (std::vector<int64_t>{28, 93}));
  const Canvas c = draw_samples(rows);
  ASSERT_EQ(c.width(), l.width);
  ASSERT_EQ(c.height(), l.height);
  for (size_t n = 0; n < 2; ++n) {
    const int64_t top = l.tile_y[n];
    // CT, truth and prediction tiles.
    EXPECT_EQ(c.at(6 + 40, top + 30), (Rgb{100, 100, 100}));
    EXPECT_EQ(c.at(74 + 40, top + 10), (Rgb{255, 255, 255}));
    EXPECT_EQ(c.at(74 + 40, top + 30), (Rgb{0, 0, 0}));
    EXPECT_EQ(c.at(142 + 10, top + 30), (Rgb{255, 255, 255}));
    EXPECT_EQ(c.at(142 + 40, top + 30), (Rgb{0, 0, 0}));
    // The overlay: half CT grey, half colour.
    const int64_t ox = l.column_x[3];
    EXPECT_EQ(c.at(ox + 10, top + 10), (Rgb{50, 178, 50})) << "both: green";
    EXPECT_EQ(c.at(ox + 40, top + 10), (Rgb{178, 50, 178})) << "truth only: magenta";
    EXPECT_EQ(c.at(ox + 10, top + 30), (Rgb{178, 178, 50})) << "prediction only: yellow";
    EXPECT_EQ(c.at(ox + 40, top + 30), (Rgb{100, 100, 100})) << "neither: the CT";
    EXPECT_EQ(c.at(ox + 63, top + 47), (Rgb{100, 100, 100}));
    EXPECT_EQ(c.at(ox + 64, top + 47), kSampleBackground);
    // The caption line holds text, starting at the margin; the gap under the tiles none.
    EXPECT_TRUE(has_colour(c, 6, l.caption_y[n], Canvas::text_width(rows[n].caption), 7, kSampleText));
    EXPECT_FALSE(has_colour(c, 0, top + 48, l.width, 6, kSampleText));
  }
  // A title over each column, nothing in the gaps between them.
  for (const int64_t x : l.column_x) EXPECT_TRUE(has_colour(c, x, 6, 64, 7, kSampleText)) << x;
  EXPECT_FALSE(has_colour(c, 70, 6, 4, 7, kSampleText));
  // The legend: the three swatches in order.
  EXPECT_EQ(c.at(6, l.legend_y), kOverlayBoth);
  EXPECT_TRUE(has_colour(c, 0, l.legend_y, l.width, 7, kOverlayTruthOnly));
  EXPECT_TRUE(has_colour(c, 0, l.legend_y, l.width, 7, kOverlayPredictionOnly));
  EXPECT_TRUE(has_colour(c, 6 + 11, l.legend_y, 23, 7, kSampleText));  // "BOTH"

  // Written as an RGB PNG of the same pixels.
  write_png_rgb((dir_ / "s.png").string(), c.width(), c.height(), c.pixels());
  const Png png = decode_png((dir_ / "s.png").string());
  EXPECT_EQ(png.colour_type, 2);
  EXPECT_EQ(int64_t(png.width), l.width);
  EXPECT_EQ(png.pixels, c.pixels());

  // Wide tiles get the font at twice the size; a long caption widens the image.
  std::vector<SampleRow> wide = rows;
  wide[0].w = 200;
  wide[0].ct.assign(48 * 200, 0);
  wide[0].truth.assign(48 * 200, 0);
  wide[0].prediction.assign(48 * 200, 0);
  EXPECT_EQ(sample_layout(wide).scale, 2);
  std::vector<SampleRow> narrow = rows;
  narrow[1].caption = std::string(60, 'x');
  EXPECT_EQ(sample_layout(narrow).width, 6 + (60 * 6 - 1) + 6);
}

TEST(SampleFont, GlyphsDifferAndLowerCaseIsDrawnAsCapitals) {
  auto draw = [](const std::string& s) {
    Canvas c(20, 9, {0, 0, 0});
    c.text(1, 1, s, {255, 255, 255});
    return c.pixels();
  };
  std::vector<std::vector<uint8_t>> seen;
  for (const char ch : std::string("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_.:/()")) {
    const std::vector<uint8_t> px = draw(std::string(1, ch));
    EXPECT_EQ(std::find(seen.begin(), seen.end(), px), seen.end()) << "'" << ch << "' looks like another glyph";
    seen.push_back(px);
  }
  EXPECT_EQ(draw("slice"), draw("SLICE"));
  EXPECT_EQ(draw("\x01"), draw("?"));
  EXPECT_EQ(Canvas::text_width("CT"), 11);
  EXPECT_EQ(Canvas::text_width("CT", 2), 22);
  // 'T' is a full top bar and a centre stem.
  Canvas t(5, 7, {0, 0, 0});
  t.text(0, 0, "T", {9, 9, 9});
  for (int x = 0; x < 5; ++x) EXPECT_EQ(t.at(x, 0), (Rgb{9, 9, 9}));
  for (int y = 1; y < 7; ++y) EXPECT_EQ(t.at(2, y), (Rgb{9, 9, 9}));
  EXPECT_EQ(t.at(1, 3), (Rgb{0, 0, 0}));
}

class SamplePhantom : public PhantomStore {
 protected:
  void SetUp() override { make_store(); }
};

// Through the trainer's path: a SampleGrid over the phantoms' validation slices, the truth as prediction. The
// phantom draws its liver on the patient's right (world +x), so in every row the liver lies on the viewer's
// left, whether the volume is stored RAS or LAS.
TEST_F(SamplePhantom, LiverOnTheViewersLeftForRasAndLasVolumes) {
  const SliceStore store(store_dir());
  std::vector<std::string> names;
  for (int64_t v = 0; v < store.volumes(); ++v) names.push_back(store.entry(v).name);
  const Dataset validation(store, names, DatasetOptions{}, DatasetRole::kValidation);
  SampleGrid grid(validation, 6);
  ASSERT_EQ(grid.positions().size(), 6u);
  LoaderOptions lo;
  lo.batch_size = 1;
  lo.threads = 0;
  Loader loader(validation, 0, lo);
  std::set<std::string> orientations;
  std::vector<std::string> row_orientation;
  const std::vector<SampleRef> refs = validation.epoch_samples(0);
  while (std::optional<Batch> b = loader.next())
    if (grid.wants(b->first)) {
      const std::vector<int64_t> t = b->target.to_ints();
      grid.add(b->first, *b, std::vector<uint8_t>(t.begin(), t.end()));
      const StoreEntry& e = store.entry(refs[static_cast<size_t>(b->first)].volume);
      orientations.insert(e.orientation);
      row_orientation.push_back(e.orientation);
      EXPECT_EQ(grid.rows().back().caption,
                e.name + " slice " + std::to_string(refs[static_cast<size_t>(b->first)].slice));
    }
  EXPECT_EQ(orientations, (std::set<std::string>{"LAS", "RAS"}));
  ASSERT_EQ(grid.rows().size(), 6u);
  // Per orientation: the liver pixels' mean column, as a fraction of the tile width.
  std::map<std::string, std::pair<double, double>> columns;  // orientation -> (sum of x / w, pixels)
  for (size_t k = 0; k < grid.rows().size(); ++k) {
    const SampleRow& r = grid.rows()[k];
    auto& [sum, n] = columns[row_orientation[k]];
    for (int64_t y = 0; y < r.h; ++y)
      for (int64_t x = 0; x < r.w; ++x)
        if (r.truth[static_cast<size_t>(y * r.w + x)]) sum += (x + 0.5) / static_cast<double>(r.w), n += 1;
  }
  for (const auto& [orientation, c] : columns) {
    ASSERT_GT(c.second, 0) << orientation;
    EXPECT_LT(c.first / c.second, 0.45) << orientation << ": the liver's mean column";
  }
  const std::string path = (dir_ / "samples.png").string();
  grid.write(path);
  const Png png = decode_png(path);
  const SampleLayout l = sample_layout(grid.rows());
  EXPECT_EQ(png.colour_type, 2);
  EXPECT_EQ(int64_t(png.width), l.width);
  EXPECT_EQ(int64_t(png.height), l.height);
  // Prediction = truth: the overlay tiles have green and grey, never magenta or yellow.
  int64_t green = 0;
  for (size_t k = 0; k < grid.rows().size(); ++k)
    for (int64_t y = l.tile_y[k]; y < l.tile_y[k] + grid.rows()[k].h; ++y)
      for (int64_t x = l.column_x[3]; x < l.column_x[3] + l.column_width; ++x) {
        const uint8_t* p = &png.pixels[static_cast<size_t>((y * l.width + x) * 3)];
        green += p[1] > p[0] + 100 && p[1] > p[2] + 100;
        EXPECT_FALSE(p[0] > p[1] + 100 || p[2] > p[1] + 100) << "magenta or yellow at " << x << ", " << y;
      }
  EXPECT_GT(green, 0);
  grid.clear();
  EXPECT_TRUE(grid.rows().empty());
  EXPECT_FALSE(grid.has(grid.positions()[0]));
}

}  // namespace
}  // namespace lits::testing
