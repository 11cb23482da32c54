// The live-object registry every emulated library shares: streams and events, cuBLAS handles,
// cuDNN handles and descriptors. An object is valid from its creation to its destruction and only
// as its own type, so a destroyed, foreign or mistyped handle is refused with the library's error
// instead of being dereferenced.
#pragma once

#include <typeindex>
#include <utility>

namespace lits_emu {

void register_handle(const void* p, std::type_index type);
bool unregister_handle(const void* p, std::type_index type);  // false: not a live object of `type`
bool handle_live(const void* p, std::type_index type);

template <typename T>
T* make_handle(T value) {
  T* p = new T(std::move(value));
  register_handle(p, typeid(T));
  return p;
}
// False (and nothing freed) when `p` is not a live T.
template <typename T>
bool drop_handle(T* p) {
  if (!unregister_handle(p, typeid(T))) return false;
  delete p;
  return true;
}
template <typename T>
bool live_handle(const T* p) {
  return handle_live(p, typeid(T));
}

}  // namespace lits_emu
