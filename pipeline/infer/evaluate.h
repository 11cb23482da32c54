// `lits evaluate` (docs/reference.md section 8): predicted label volumes against the truth, paired by case
// (pipeline/infer/case_files.h: the same name, else the same number, whatever the prefixes; in a folder that
// holds *segmentation* files only those count), for the liver (label >= 1) and the lesions (label 2): per
// case Dice, VOE, RVD, ASSD and MSSD (pipeline/infer/lits_metrics.h, mm from the truth's voxel spacing), and
// overall the Dice per case (mean of the cases; a lesion case empty in both scores 1), the Dice global (all
// cases pooled) and the means of the others over the cases where they are defined. A missing prediction, or
// one whose dims or voxel-to-world affine (beyond 1e-3 mm) differ from its truth's, or whose labels are not
// all 0, 1 or 2, is reported and scored as an empty prediction, as the LiTS evaluation scores a case without
// a usable submission; a truth with other labels is an error. Nothing pairing at all is an error that lists
// what both folders hold.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "pipeline/infer/lits_metrics.h"

namespace lits {

struct EvaluationCase {
  std::string name;               // the truth file's name without its extension
  int64_t number = -1;            // the number in that name, -1 when none
  std::string truth, prediction;  // files; prediction empty when missing
  std::string problem;            // why the prediction was scored as empty, if it was
  CaseMetrics liver, lesion;
};

struct EvaluationSummary {
  double dice_per_case = 0, dice_global = 0, voe = 0, rvd = 0, assd = 0, mssd = 0;
};

struct EvaluationReport {
  std::vector<EvaluationCase> cases;  // by number
  EvaluationSummary liver, lesion;
  std::vector<std::string> errors;  // truth files that could not be read (those cases are left out)
  int64_t problems = 0;             // cases scored as empty predictions
};

EvaluationReport evaluate_folders(
    const std::string& pred_dir, const std::string& truth_dir,
    const std::function<void(const EvaluationCase&, int64_t, int64_t)>& progress = nullptr);

// The per-case table and the summaries as JSON / CSV (NaN written as null / empty). Atomic.
void write_evaluation_json(const std::string& path, const EvaluationReport& report);
void write_evaluation_csv(const std::string& path, const EvaluationReport& report);

}  // namespace lits
