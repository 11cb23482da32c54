// The subcommands of `lits`, callable without the CLI (main.cpp parses flags into these).
#pragma once

#include <cstdint>
#include <string>

namespace lits::tools {

struct DemoOptions {
  std::string device = "auto";
  bool quick = false;
  uint64_t seed = 1;
};
// Returns the process exit status.
int run_demo(const DemoOptions& options);

struct BenchOpsOptions {
  std::string device = "auto";
  bool quick = false;
  int repeats = 20;
  std::string json;  // also write the results here when set
};
int run_bench_ops(const BenchOpsOptions& options);

// Multi-line description of the build and the machine (`lits --version`).
std::string version_text();

}  // namespace lits::tools
