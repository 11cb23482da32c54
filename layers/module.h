// Module: the unit networks are built from. It owns named parameters (leaf tensors that require
// grad), named buffers (state such as BatchNorm's running statistics) and named children, and
// gives them stable dotted names for the state dict ("enc.2.conv.1.weight"). Modules are held by
// shared_ptr and never copied or moved: parameters are registered by address.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace lits {

class Module {
 public:
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  virtual Tensor forward(const Tensor& x) = 0;
  Tensor operator()(const Tensor& x) { return forward(x); }

  const std::string& type_name() const { return type_; }
  // Recursive, in registration order, children after their parent's own entries.
  std::vector<std::pair<std::string, Tensor>> named_parameters() const;
  std::vector<std::pair<std::string, Tensor>> named_buffers() const;
  std::vector<Tensor> parameters() const;
  int64_t parameter_count() const;  // elements of all parameters (buffers excluded)
  // The parameter or buffer with this dotted name; throws naming the module type when absent.
  Tensor& find(const std::string& name);

  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // Moves (or converts) every parameter and buffer; parameters stay leaves that require grad.
  void to(Device device);
  void to(DType dtype);
  void zero_grad();
  // This module, then its children recursively, in registration order.
  void for_each_module(const std::function<void(Module&)>& fn);

 protected:
  explicit Module(std::string type) : type_(std::move(type)) {}
  // `slot` must be a member of the derived module (it lives as long as the module).
  void register_parameter(const std::string& name, Tensor* slot);
  void register_buffer(const std::string& name, Tensor* slot);
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> child) {
    children_.emplace_back(name, child);
    return child;
  }

 private:
  void collect(const std::string& prefix, bool parameters, std::vector<std::pair<std::string, Tensor*>>* out) const;
  void for_each_slot(bool parameters, bool buffers, const std::function<void(Tensor*, bool)>& fn);

  std::string type_;
  bool training_ = true;
  std::vector<std::pair<std::string, Tensor*>> parameters_, buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

}  // namespace lits
