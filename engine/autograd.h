// Define-by-run reverse-mode autograd (docs/architecture.md section 5). Each differentiable op gives its
// outputs a Node whose backward closure maps output gradients to input gradients; edges point at
// the inputs' nodes (or at the AccumulateGrad node of a leaf). backward() walks the nodes in
// topological order without recursion, sums gradients arriving from several consumers, frees each
// node's saved tensors once it has run, and accumulates into leaf .grad.
#pragma once

#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace lits {

class Node {
 public:
  // Input gradients (one per op input; undefined where the input needs none) from output
  // gradients (one per op output; undefined where no gradient flowed to that output).
  using BackwardFn = std::function<std::vector<Tensor>(const std::vector<Tensor>& grad_outputs)>;

  struct Edge {
    std::shared_ptr<Node> node;  // null when the input does not require grad
    int input_nr = 0;            // which output of `node` the input was
  };
  struct InputMeta {
    Shape shape;
    DType dtype;
    Device device;
  };

  Node(std::string name, std::vector<Edge> next, std::vector<InputMeta> inputs, int num_outputs, BackwardFn fn);
  // Iterative teardown: a long chain of nodes must not be destroyed by recursion.
  virtual ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  const std::string& name() const { return name_; }
  const std::vector<Edge>& next_edges() const { return next_; }
  const std::vector<InputMeta>& inputs() const { return inputs_; }
  int num_outputs() const { return num_outputs_; }

  virtual std::vector<Tensor> apply(const std::vector<Tensor>& grad_outputs);
  // Drops the closure and with it every tensor it saved.
  void release() {
    fn_ = nullptr;
    released_ = true;
  }
  bool released() const { return released_; }

 private:
  std::string name_;
  std::vector<Edge> next_;
  std::vector<InputMeta> inputs_;
  int num_outputs_;
  BackwardFn fn_;
  bool released_ = false;
};

// Grad mode: on by default; NoGradGuard turns it off in a scope (inference, validation, the
// backward pass itself, optimizer updates).
bool grad_enabled();
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// ---- for op implementations (engine/ops/*.cpp) ----

// True when grad mode is on and any defined input requires grad.
bool any_requires_grad(std::initializer_list<Tensor> inputs);
bool any_requires_grad(const std::vector<Tensor>& inputs);

// Attaches a node named `op` (which must be in the op registry) to `outputs`, with edges to
// `inputs`. The closure must capture saved tensors as detach()ed handles, never the outputs
// themselves (that would be a reference cycle).
void record_op(const char* op, const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs,
               Node::BackwardFn fn);

void run_backward(const Tensor& root, const Tensor& grad, bool retain_graph);

}  // namespace lits
