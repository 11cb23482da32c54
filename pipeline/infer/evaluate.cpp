// Folder evaluation (see evaluate.h).
#include "pipeline/infer/evaluate.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>

#include "engine/error.h"
#include "pipeline/infer/segment.h"
#include "pipeline/io/atomic_file.h"
#include "pipeline/io/json.h"
#include "pipeline/io/nifti.h"

namespace fs = std::filesystem;

namespace lits {

namespace {

std::map<int64_t, fs::path> numbered_files(const std::string& dir, const char* what) {
  LITS_CHECK(fs::is_directory(dir), what << " folder '" << dir << "' does not exist or is not a folder");
  std::map<int64_t, fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    // Not e.is_regular_file(), which throws on a symbolic link loop: reading the file says what is wrong.
    std::error_code ec;
    if (e.is_directory(ec) || !(name.ends_with(".nii") || name.ends_with(".nii.gz"))) continue;
    if (name.find("segmentation") == std::string::npos) continue;
    const int64_t n = file_number(name);
    if (n < 0) continue;
    LITS_CHECK(!files.count(n), what << " folder '" << dir << "' has two files numbered " << n << ": "
                                     << files[n].filename().string() << " and " << name);
    files[n] = e.path();
  }
  return files;
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
  const std::map<int64_t, fs::path> truths = numbered_files(truth_dir, "truth");
  const std::map<int64_t, fs::path> preds = numbered_files(pred_dir, "prediction");
  LITS_CHECK(!truths.empty(), "no *segmentation*-N.nii[.gz] files in the truth folder '" << truth_dir << "'");
  EvaluationReport report;
  int64_t done = 0;
  for (const auto& [n, truth_path] : truths) {
    EvaluationCase c;
    c.number = n;
    c.truth = truth_path.string();
    std::vector<uint8_t> truth;
    NiftiGeometry g;
    try {
      g = read_nifti_geometry(c.truth);
      truth = read_nifti_labels(c.truth);
    } catch (const std::exception& e) {
      report.errors.push_back(e.what());
      continue;
    }
    std::vector<uint8_t> pred(truth.size(), 0);
    auto it = preds.find(n);
    if (it == preds.end()) {
      c.problem = "no prediction numbered " + std::to_string(n) + " in '" + pred_dir + "'";
    } else {
      c.prediction = it->second.string();
      try {
        const NiftiGeometry pg = read_nifti_geometry(c.prediction);
        if (pg.dims != g.dims) {
          std::ostringstream why;
          why << c.prediction << " has dims " << pg.dims[0] << " x " << pg.dims[1] << " x " << pg.dims[2]
              << ", the truth " << g.dims[0] << " x " << g.dims[1] << " x " << g.dims[2];
          c.problem = why.str();
        } else {
          pred = read_nifti_labels(c.prediction);
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
    o << (i ? ",\n" : "\n") << "    {\"number\": " << c.number << ", \"truth\": " << json_string(c.truth)
      << ", \"prediction\": " << json_string(c.prediction) << ", \"problem\": " << json_string(c.problem)
      << ", \"liver\": ";
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
    o << c.number;
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
