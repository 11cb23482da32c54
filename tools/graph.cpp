// `lits graph`: the network as a Graphviz graph, drawn from the autograd graph of one forward
// pass at the smallest valid input size. Nodes are ops coloured by type like the reference's
// visualiser (convolution, transposed convolution, add, concat, softmax/sigmoid, pooling), with
// the shapes of their parameters; parameters themselves are not nodes.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "models/setup_files.h"
#include "models/unet.h"
#include "tools/commands.h"

namespace lits::tools {

namespace {

const char* colour_of(const std::string& op) {
  if (op == "conv2d") return "#8db4e2";            // convolution: blue
  if (op == "conv_transpose2d") return "#b4a7d6";  // transposed convolution: purple
  if (op == "add") return "#f9cb9c";               // residual / dense sums: orange
  if (op == "concat") return "#ffe599";            // skip concatenation: yellow
  if (op == "softmax" || op == "sigmoid") return "#b6d7a8";
  if (op == "max_pool2d" || op == "upsample_nearest2x") return "#ea9999";
  if (op == "batch_norm" || op == "group_norm") return "#d9d9d9";
  return "#ffffff";
}

bool is_leaf_node(const Node* n) { return n->name() == "accumulate_grad"; }

// Walks back from the network's outputs (the main output and the auxiliary heads).
std::string dot_of(const std::vector<Tensor>& outputs, const std::string& title) {
  std::map<const Node*, int> ids;
  std::vector<const Node*> order, stack;
  for (const Tensor& t : outputs) stack.push_back(t.grad_fn().get());
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    if (!n || ids.count(n) || is_leaf_node(n)) continue;
    ids[n] = static_cast<int>(order.size());
    order.push_back(n);
    for (const Node::Edge& e : n->next_edges()) stack.push_back(e.node.get());
  }
  std::ostringstream dot;
  dot << "digraph unet {\n  label=\"" << title << "\";\n  rankdir=TB;\n  node [shape=box, style=filled, "
      << "fontname=\"Helvetica\", fontsize=10];\n";
  for (const Node* n : order) {
    std::string params;
    for (size_t i = 0; i < n->next_edges().size(); ++i) {
      const Node::Edge& e = n->next_edges()[i];
      if (e.node && is_leaf_node(e.node.get())) params += "\\n" + n->inputs()[i].shape.str();
    }
    dot << "  n" << ids[n] << " [label=\"" << n->name() << params << "\", fillcolor=\"" << colour_of(n->name())
        << "\"];\n";
  }
  for (const Node* n : order)
    for (const Node::Edge& e : n->next_edges())
      if (e.node && ids.count(e.node.get())) dot << "  n" << ids[e.node.get()] << " -> n" << ids[n] << ";\n";
  dot << "}\n";
  return dot.str();
}

void write_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp);
    LITS_CHECK(f.good(), "graph: cannot write " << tmp);
    f << text;
    LITS_CHECK(f.good(), "graph: writing " << tmp << " failed");
  }
  LITS_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0, "graph: cannot rename " << tmp << " to " << path);
}

}  // namespace

int run_graph(const GraphOptions& options) {
  const std::vector<Setup> runs = load_runs(options.setup, options.base);
  LITS_CHECK(options.run >= 0 && options.run < static_cast<int>(runs.size()),
             "graph: --run " << options.run << " but '" << options.setup << "' has " << runs.size() << " run(s)");
  const UNetConfig cfg = unet_config_from(runs[options.run]);
  UNet net(cfg);
  net.train();  // auxiliary heads appear in training mode only
  const int64_t size = int64_t{1} << cfg.levels();
  const UNetOutput o = net.run(Tensor::zeros({1, cfg.channels, size, size}));
  std::vector<Tensor> outputs{o.out};
  outputs.insert(outputs.end(), o.aux.begin(), o.aux.end());
  std::string title = std::filesystem::path(options.setup).filename().string() + ", run " +
                      std::to_string(options.run) + ": " + std::to_string(net.parameter_count()) + " parameters";
  write_atomically(options.out, dot_of(outputs, title));
  std::printf("wrote %s\n", options.out.c_str());
  const std::filesystem::path svg = std::filesystem::path(options.out).replace_extension(".svg");
  if (std::system("command -v dot > /dev/null 2>&1") == 0) {
    const std::string cmd = "dot -Tsvg '" + options.out + "' -o '" + svg.string() + "'";
    LITS_CHECK(std::system(cmd.c_str()) == 0, "graph: '" << cmd << "' failed");
    std::printf("wrote %s\n", svg.string().c_str());
  } else {
    std::printf("Graphviz `dot` is not installed: no .svg written (apt-get install graphviz)\n");
  }
  return 0;
}

}  // namespace lits::tools
