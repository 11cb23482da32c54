// Run folder files (see run_folder.h).
#include "pipeline/train/run_folder.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <utility>

#include "engine/error.h"
#include "pipeline/io/atomic_file.h"
#include "pipeline/io/json.h"
#include "pipeline/train/ticks.h"

namespace fs = std::filesystem;

namespace lits {

std::string run_folder_name(const Setup& setup, bool no_date, const std::tm& now) {
  std::string name = "vUnet2D";
  if (!no_date) {
    name.append("_SetupIter-").append(std::to_string(setup.run_index)).append("_Date-");
    name.append(std::to_string(now.tm_year + 1900)).append("-").append(std::to_string(now.tm_mon + 1));
    name.append("-").append(std::to_string(now.tm_mday)).append("-").append(std::to_string(now.tm_hour));
    name.append("-").append(std::to_string(now.tm_min));
  }
  const std::string savename = setup.get_or<std::string>("savename", "");
  if (!savename.empty()) name.append("_").append(savename);
  return name;
}

std::string create_run_folder(const std::string& parent, const std::string& name) {
  std::error_code ec;
  fs::create_directories(parent, ec);
  LITS_CHECK(fs::is_directory(parent), "cannot create the save folder '" << parent << "': " << ec.message());
  for (int v = 1;; ++v) {
    const fs::path p = fs::path(parent) / (v == 1 ? name : name + "__V" + std::to_string(v));
    if (fs::create_directory(p, ec)) return p.string();
    LITS_CHECK(!ec || ec == std::errc::file_exists,
               "cannot create the run folder '" << p.string() << "': " << ec.message());
  }
}

void write_run_config(const std::string& dir, const Setup& setup, const std::string& extra_members) {
  std::string s = "{\n  \"format\": \"lits run\",\n  \"setup\": [";
  for (size_t i = 0; i < setup.entries().size(); ++i) {
    const SetupEntry& e = setup.entries()[i];
    s.append(i ? ",\n" : "\n").append("    {\"section\": ").append(json_string(e.section));
    s.append(", \"key\": ")
        .append(json_string(e.key))
        .append(", \"value\": ")
        .append(json_string(e.value.str()))
        .append("}");
  }
  s.append("\n  ]");
  if (!extra_members.empty()) s.append(",\n  ").append(extra_members);
  s.append("\n}\n");
  write_text_atomic((fs::path(dir) / "config.json").string(), s);
}

Setup read_run_setup(const std::string& dir) {
  const std::string path = (fs::path(dir) / "config.json").string();
  LITS_CHECK(fs::exists(path), "'" << dir << "' is not a lits run folder (no config.json)");
  const Json j = read_json_file(path);
  LITS_CHECK(j.kind == Json::Kind::kObject && j.find("format") && j.find("format")->text == "lits run",
             "'" << path << "' is not a lits run configuration");
  const Json* entries = j.find("setup");
  LITS_CHECK(entries && entries->kind == Json::Kind::kArray, "'" << path << "' has no setup list");
  Setup setup;
  for (const Json& e : entries->items) {
    const Json *section = e.find("section"), *key = e.find("key"), *value = e.find("value");
    LITS_CHECK(section && key && value, "'" << path << "': a setup entry lacks section, key or value");
    setup.set(section->text, key->text, parse_value(value->text, path + " " + key->text), path, 0);
  }
  return setup;
}

void write_parameters_txt(const std::string& dir, const Setup& setup) {
  std::string s;
  for (const char* section : {"Network", "Training", "Paths"}) {
    std::string block;
    for (const SetupEntry& e : setup.entries())
      if (e.section == section) block.append("\t").append(e.key).append(": ").append(e.value.str()).append("\n");
    if (!block.empty()) s.append(section).append("\n").append(block).append("\n");
  }
  write_text_atomic((fs::path(dir) / "parameters.txt").string(), s);
}

void write_log_csv(const std::string& dir, const std::vector<EpochRow>& rows) {
  std::ostringstream o;
  o << "Epoch,Time,Training Loss,Training Dice,Validation Dice,Validation Dice (LiTS per case),Learning Rate,"
       "Samples/s\n";
  for (const EpochRow& r : rows) {
    o << r.epoch << "," << json_number(r.seconds) << "," << json_number(r.train_loss) << ","
      << json_number(r.train_dice) << "," << json_number(r.val_dice) << "," << json_number(r.val_case_dice) << ","
      << json_number(r.lr) << "," << json_number(r.samples_per_s) << "\n";
  }
  write_text_atomic((fs::path(dir) / "log.csv").string(), o.str());
}

namespace {

// The plot box in SVG pixels.
constexpr double kLeft = 80, kRight = 840, kTop = 60, kBottom = 480;

double map_x(double x, const Ticks& t) {
  return kLeft + (t.hi > t.lo ? (x - t.lo) / (t.hi - t.lo) : 0.5) * (kRight - kLeft);
}
double map_y(double y, const Ticks& t) {
  return kBottom - (t.hi > t.lo ? (y - t.lo) / (t.hi - t.lo) : 0.5) * (kBottom - kTop);
}

// A polyline of the finite (x, y) data points mapped into the plot box (a dot when there is one point).
std::string polyline(const std::vector<double>& xs, const std::vector<double>& ys, const Ticks& tx, const Ticks& ty,
                     const char* colour, const char* dash) {
  std::ostringstream o;
  std::vector<std::pair<double, double>> points;
  for (size_t i = 0; i < xs.size(); ++i)
    if (std::isfinite(ys[i])) points.emplace_back(map_x(xs[i], tx), map_y(ys[i], ty));
  if (points.size() == 1)
    o << "<circle cx=\"" << points[0].first << "\" cy=\"" << points[0].second << "\" r=\"3\" fill=\"" << colour
      << "\"/>\n";
  o << "<polyline fill=\"none\" stroke=\"" << colour << "\" stroke-width=\"2\"" << dash << " points=\"";
  for (size_t i = 0; i < points.size(); ++i) o << (i ? " " : "") << points[i].first << "," << points[i].second;
  o << "\"/>\n";
  return o.str();
}

}  // namespace

void write_training_plot(const std::string& dir, const std::vector<EpochRow>& rows) {
  std::vector<double> ep, loss, tdice, vdice;
  double lmin = 1e300, lmax = -1e300, dmin = 1e300, dmax = -1e300, best_t = 0, best_v = 0;
  int64_t first = 0, last = 0;
  for (const EpochRow& r : rows) {
    if (ep.empty() || r.epoch < first) first = r.epoch;
    if (ep.empty() || r.epoch > last) last = r.epoch;
    ep.push_back(static_cast<double>(r.epoch));
    loss.push_back(r.train_loss);
    tdice.push_back(r.train_dice);
    vdice.push_back(r.val_dice);
    if (std::isfinite(r.train_loss)) lmin = std::min(lmin, r.train_loss), lmax = std::max(lmax, r.train_loss);
    for (const double d : {r.train_dice, r.val_dice})
      if (std::isfinite(d)) dmin = std::min(dmin, d), dmax = std::max(dmax, d);
    best_t = std::max(best_t, r.train_dice);
    best_v = std::max(best_v, r.val_dice);
  }
  if (lmin > lmax) lmin = 0, lmax = 1;
  if (dmin > dmax) dmin = 0, dmax = 1;
  // Round-number axes, widened to their outer ticks; the epochs as log.csv numbers them.
  const Ticks tl = nice_ticks(lmin, lmax), td = nice_ticks(dmin, dmax), tx = epoch_ticks(first, last);
  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"920\" height=\"570\" font-family=\"sans-serif\" "
       "font-size=\"14\">\n<rect width=\"920\" height=\"570\" fill=\"white\"/>\n"
    << "<rect x=\"80\" y=\"60\" width=\"760\" height=\"420\" fill=\"#f0f0f0\"/>\n"
    << "<text x=\"460\" y=\"25\" text-anchor=\"middle\" font-size=\"18\">Metrics</text>\n"
    << "<text x=\"460\" y=\"48\" text-anchor=\"middle\">Max Train Dice: "
    << json_number(std::round(best_t * 1000) / 1000)
    << " | Max Val Dice: " << json_number(std::round(best_v * 1000) / 1000) << "</text>\n";
  // Gridlines: solid for the loss axis and the epochs, dashed for the Dice axis; each tick labelled.
  for (size_t k = 0; k < tl.values.size(); ++k) {
    const double y = map_y(tl.values[k], tl);
    o << "<line x1=\"80\" x2=\"840\" y1=\"" << y << "\" y2=\"" << y << "\" stroke=\"white\" stroke-width=\"1.5\"/>\n"
      << "<text x=\"72\" y=\"" << y + 5 << "\" text-anchor=\"end\" fill=\"#1f77b4\">" << tl.labels[k] << "</text>\n";
  }
  for (size_t k = 0; k < td.values.size(); ++k) {
    const double y = map_y(td.values[k], td);
    o << "<line x1=\"80\" x2=\"840\" y1=\"" << y << "\" y2=\"" << y
      << "\" stroke=\"#c8c8c8\" stroke-dasharray=\"3,3\"/>\n"
      << "<text x=\"848\" y=\"" << y + 5 << "\">" << td.labels[k] << "</text>\n";
  }
  for (size_t k = 0; k < tx.values.size(); ++k) {
    const double x = map_x(tx.values[k], tx);
    o << "<line x1=\"" << x << "\" x2=\"" << x << "\" y1=\"60\" y2=\"480\" stroke=\"white\" stroke-width=\"1.5\"/>\n"
      << "<text x=\"" << x << "\" y=\"498\" text-anchor=\"middle\">" << tx.labels[k] << "</text>\n";
  }
  o << "<text x=\"460\" y=\"522\" text-anchor=\"middle\">Epoch</text>\n"
    << polyline(ep, loss, tx, tl, "#1f77b4", " stroke-dasharray=\"6,4\"") << polyline(ep, tdice, tx, td, "#1f77b4", "")
    << polyline(ep, vdice, tx, td, "#d62728", "")
    << "<text x=\"120\" y=\"550\" fill=\"#1f77b4\">- - training loss (left axis)</text>\n"
    << "<text x=\"380\" y=\"550\" fill=\"#1f77b4\">\u2014 training Dice (right axis)</text>\n"
    << "<text x=\"640\" y=\"550\" fill=\"#d62728\">\u2014 validation Dice (right axis)</text>\n</svg>\n";
  write_text_atomic((fs::path(dir) / "training_results.svg").string(), o.str());
}

}  // namespace lits
