// The backward walk: dependency counting, then Kahn's algorithm with per-node gradient buffers.
#include "engine/autograd.h"

#include <deque>
#include <unordered_map>

#include "engine/op_registry.h"
#include "engine/ops.h"

namespace lits {

namespace {
thread_local bool g_grad_enabled = true;

// The leaf end of the graph: adds the incoming gradient into the leaf's .grad.
class AccumulateGrad : public Node {
 public:
  explicit AccumulateGrad(const std::shared_ptr<TensorImpl>& leaf)
      : Node("accumulate_grad", {}, {{leaf->shape, leaf->dtype, leaf->device}}, 1, nullptr), leaf_(leaf) {}

  std::vector<Tensor> apply(const std::vector<Tensor>& grads) override {
    auto leaf = leaf_.lock();
    if (!leaf || !grads[0].defined()) return {};
    if (!leaf->grad.defined()) {
      // Own copy: the incoming tensor may also be another leaf's gradient (add passes it through).
      leaf->grad = grads[0].clone();
    } else {
      leaf->grad.add_(grads[0]);
    }
    if (leaf->grad_ready_hook) leaf->grad_ready_hook();
    return {};
  }

 private:
  std::weak_ptr<TensorImpl> leaf_;
};

Node::Edge edge_to(const Tensor& t) {
  TensorImpl* impl = t.impl();
  if (impl->grad_fn) return {impl->grad_fn, impl->output_nr};
  auto acc = impl->grad_accumulator.lock();
  if (!acc) {
    acc = std::make_shared<AccumulateGrad>(t.impl_ptr());
    impl->grad_accumulator = acc;
  }
  return {acc, 0};
}

}  // namespace

Node::Node(std::string name, std::vector<Edge> next, std::vector<InputMeta> inputs, int num_outputs, BackwardFn fn)
    : name_(std::move(name)),
      next_(std::move(next)),
      inputs_(std::move(inputs)),
      num_outputs_(num_outputs),
      fn_(std::move(fn)) {}

Node::~Node() {
  std::vector<std::shared_ptr<Node>> pending;
  for (Edge& e : next_)
    if (e.node) pending.push_back(std::move(e.node));
  next_.clear();
  while (!pending.empty()) {
    std::shared_ptr<Node> n = std::move(pending.back());
    pending.pop_back();
    if (n.use_count() == 1) {  // last owner: take its edges so its destructor has nothing to recurse into
      for (Edge& e : n->next_)
        if (e.node) pending.push_back(std::move(e.node));
      n->next_.clear();
    }
  }
}

std::vector<Tensor> Node::apply(const std::vector<Tensor>& grad_outputs) {
  LITS_CHECK(!released_, "backward through op '" << name_
                                                 << "' a second time: its saved tensors were freed by the first "
                                                    "backward() (pass retain_graph = true to keep them)");
  return fn_(grad_outputs);
}

bool grad_enabled() { return g_grad_enabled; }
NoGradGuard::NoGradGuard() : previous_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = previous_; }

bool any_requires_grad(std::initializer_list<Tensor> inputs) {
  if (!g_grad_enabled) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

bool any_requires_grad(const std::vector<Tensor>& inputs) {
  if (!g_grad_enabled) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

void record_op(const char* op, const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs,
               Node::BackwardFn fn) {
  LITS_CHECK(is_registered_op(op), "op '" << op << "' records a backward but is not in engine/op_registry.cpp");
  std::vector<Node::Edge> next;
  std::vector<Node::InputMeta> meta;
  for (const Tensor& t : inputs) {
    if (t.defined() && t.requires_grad()) {
      next.push_back(edge_to(t));
      meta.push_back({t.shape(), t.dtype(), t.device()});
    } else {
      next.push_back({});
      meta.push_back({t.defined() ? t.shape() : Shape{}, t.defined() ? t.dtype() : DType::kFloat32,
                      t.defined() ? t.device() : Device::cpu()});
    }
  }
  auto node =
      std::make_shared<Node>(op, std::move(next), std::move(meta), static_cast<int>(outputs.size()), std::move(fn));
  for (size_t i = 0; i < outputs.size(); ++i) {
    TensorImpl* impl = outputs[i].impl();
    impl->grad_fn = node;
    impl->output_nr = static_cast<int>(i);
    impl->requires_grad = true;
  }
}

void run_backward(const Tensor& root, const Tensor& grad, bool retain_graph) {
  LITS_CHECK(root.requires_grad(), "backward() on " << root.str()
                                                    << ", which does not require grad (no input of the "
                                                       "computation has requires_grad set)");
  Tensor seed = grad;
  if (!seed.defined()) {
    LITS_CHECK(root.numel() == 1, "backward() without a gradient on " << root.str()
                                                                      << ": only one-element outputs get the "
                                                                         "implicit gradient 1");
    seed = Tensor::ones(root.shape(), root.dtype(), root.device());
  } else {
    LITS_CHECK(seed.shape() == root.shape() && seed.device() == root.device() && seed.dtype() == root.dtype(),
               "backward(): gradient " << seed.str() << " for output " << root.str()
                                       << " (expected the same shape, dtype and device)");
  }
  NoGradGuard no_grad;
  const Node::Edge root_edge = edge_to(root);

  // Pass 1: count, for each node, the edges that lead into it.
  std::unordered_map<Node*, int> deps;
  std::unordered_map<Node*, std::shared_ptr<Node>> keep;  // nodes stay alive for the walk
  std::vector<Node*> stack{root_edge.node.get()};
  keep[root_edge.node.get()] = root_edge.node;
  deps[root_edge.node.get()] = 0;
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const Node::Edge& e : n->next_edges()) {
      if (!e.node) continue;
      Node* m = e.node.get();
      if (keep.emplace(m, e.node).second) {
        deps[m] = 0;
        stack.push_back(m);
      }
      deps[m] += 1;
    }
  }

  // Pass 2: run nodes whose consumers have all delivered their gradients.
  std::unordered_map<Node*, std::vector<Tensor>> buffers;
  buffers[root_edge.node.get()].resize(root_edge.node->num_outputs());
  buffers[root_edge.node.get()][root_edge.input_nr] = seed;
  std::deque<Node*> ready{root_edge.node.get()};
  while (!ready.empty()) {
    Node* n = ready.front();
    ready.pop_front();
    std::vector<Tensor> grads_out = std::move(buffers[n]);
    buffers.erase(n);
    grads_out.resize(n->num_outputs());
    bool any = false;
    for (const Tensor& g : grads_out) any = any || g.defined();
    std::vector<Tensor> grads_in;
    if (any) grads_in = n->apply(grads_out);
    if (!retain_graph) n->release();
    const auto& next = n->next_edges();
    for (size_t i = 0; i < next.size(); ++i) {
      const Node::Edge& e = next[i];
      if (!e.node) continue;
      Node* m = e.node.get();
      if (i < grads_in.size() && grads_in[i].defined()) {
        const Tensor& g = grads_in[i];
        const Node::InputMeta& want = n->inputs()[i];
        LITS_CHECK(g.shape() == want.shape && g.dtype() == want.dtype && g.device() == want.device,
                   "backward of op '" << n->name() << "' returned gradient " << g.str() << " for input " << i
                                      << " of shape " << want.shape.str() << " on " << want.device.str());
        auto& buf = buffers[m];
        buf.resize(m->num_outputs());
        buf[e.input_nr] = buf[e.input_nr].defined() ? add(buf[e.input_nr], g) : g;
      }
      if (--deps[m] == 0) ready.push_back(m);
    }
  }
}

}  // namespace lits
