// The shared registry of live emulated objects (handles.h).
#include "cuda_emu/handles.h"

#include <map>
#include <mutex>

namespace lits_emu {
namespace {

std::mutex g_mutex;
std::map<const void*, std::type_index> g_live;

}  // namespace

void register_handle(const void* p, std::type_index type) {
  std::lock_guard lock(g_mutex);
  g_live.insert_or_assign(p, type);
}

bool unregister_handle(const void* p, std::type_index type) {
  std::lock_guard lock(g_mutex);
  const auto it = g_live.find(p);
  if (it == g_live.end() || it->second != type) return false;
  g_live.erase(it);
  return true;
}

bool handle_live(const void* p, std::type_index type) {
  std::lock_guard lock(g_mutex);
  const auto it = g_live.find(p);
  return it != g_live.end() && it->second == type;
}

}  // namespace lits_emu
