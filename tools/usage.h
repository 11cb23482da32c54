// Usage errors of the `lits` command line: a suggestion for a mistyped command or flag ("did you mean
// `lits segment`?"), so that a typo costs one glance and not a trip through --help.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace lits::tools {

// The candidate closest to `word` by edit distance (insertions, deletions, substitutions and swaps of two
// neighbours), if it is close: at most 1 edit for words of up to 4 letters, else at most a third of the
// word's length; "" otherwise (and for ties between the two closest).
std::string closest_word(const std::string& word, const std::vector<std::string>& candidates);

// For the first command or --flag of `args` (argv without the program) that `app` does not know, in the
// place where it stands: "did you mean `lits segment`?" or "did you mean --output?"; "" when there is no
// close match or nothing unknown.
std::string usage_suggestion(const CLI::App& app, const std::vector<std::string>& args);

}  // namespace lits::tools
