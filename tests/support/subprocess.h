// Runs a command as a child process with a time limit and measures it: exit status or signal, wall
// time, peak memory, and its output (stdout and stderr together). For tests that must see how the
// `lits` command ends, not only that a library call throws.
// Peak memory is the child's VmHWM from /proc, read every 2 ms while it runs: wait4's ru_maxrss would
// not do, because Linux carries the parent's resident set over into it at the spawn (the test process
// itself is a few hundred MB). A peak in the last 2 ms before the exit can be missed.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace lits::testing {

struct Finished {
  bool started = false;
  bool timed_out = false;  // killed with SIGKILL at the time limit
  int exit_status = -1;    // -1 when it ended by a signal
  int signal = 0;          // the signal that ended it, or 0
  double seconds = 0.0;
  long max_rss_mb = 0;  // the child's own peak resident set (see above)
  std::string output;
  pid_t pid = 0;
};

// Starts `args` (args[0] a path) with its output into `log`; `on_start` gets the pid right after it
// started (to signal it from outside). Waits at most `limit_s` seconds.
template <typename OnStart>
Finished run_process(const std::vector<std::string>& args, const std::filesystem::path& log, double limit_s,
                     OnStart on_start) {
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (std::string& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  Finished f;
  const auto t0 = std::chrono::steady_clock::now();
  f.started = posix_spawn(&f.pid, argv[0], &fa, nullptr, argv.data(), environ) == 0;
  posix_spawn_file_actions_destroy(&fa);
  if (!f.started) return f;
  on_start(f.pid);
  int status = 0;
  long hwm_kb = 0;
  const std::string proc_status = "/proc/" + std::to_string(f.pid) + "/status";
  for (;;) {
    {
      std::ifstream st(proc_status);
      for (std::string line; std::getline(st, line);)
        if (line.rfind("VmHWM:", 0) == 0) hwm_kb = std::max(hwm_kb, std::stol(line.substr(6)));
    }
    const pid_t r = ::waitpid(f.pid, &status, WNOHANG);
    if (r == f.pid) break;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (elapsed > limit_s && !f.timed_out) {
      f.timed_out = true;
      ::kill(f.pid, SIGKILL);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  f.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  f.max_rss_mb = hwm_kb / 1024;
  if (WIFEXITED(status)) f.exit_status = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) f.signal = WTERMSIG(status);
  std::ifstream in(log);
  f.output.assign(std::istreambuf_iterator<char>(in), {});
  return f;
}

inline Finished run_process(const std::vector<std::string>& args, const std::filesystem::path& log, double limit_s) {
  return run_process(args, log, limit_s, [](pid_t) {});
}

}  // namespace lits::testing
