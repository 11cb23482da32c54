// Folder evaluation (see evaluate.h).
#include "pipeline/infer/evaluate.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>

#include "engine/error.h"
#include "pipeline/infer/case_files.h"
#include "pipeline/io/atomic_file.h"
#include "pipeline/io/json.h"
#include "pipeline/io/nifti.h"

namespace fs = std::filesystem;

namespace lits {

namespace {

// Why `labels` is not a LiTS label volume (0 background, 1 liver, 2 lesion), or "" when it is.
std::string label_problem(const std::vector<uint8_t>& labels, const std::string& file) {
  std::array<int64_t, 256> count{};
  for (uint8_t x : labels) ++count[x];
  std::ostringstream why;
  int shown = 0;
  for (int v = 3; v < 256; ++v)
    if (count[static_cast<size_t>(v)] > 0 && shown++ < 5) why << (shown > 1 ? ", " : "") << v;
  if (shown == 0) return "";
  std::ostringstream s;
  s << file << " holds labels other than 0, 1 and 2 (" << why.str() << (shown > 5 ? ", ..." : "")
    << "): not a LiTS liver/lesion label volume (a multi-organ map must be reduced to 0/1/2 first)";
  return s.str();
}

// Where the two geometries disagree, or "" when dims match and every affine entry is within 1e-3 (mm).
std::string geometry_problem(const NiftiGeometry& p, const NiftiGeometry& t, const std::string& pred) {
  std::ostringstream why;
  if (p.dims != t.dims) {
    why << pred << " has dims " << p.dims[0] << " x " << p.dims[1] << " x " << p.dims[2] << ", the truth " << t.dims[0]
        << " x " << t.dims[1] << " x " << t.dims[2];
    return why.str();
  }
  const auto a = p.affine(), b = t.affine();
  double worst = 0.0;
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c) worst = std::max(worst, std::abs(a[r][c] - b[r][c]));
  if (worst <= 1e-3) return "";
  why << pred << " lies elsewhere in space than its truth: their voxel-to-world affines differ by up to " << worst
      << " mm (orientation " << p.orientation() << " vs " << t.orientation()
      << "); a prediction must keep its volume's geometry";
  return why.str();
}

std::vector<uint8_t> select(const std::vector<uint8_t>& labels, bool lesion) {
  std::vector<uint8_t> m(labels.size());
  for (size_t p = 0; p < labels.size(); ++p) m[p] = lesion ? labels[p] == 2 : labels[p] >= 1;
  return m;
}

EvaluationSummary summarise(const std::vector<EvaluationCase>& cases, bool lesion) {
  EvaluationSummary s;
  double both = 0, total = 0;
  double sums[4] = {0, 0, 0, 0};
  int64_t counts[4] = {0, 0, 0, 0};
  for (const EvaluationCase& c : cases) {
    const CaseMetrics& m = lesion ? c.lesion : c.liver;
    s.dice_per_case += m.dice / static_cast<double>(cases.size());
    both += static_cast<double>(m.both_voxels);
    total += static_cast<double>(m.pred_voxels + m.truth_voxels);
    const double v[4] = {m.voe, m.rvd, m.assd, m.mssd};
    for (int k = 0; k < 4; ++k)
      if (std::isfinite(v[k])) sums[k] += v[k], ++counts[k];
  }
  s.dice_global = total > 0 ? 2.0 * both / total : 1.0;
  double* out[4] = {&s.voe, &s.rvd, &s.assd, &s.mssd};
  for (int k = 0; k < 4; ++k) *out[k] = counts[k] ? sums[k] / static_cast<double>(counts[k]) : std::nan("");
  return s;
}

std::string num(double v) { return std::isfinite(v) ? json_number(v) : "null"; }

}  // namespace

EvaluationReport evaluate_folders(const std::string& pred_dir, const std::string& truth_dir,
                                  const std::function<void(const EvaluationCase&, int64_t, int64_t)>& progress) {
  const std::vector<fs::path> truths = nifti_files_preferring(truth_dir, "segmentation", "truth");
  const std::vector<fs::path> preds = nifti_files_preferring(pred_dir, "segmentation", "prediction");
  LITS_CHECK(!truths.empty(), "no .nii or .nii.gz files in the truth folder '" << truth_dir << "'");
  LITS_CHECK(!preds.empty(), "no .nii or .nii.gz files in the prediction folder '" << pred_dir << "'");
  const CasePairing pairing = pair_cases(truths, preds);
  LITS_CHECK(std::any_of(pairing.pairs.begin(), pairing.pairs.end(), [](const CasePair& p) { return !p.b.empty(); }),
             "no prediction pairs with a truth file by name or by number: the truth folder '"
                 << truth_dir << "' and the prediction folder '" << pred_dir << "' hold "
                 << pairing.describe(truths, preds));
  EvaluationReport report;
  int64_t done = 0;
  for (const CasePair& pair : pairing.pairs) {
    EvaluationCase c;
    c.name = nifti_stem(pair.a.filename().string());
    c.number = file_number(pair.a.filename().string());
    c.truth = pair.a.string();
    std::vector<uint8_t> truth;
    NiftiGeometry g;
    try {
      g = read_nifti_geometry(c.truth);
      truth = read_nifti_labels(c.truth);
      const std::string bad = label_problem(truth, c.truth);
      LITS_CHECK(bad.empty(), bad);
    } catch (const std::exception& e) {
      report.errors.push_back(e.what());
      continue;
    }
    std::vector<uint8_t> pred(truth.size(), 0);
    if (pair.b.empty()) {
      c.problem = "no prediction of case " + c.name + " in '" + pred_dir + "' (none of that name or number)";
    } else {
      c.prediction = pair.b.string();
      try {
        c.problem = geometry_problem(read_nifti_geometry(c.prediction), g, c.prediction);
        if (c.problem.empty()) {
          std::vector<uint8_t> labels = read_nifti_labels(c.prediction);
          c.problem = label_problem(labels, c.prediction);
          if (c.problem.empty()) pred = std::move(labels);
        }
      } catch (const std::exception& e) {
        c.problem = e.what();
      }
    }
    report.problems += !c.problem.empty();
    const MaskDims dims{g.dims[0], g.dims[1], g.dims[2]};
    const std::array<double, 3> spacing{g.pixdim[0], g.pixdim[1], g.pixdim[2]};
    c.liver = case_metrics(select(pred, false), select(truth, false), dims, spacing);
    c.lesion = case_metrics(select(pred, true), select(truth, true), dims, spacing);
    report.cases.push_back(c);
    if (progress) progress(report.cases.back(), ++done, static_cast<int64_t>(truths.size()));
  }
  report.liver = summarise(report.cases, false);
  report.lesion = summarise(report.cases, true);
  return report;
}

void write_evaluation_json(const std::string& path, const EvaluationReport& r) {
  std::ostringstream o;
  auto metrics = [&](const CaseMetrics& m) {
    o << "{\"dice\": " << num(m.dice) << ", \"voe\": " << num(m.voe) << ", \"rvd\": " << num(m.rvd)
      << ", \"assd_mm\": " << num(m.assd) << ", \"mssd_mm\": " << num(m.mssd) << ", \"pred_voxels\": " << m.pred_voxels
      << ", \"truth_voxels\": " << m.truth_voxels << ", \"both_voxels\": " << m.both_voxels << "}";
  };
  auto summary = [&](const EvaluationSummary& s) {
    o << "{\"dice_per_case\": " << num(s.dice_per_case) << ", \"dice_global\": " << num(s.dice_global)
      << ", \"voe\": " << num(s.voe) << ", \"rvd\": " << num(s.rvd) << ", \"assd_mm\": " << num(s.assd)
      << ", \"mssd_mm\": " << num(s.mssd) << "}";
  };
  o << "{\n  \"liver\": ";
  summary(r.liver);
  o << ",\n  \"lesion\": ";
  summary(r.lesion);
  o << ",\n  \"cases\": [";
  for (size_t i = 0; i < r.cases.size(); ++i) {
    const EvaluationCase& c = r.cases[i];
    o << (i ? ",\n" : "\n") << "    {\"case\": " << json_string(c.name) << ", \"number\": " << c.number
      << ", \"truth\": " << json_string(c.truth) << ", \"prediction\": " << json_string(c.prediction)
      << ", \"problem\": " << json_string(c.problem) << ", \"liver\": ";
    metrics(c.liver);
    o << ", \"lesion\": ";
    metrics(c.lesion);
    o << "}";
  }
  o << "\n  ],\n  \"errors\": [";
  for (size_t i = 0; i < r.errors.size(); ++i) o << (i ? ", " : "") << json_string(r.errors[i]);
  o << "]\n}\n";
  write_text_atomic(path, o.str());
}

void write_evaluation_csv(const std::string& path, const EvaluationReport& r) {
  auto cell = [](double v) { return std::isfinite(v) ? json_number(v) : std::string(); };
  std::ostringstream o;
  o << "case,liver_dice,liver_voe,liver_rvd,liver_assd_mm,liver_mssd_mm,lesion_dice,lesion_voe,lesion_rvd,"
       "lesion_assd_mm,lesion_mssd_mm,problem\n";
  for (const EvaluationCase& c : r.cases) {
    o << "\"" << c.name << "\"";
    for (const CaseMetrics* m : {&c.liver, &c.lesion})
      o << "," << cell(m->dice) << "," << cell(m->voe) << "," << cell(m->rvd) << "," << cell(m->assd) << ","
        << cell(m->mssd);
    std::string problem = c.problem;
    std::replace(problem.begin(), problem.end(), '"', '\'');
    o << ",\"" << problem << "\"\n";
  }
  write_text_atomic(path, o.str());
}

}  // namespace lits
