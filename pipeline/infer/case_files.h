// Which NIfTI files a command works on, and which belong together: the inputs of `lits segment` (files
// and folders, any name ending in .nii or .nii.gz in any letter case), and the pairing of two sets of
// files by case, as `lits submit` pairs volumes with liver masks and `lits evaluate` predictions with
// the truth. A case is the file's name without its extension; files pair by the same name first, then
// by the number at the end of the name (volume-12, test-segmentation-12, liver_12 are case 12) when
// that number is unique on both sides, so the LiTS names and other tools' names pair whatever their
// prefixes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace lits {

// True for NAME.nii and NAME.nii.gz, in any letter case.
bool is_nifti_name(const std::string& file_name);
// The file name without .nii / .nii.gz ("patient_A" of patient_A.NII.GZ).
std::string nifti_stem(const std::string& file_name);
// ".nii" or ".nii.gz" as the name spells it ("" when neither).
std::string nifti_suffix(const std::string& file_name);
// The number N of a file name such as test-volume-12.nii.gz (the last run of digits); -1 when it has none.
int64_t file_number(const std::string& file_name);

// Every NIfTI file among `paths`: files as given, folders by their NIfTI files (not recursive; only those
// whose name holds `prefer` when any does, so a LiTS Training_Data folder gives its volumes and not its
// segmentations), ordered by number then name, each once. A path that does not exist, a file not named
// .nii / .nii.gz, a folder without NIfTI files and two inputs with the same file name (their outputs would
// collide) are errors that name the path; `what` says what the files are ("input", "volume").
std::vector<std::filesystem::path> nifti_inputs(const std::vector<std::string>& paths, const char* what,
                                                const std::string& prefer = "volume");

// The NIfTI files of a folder whose name holds `word` (case-insensitive) when any does, else all of
// them, ordered by number then name: a LiTS folder with volume-N and segmentation-N files gives its
// segmentations for "segmentation", a folder of masks named after their volumes gives every mask.
std::vector<std::filesystem::path> nifti_files_preferring(const std::string& folder, const std::string& word,
                                                          const char* what);

struct CasePair {
  std::filesystem::path a, b;  // b empty when `a` has no partner
  std::string key;             // the case: a's stem, or "#N" when paired by number
};

struct CasePairing {
  std::vector<CasePair> pairs;                    // one per file of `a`, in a's order
  std::vector<std::filesystem::path> b_unpaired;  // files of `b` no file of `a` took
  // "a: 3 files (case-1, case-2, ...); b: 2 files (x, y)" for an error when nothing pairs.
  std::string describe(const std::vector<std::filesystem::path>& a, const std::vector<std::filesystem::path>& b) const;
};

// Pairs every file of `a` with at most one of `b`: the same stem first (ignoring letter case), else the
// same file number when exactly one file on each side has it. No file of `b` is used twice.
CasePairing pair_cases(const std::vector<std::filesystem::path>& a, const std::vector<std::filesystem::path>& b);

}  // namespace lits
