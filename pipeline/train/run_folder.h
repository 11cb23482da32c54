// The run folder of a training (docs/reference.md section 6.6, docs/architecture.md section 9): its name, config.json
// (every resolved setup value, so inference rebuilds the network from it), parameters.txt (the same for
// people), log.csv and the training_results.svg plot.
#pragma once

#include <ctime>
#include <string>
#include <vector>

#include "models/setup.h"
#include "pipeline/train/checkpoint.h"

namespace lits {

// "vUnet2D" + "_SetupIter-<i>_Date-<Y>-<M>-<D>-<h>-<m>" (unless no_date, no zero padding) + "_<savename>".
std::string run_folder_name(const Setup& setup, bool no_date, const std::tm& now);
// Creates parent/name, or parent/name__V2, __V3, ... when taken (as the reference); returns the path.
std::string create_run_folder(const std::string& parent, const std::string& name);

// config.json: {"format": "lits run", "setup": [{"section", "key", "value" (Python literal)}...], plus the
// `extra` members (already JSON text: "\"split\": {...}, ...")}. Written atomically.
void write_run_config(const std::string& dir, const Setup& setup, const std::string& extra_members);
// The setup stored in a run folder's config.json; errors name the folder when it is not a run folder.
Setup read_run_setup(const std::string& dir);
// parameters.txt: per section, its keys as "\tkey: value" lines (the reference's Parameter_Info.txt).
void write_parameters_txt(const std::string& dir, const Setup& setup);

// log.csv: Epoch, Time, Training Loss, Training Dice, Validation Dice (the reference's columns), then
// Validation Dice (LiTS per case), Learning Rate, Samples/s. Rewritten atomically from all rows.
void write_log_csv(const std::string& dir, const std::vector<EpochRow>& rows);
// training_results.svg: training loss (left axis) and training / validation Dice (right axis) per epoch, on
// round-number axes with gridlines (nice_ticks) and the epochs labelled as log.csv numbers them (epoch_ticks).
void write_training_plot(const std::string& dir, const std::vector<EpochRow>& rows);

}  // namespace lits
