#include "tools/torch_ratio.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "engine/error.h"
#include "pipeline/io/json.h"

namespace lits::tools {
namespace {

std::string text_of(const Json* v) { return v != nullptr && v->kind == Json::Kind::kString ? v->text : ""; }
double number_of(const Json* v) { return v != nullptr && v->kind == Json::Kind::kNumber ? v->number : -1; }

}  // namespace

void print_torch_ratio(const std::string& kind, const std::string& setup, long long batch, long long size,
                       const std::string& device, double lits_ms) {
  const char* env = std::getenv("LITS_COMPARE_TORCH");
  const std::string path = env != nullptr && *env != '\0' ? env : "compare_torch.json";
  if (!std::filesystem::is_regular_file(path)) return;
  Json results;
  try {
    results = read_json_file(path);
  } catch (const Error& e) {
    std::printf("PyTorch: %s is unreadable (%s)\n", path.c_str(), e.what());
    return;
  }
  const std::string date = text_of(results.find("date"));
  const std::string where = text_of(results.find("device"));
  const Json* timings = results.find("timings");
  if (timings == nullptr || timings->kind != Json::Kind::kArray || where != device) return;
  // The setup's file name: compare_torch.py records preset names, the benchmarks may have a path.
  const std::string name = std::filesystem::path(setup).filename().string();
  for (const Json& t : timings->items) {
    if (text_of(t.find("kind")) != kind || text_of(t.find("setup")) != name) continue;
    if (number_of(t.find("batch")) != static_cast<double>(batch) ||
        number_of(t.find("size")) != static_cast<double>(size))
      continue;
    const Json* torch = t.find("torch");
    if (torch == nullptr || torch->kind != Json::Kind::kObject) continue;
    for (size_t i = 0; i < torch->keys.size(); ++i) {
      const double torch_ms = number_of(torch->items[i].find("ms"));
      if (torch_ms <= 0) continue;
      std::printf("PyTorch %s (%s, %s): %.1f ms; lits now %.1f ms: %.2fx PyTorch's speed\n", torch->keys[i].c_str(),
                  path.c_str(), date.c_str(), torch_ms, lits_ms, torch_ms / lits_ms);
    }
  }
}

}  // namespace lits::tools
