// `lits evaluate` (pipeline/infer/evaluate.h): a table per case for liver and lesion, the LiTS summaries, and
// optional JSON / CSV files; exit status 1 when a truth file could not be read or a prediction was missing
// or unusable (those are listed).
#include <cmath>
#include <cstdio>
#include <string>

#include "pipeline/infer/evaluate.h"
#include "tools/commands.h"
#include "tools/progress.h"

namespace lits::tools {
namespace {

std::string f(double v, const char* fmt = "%.4f") {
  if (!std::isfinite(v)) return "n/a";
  char b[32];
  std::snprintf(b, sizeof b, fmt, v);
  return b;
}

}  // namespace

int run_evaluate(const EvaluateOptions& o) {
  std::printf(
      "evaluate: predictions %s against %s (liver = label >= 1, lesion = label 2; mm from the truth's spacing)\n",
      o.pred.c_str(), o.truth.c_str());
  std::printf("%-24s | %7s %7s %8s %8s %8s | %7s %7s %8s %8s %8s | %s\n", "case", "liver", "VOE", "RVD", "ASSD", "MSSD",
              "lesion", "VOE", "RVD", "ASSD", "MSSD", "progress");
  const Progress progress(false);  // for its clock: each case's row ends with the share done and the ETA
  const EvaluationReport r = evaluate_folders(o.pred, o.truth, [&](const EvaluationCase& c, int64_t done, int64_t n) {
    const CaseMetrics &l = c.liver, &s = c.lesion;
    std::printf("%-24s | %7s %7s %8s %8s %8s | %7s %7s %8s %8s %8s | %s%s\n", c.name.c_str(), f(l.dice).c_str(),
                f(l.voe).c_str(), f(l.rvd).c_str(), f(l.assd, "%.2f").c_str(), f(l.mssd, "%.2f").c_str(),
                f(s.dice).c_str(), f(s.voe).c_str(), f(s.rvd).c_str(), f(s.assd, "%.2f").c_str(),
                f(s.mssd, "%.2f").c_str(), progress.status(static_cast<double>(done) / static_cast<double>(n)).c_str(),
                c.problem.empty() ? "" : "  (!)");
    std::fflush(stdout);
  });
  auto line = [](const char* name, const EvaluationSummary& s) {
    std::printf("%-7s Dice per case %s | Dice global %s | VOE %s | RVD %s | ASSD %s mm | MSSD %s mm\n", name,
                f(s.dice_per_case).c_str(), f(s.dice_global).c_str(), f(s.voe).c_str(), f(s.rvd).c_str(),
                f(s.assd, "%.2f").c_str(), f(s.mssd, "%.2f").c_str());
  };
  std::printf("%zu cases\n", r.cases.size());
  line("liver", r.liver);
  line("lesion", r.lesion);
  for (const EvaluationCase& c : r.cases)
    if (!c.problem.empty())
      std::printf("evaluate: case %s scored as an empty prediction: %s\n", c.name.c_str(), c.problem.c_str());
  for (const std::string& e : r.errors) std::printf("evaluate: FAILED %s\n", e.c_str());
  if (!o.json.empty()) write_evaluation_json(o.json, r), std::printf("evaluate: wrote %s\n", o.json.c_str());
  if (!o.csv.empty()) write_evaluation_csv(o.csv, r), std::printf("evaluate: wrote %s\n", o.csv.c_str());
  return r.errors.empty() && r.problems == 0 ? 0 : 1;
}

}  // namespace lits::tools
