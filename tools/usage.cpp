// Suggestions for usage errors (see usage.h).
#include "tools/usage.h"

#include <algorithm>

namespace lits::tools {

namespace {

// Optimal string alignment distance: Levenshtein plus the swap of two neighbouring letters (segmnet).
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1])});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

std::vector<std::string> command_names(const CLI::App& cmd) {
  std::vector<std::string> names;
  for (const CLI::App* sub : cmd.get_subcommands([](const CLI::App*) { return true; }))
    if (!sub->get_name().empty()) names.push_back(sub->get_name());
  return names;
}

// The long flags ("--output") of `cmd` and of its parents (whose options fall through to it).
std::vector<std::string> flag_names(const CLI::App* cmd) {
  std::vector<std::string> names;
  for (; cmd != nullptr; cmd = cmd->get_parent())
    for (const CLI::Option* o : cmd->get_options())
      for (const std::string& n : o->get_lnames()) names.push_back("--" + n);
  return names;
}

const CLI::Option* find_flag(const CLI::App* cmd, const std::string& flag) {
  for (; cmd != nullptr; cmd = cmd->get_parent())
    if (const CLI::Option* o = cmd->get_option_no_throw(flag)) return o;
  return nullptr;
}

std::string command_path(const CLI::App* cmd) {
  std::string path;
  for (; cmd != nullptr && cmd->get_parent() != nullptr; cmd = cmd->get_parent()) path = " " + cmd->get_name() + path;
  return "lits" + path;
}

}  // namespace

std::string closest_word(const std::string& word, const std::vector<std::string>& candidates) {
  const size_t limit = word.size() <= 4 ? 1 : std::max<size_t>(2, word.size() / 3);
  std::string best;
  size_t best_d = limit + 1;
  bool tie = false;
  for (const std::string& c : candidates) {
    const size_t d = edit_distance(word, c);
    if (d < best_d) {
      best = c, best_d = d, tie = false;
    } else if (d == best_d && c != best) {
      tie = true;
    }
  }
  return best_d <= limit && !tie ? best : "";
}

std::string usage_suggestion(const CLI::App& app, const std::vector<std::string>& args) {
  const CLI::App* cmd = &app;
  bool value_next = false;  // the previous flag takes a value: this token is it
  for (const std::string& a : args) {
    if (value_next) {
      value_next = false;
      continue;
    }
    if (a.rfind("--", 0) == 0 && a.size() > 2) {
      const std::string flag = a.substr(0, a.find('='));
      const CLI::Option* o = find_flag(cmd, flag);
      if (o == nullptr) {
        const std::string near = closest_word(flag, flag_names(cmd));
        return near.empty() ? "" : "did you mean " + near + "? (`" + command_path(cmd) + " --help` lists the options)";
      }
      value_next = a.find('=') == std::string::npos && o->get_type_size() != 0;
      continue;
    }
    if (a.rfind("-", 0) == 0) continue;  // short flags and negative numbers
    const std::vector<std::string> names = command_names(*cmd);
    if (names.empty()) continue;  // a positional value of a command without subcommands
    if (std::find(names.begin(), names.end(), a) != names.end()) {
      cmd = cmd->get_subcommand(a);
      continue;
    }
    const std::string near = closest_word(a, names);
    return near.empty() ? "" : "did you mean `" + command_path(cmd) + (cmd == &app ? "" : "") + " " + near + "`?";
  }
  return "";
}

}  // namespace lits::tools
