// Module bookkeeping: registration, recursive naming, train/eval and device/dtype moves.
#include "layers/module.h"

#include "engine/autograd.h"

namespace lits {

void Module::register_parameter(const std::string& name, Tensor* slot) {
  LITS_CHECK(slot && slot->defined(), type_ << ": parameter '" << name << "' registered undefined");
  NoGradGuard no_grad;
  if (!slot->requires_grad()) slot->set_requires_grad(true);
  parameters_.emplace_back(name, slot);
}

void Module::register_buffer(const std::string& name, Tensor* slot) {
  LITS_CHECK(slot && slot->defined(), type_ << ": buffer '" << name << "' registered undefined");
  buffers_.emplace_back(name, slot);
}

void Module::collect(const std::string& prefix, bool parameters,
                     std::vector<std::pair<std::string, Tensor*>>* out) const {
  for (const auto& [name, slot] : parameters ? parameters_ : buffers_) out->emplace_back(prefix + name, slot);
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", parameters, out);
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters() const {
  std::vector<std::pair<std::string, Tensor*>> slots;
  collect("", true, &slots);
  std::vector<std::pair<std::string, Tensor>> out;
  for (const auto& [name, slot] : slots) out.emplace_back(name, *slot);
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers() const {
  std::vector<std::pair<std::string, Tensor*>> slots;
  collect("", false, &slots);
  std::vector<std::pair<std::string, Tensor>> out;
  for (const auto& [name, slot] : slots) out.emplace_back(name, *slot);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters()) out.push_back(t);
  return out;
}

int64_t Module::parameter_count() const {
  int64_t n = 0;
  for (const auto& [name, t] : named_parameters()) n += t.numel();
  return n;
}

Tensor& Module::find(const std::string& name) {
  for (bool params : {true, false}) {
    std::vector<std::pair<std::string, Tensor*>> slots;
    collect("", params, &slots);
    for (auto& [n, slot] : slots)
      if (n == name) return *slot;
  }
  LITS_THROW(type_ << ": no parameter or buffer named '" << name << "'");
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

void Module::for_each_module(const std::function<void(Module&)>& fn) {
  fn(*this);
  for (auto& [name, child] : children_) child->for_each_module(fn);
}

void Module::for_each_slot(bool parameters, bool buffers, const std::function<void(Tensor*, bool)>& fn) {
  if (parameters)
    for (auto& [name, slot] : parameters_) fn(slot, true);
  if (buffers)
    for (auto& [name, slot] : buffers_) fn(slot, false);
  for (auto& [name, child] : children_) child->for_each_slot(parameters, buffers, fn);
}

void Module::to(Device device) {
  NoGradGuard no_grad;
  for_each_slot(true, true, [&](Tensor* t, bool is_param) {
    *t = t->detach().to(device);
    if (is_param) t->set_requires_grad(true);
  });
}

void Module::to(DType dtype) {
  NoGradGuard no_grad;
  for_each_slot(true, true, [&](Tensor* t, bool is_param) {
    *t = t->detach().to(dtype);
    if (is_param) t->set_requires_grad(true);
  });
}

void Module::zero_grad() {
  for_each_slot(true, false, [](Tensor* t, bool) { t->zero_grad(); });
}

}  // namespace lits
