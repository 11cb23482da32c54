// The ONNX export (see onnx_export.h): UNet::run's evaluation-mode graph, level by level as unet.cpp builds
// it and models/unet_fused.cpp walks it, written as ONNX nodes. Weights are read by their state-dict names
// (models/unet.h); strides and paddings come from the config as the builder sets them.
#include "pipeline/infer/onnx_export.h"

#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <map>
#include <sstream>
#include <vector>

#include "engine/error.h"
#include "layers/norm.h"
#include "pipeline/data/split.h"
#include "pipeline/infer/inference.h"
#include "pipeline/io/atomic_file.h"

#if LITS_HAVE_ONNX
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#endif

namespace fs = std::filesystem;

namespace lits {

bool onnx_export_available() { return LITS_HAVE_ONNX != 0; }

namespace {

#if LITS_HAVE_ONNX

// The folder must exist and be writable, and `path` must not be a folder: checked before any work.
void check_output_path(const std::string& path) {
  LITS_CHECK(!path.empty(), "export: no output path (--onnx FILE)");
  const fs::path p(path);
  LITS_CHECK(!fs::is_directory(p),
             "export: output '" << path << "' is a folder (expected a file name, e.g. model.onnx)");
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  LITS_CHECK(fs::is_directory(dir), "export: the folder of output '" << path << "' does not exist");
  const std::string probe = (dir / (".lits_export_probe_" + std::to_string(::getpid()))).string();
  FILE* f = std::fopen(probe.c_str(), "wb");
  LITS_CHECK(f != nullptr, "export: cannot write to the folder of output '" << path << "': " << std::strerror(errno));
  std::fclose(f);
  fs::remove(probe);
}

int64_t pow2(int64_t e) { return int64_t{1} << e; }

// Evaluation-mode BatchNorm as y = x * scale + shift (in double).
struct Affine {
  std::vector<double> scale, shift;
};

// Value names, initializers and nodes of one graph.
class GraphWriter {
 public:
  explicit GraphWriter(onnx::GraphProto& g) : g_(g) {}

  std::string unique(const std::string& base) {
    const int n = used_[base]++;
    return n == 0 ? base : base + "#" + std::to_string(n);
  }
  std::string floats(const std::string& name, const std::vector<double>& v, const std::vector<int64_t>& dims) {
    onnx::TensorProto* t = g_.add_initializer();
    t->set_name(unique(name));
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims) t->add_dims(d);
    std::vector<float> f(v.begin(), v.end());
    t->set_raw_data(f.data(), f.size() * sizeof(float));  // little-endian, as ONNX's raw_data
    values_ += static_cast<int64_t>(f.size());
    return t->name();
  }
  std::string ints(const std::string& name, const std::vector<int64_t>& v) {
    onnx::TensorProto* t = g_.add_initializer();
    t->set_name(unique(name));
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(static_cast<int64_t>(v.size()));
    for (int64_t x : v) t->add_int64_data(x);
    return t->name();
  }
  // A node named `name` with one output (named after the node); returns the output's name.
  std::string node(const std::string& op, const std::string& name, const std::vector<std::string>& inputs,
                   onnx::NodeProto** out = nullptr) {
    onnx::NodeProto* n = g_.add_node();
    n->set_op_type(op);
    n->set_name(unique(name));
    for (const std::string& i : inputs) n->add_input(i);
    n->add_output(n->name());
    if (out != nullptr) *out = n;
    return n->name();
  }
  // Renames the output of the last node (the graph's output).
  void rename_last_output(const std::string& name) { g_.mutable_node(g_.node_size() - 1)->set_output(0, name); }

  static void attr(onnx::NodeProto* n, const std::string& key, int64_t v) {
    onnx::AttributeProto* a = n->add_attribute();
    a->set_name(key);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void attr(onnx::NodeProto* n, const std::string& key, float v) {
    onnx::AttributeProto* a = n->add_attribute();
    a->set_name(key);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(v);
  }
  static void attr(onnx::NodeProto* n, const std::string& key, const std::string& v) {
    onnx::AttributeProto* a = n->add_attribute();
    a->set_name(key);
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(v);
  }
  static void attr(onnx::NodeProto* n, const std::string& key, const std::vector<int64_t>& v) {
    onnx::AttributeProto* a = n->add_attribute();
    a->set_name(key);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
  }
  int64_t values() const { return values_; }

 private:
  onnx::GraphProto& g_;
  std::map<std::string, int> used_;
  int64_t values_ = 0;
};

// UNet::run in evaluation mode, as ONNX nodes.
class UNetWriter {
 public:
  UNetWriter(UNet& net, GraphWriter& w) : net_(net), c_(net.config()), w_(w) {
    // GroupNorm's group count is the layer's own (unet.cpp's rule per norm), found by its weight's slot.
    net.for_each_module([this](Module& m) {
      if (auto* gn = dynamic_cast<GroupNorm*>(&m)) groups_[&gn->find("weight")] = gn->groups();
    });
  }

  // Returns the probabilities' value name.
  std::string build(const std::string& input) {
    const int64_t L = c_.levels(), F = c_.filter_start, Fu = c_.filter_start_up;
    const bool residual = c_.backbone != "base";
    std::string x = leaky(conv_norm("input.conv", input, 1, 1, 1, "input.norm"), "input.act");
    bool normalised = false;  // x is already its stage's first norm's output (folded into a strided-conv pool)
    std::vector<std::string> skips;
    for (int64_t i = 0; i < L; ++i) {
      const std::string name = "enc." + std::to_string(i);
      const int64_t fin = F * pow2(i), fout = F * pow2(i + 1);
      const std::string level = stage(name, x, normalised, c_.structure[i], c_.dilation[i], residual && fin != fout);
      if (i + 1 == L) {  // the bottleneck's downsampler is built but its output is discarded
        x = level;
        break;
      }
      skips.push_back(level);
      const std::string next = "enc." + std::to_string(i + 1) + ".norm.0";
      normalised = c_.use_conv_pool && c_.use_batchnorm;
      if (c_.use_conv_pool) {
        x = normalised ? conv_norm(name + ".pool", level, 2, 1, 1, next) : conv(name + ".pool", level, 2, 1, 1);
      } else {
        onnx::NodeProto* n = nullptr;
        x = w_.node("MaxPool", name + ".maxpool", {level}, &n);
        GraphWriter::attr(n, "kernel_shape", std::vector<int64_t>{3, 3});
        GraphWriter::attr(n, "strides", std::vector<int64_t>{2, 2});
        GraphWriter::attr(n, "pads", std::vector<int64_t>{1, 1, 1, 1});
      }
    }
    std::vector<std::string> pyramid{x};
    for (int64_t j = 0; j + 1 < L; ++j) {
      const std::string name = "dec." + std::to_string(j);
      const int64_t in_ch = j == 0 ? F * pow2(L) : Fu * pow2(L - j), out_ch = Fu * pow2(L - 1 - j);
      std::string up;
      if (c_.up_conv_type.empty()) {
        up = conv(name + ".up", upsample(x, name + ".upsample"), 1, 0, 1);
      } else {
        up = conv_transpose(name + ".up", x, c_.up_conv_type[1], c_.up_conv_type[2]);
      }
      const std::string cat = concat({up, skips[static_cast<size_t>(L - 2 - j)]}, name + ".concat");
      x = stage(name, cat, false, c_.structure_up[L - 1 - j], c_.dilation_up[L - 1 - j], residual && in_ch != out_ch);
      if (c_.use_pypool && j + 2 < L) pyramid.push_back(x);
    }
    if (c_.use_pypool) {
      std::vector<std::string> parts{x};
      for (int64_t j = 0; j + 1 < L; ++j)
        parts.push_back(conv_transpose("pypool." + std::to_string(j), pyramid[static_cast<size_t>(j)], pow2(L - 1 - j),
                                       pow2(L - 2 - j)));
      x = concat(parts, "pypool.concat");
    }
    x = conv("output", x, 1, 0, 1);
    if (c_.num_out_classes > 1) {
      onnx::NodeProto* n = nullptr;
      w_.node("Softmax", "output.softmax", {x}, &n);
      GraphWriter::attr(n, "axis", int64_t{1});  // over the classes
    } else {
      w_.node("Sigmoid", "output.sigmoid", {x});
    }
    w_.rename_last_output("probabilities");
    return "probabilities";
  }

  int64_t folded = 0, batch_norms = 0, group_norms = 0;

 private:
  // One ConvStage (unet.cpp) from its input `x` (already its first norm's output when `normalised`);
  // returns its last LeakyReLU's value (after squeeze-excitation, if any).
  std::string stage(const std::string& name, const std::string& x, bool normalised, int64_t reps, int64_t dil,
                    bool adjust) {
    const bool dense = c_.backbone == "dense_residual";
    std::string cur = x, skip_sum;
    for (int64_t r = 0; r < reps; ++r) {
      const std::string idx = std::to_string(r);
      const std::string n = r == 0 && normalised ? x : norm(name + ".norm." + idx, cur);
      std::string y = block(name + ".conv." + idx, n, dil);
      if (adjust) {  // the skip adds the normalised input, through the 1x1 adjust conv at r = 0
        const std::string s = r == 0 ? conv(name + ".adjust", n, 1, 0, 1) : n;
        skip_sum = !skip_sum.empty() && dense ? w_.node("Add", name + ".skip_sum." + idx, {skip_sum, s}) : s;
        y = w_.node("Add", name + ".skip." + idx, {y, skip_sum});
      }
      cur = leaky(y, name + ".act." + idx);
    }
    return c_.se_reduction > 0.0 ? squeeze_excite(name + ".se", cur) : cur;
  }

  // A repetition's conv: a 3x3, or the 'res' block (1x1 reduce, norm, 3x3, norm, 1x1 expand).
  std::string block(const std::string& name, const std::string& x, int64_t dil) {
    if (c_.block_type != "res") return conv(name, x, 1, dil, dil);
    std::string h = leaky(conv_norm(name + ".reduce", x, 1, 0, 1, name + ".norm1"), name + ".act1");
    h = leaky(conv_norm(name + ".mid", h, 1, dil, dil, name + ".norm2"), name + ".act2");
    return conv(name + ".expand", h, 1, 0, 1);
  }

  // The reference's SE (layers/squeeze_excite.h) with its two Linear layers as 1x1 convolutions.
  std::string squeeze_excite(const std::string& name, const std::string& x) {
    std::string s = w_.node("GlobalAveragePool", name + ".pool", {x});
    s = leaky(conv(name + ".fc1", s, 1, 0, 1), name + ".act");
    s = w_.node("Sigmoid", name + ".sigmoid", {conv(name + ".fc2", s, 1, 0, 1)});
    return w_.node("Mul", name + ".scale", {x, s});
  }

  // Convolution `prefix` followed by norm `norm_prefix`: one Conv with a BatchNorm folded in, or a Conv
  // and a GroupNorm.
  std::string conv_norm(const std::string& prefix, const std::string& x, int64_t stride, int64_t pad, int64_t dil,
                        const std::string& norm_prefix) {
    if (!c_.use_batchnorm) return norm(norm_prefix, conv(prefix, x, stride, pad, dil));
    const Affine a = bn(norm_prefix);
    ++folded;
    return conv(prefix, x, stride, pad, dil, &a);
  }

  // A Conv node with weight [out, in, k, k] (a Linear's [out, in] as 1x1), each output channel's weights and
  // bias scaled and shifted by `fold` when given.
  std::string conv(const std::string& prefix, const std::string& x, int64_t stride, int64_t pad, int64_t dil,
                   const Affine* fold = nullptr) {
    const Tensor& wt = net_.find(prefix + ".weight");
    std::vector<int64_t> dims = wt.shape().vec();
    if (dims.size() == 2) dims.insert(dims.end(), {1, 1});
    std::vector<double> weight = wt.to_vector(), bias = net_.find(prefix + ".bias").to_vector();
    if (fold != nullptr) {
      const size_t per = weight.size() / bias.size();
      for (size_t i = 0; i < weight.size(); ++i) weight[i] *= fold->scale[i / per];
      for (size_t o = 0; o < bias.size(); ++o) bias[o] = bias[o] * fold->scale[o] + fold->shift[o];
    }
    const std::string wn = w_.floats(prefix + ".weight", weight, dims);
    const std::string bn = w_.floats(prefix + ".bias", bias, {dims[0]});
    onnx::NodeProto* n = nullptr;
    const std::string y = w_.node("Conv", prefix, {x, wn, bn}, &n);
    GraphWriter::attr(n, "kernel_shape", std::vector<int64_t>{dims[2], dims[3]});
    GraphWriter::attr(n, "strides", std::vector<int64_t>{stride, stride});
    GraphWriter::attr(n, "pads", std::vector<int64_t>{pad, pad, pad, pad});
    GraphWriter::attr(n, "dilations", std::vector<int64_t>{dil, dil});
    return y;
  }

  // A ConvTranspose node, weight [in, out, k, k] as PyTorch's and ONNX's layout.
  std::string conv_transpose(const std::string& prefix, const std::string& x, int64_t stride, int64_t pad) {
    const Tensor& wt = net_.find(prefix + ".weight");
    const std::vector<int64_t> dims = wt.shape().vec();
    const std::string wn = w_.floats(prefix + ".weight", wt.to_vector(), dims);
    const std::string bn = w_.floats(prefix + ".bias", net_.find(prefix + ".bias").to_vector(), {dims[1]});
    onnx::NodeProto* n = nullptr;
    const std::string y = w_.node("ConvTranspose", prefix, {x, wn, bn}, &n);
    GraphWriter::attr(n, "kernel_shape", std::vector<int64_t>{dims[2], dims[3]});
    GraphWriter::attr(n, "strides", std::vector<int64_t>{stride, stride});
    GraphWriter::attr(n, "pads", std::vector<int64_t>{pad, pad, pad, pad});
    return y;
  }

  // An unfolded norm: BatchNormalization with the running statistics, or GroupNorm as InstanceNormalization
  // over [N, G, C/G * H * W] with unit scale, then the per-channel affine.
  std::string norm(const std::string& prefix, const std::string& x) {
    const Tensor& gamma = net_.find(prefix + ".weight");
    const int64_t ch = gamma.numel();
    if (c_.use_batchnorm) {
      ++batch_norms;
      std::vector<std::string> in{x};
      for (const char* part : {".weight", ".bias", ".running_mean", ".running_var"})
        in.push_back(w_.floats(prefix + part, net_.find(prefix + part).to_vector(), {ch}));
      onnx::NodeProto* n = nullptr;
      const std::string y = w_.node("BatchNormalization", prefix, in, &n);
      GraphWriter::attr(n, "epsilon", static_cast<float>(kUNetBatchNormEps));
      return y;
    }
    const auto it = groups_.find(&gamma);
    LITS_CHECK(it != groups_.end(), "export: norm '" << prefix << "' is not a GroupNorm layer");
    const int64_t g = it->second;
    ++group_norms;
    const std::string grouped =
        w_.node("Reshape", prefix + ".group", {x, w_.ints(prefix + ".group_shape", {0, g, -1})});
    onnx::NodeProto* n = nullptr;
    const std::string normed =
        w_.node("InstanceNormalization", prefix + ".normalize",
                {grouped, w_.floats(prefix + ".unit_scale", std::vector<double>(static_cast<size_t>(g), 1.0), {g}),
                 w_.floats(prefix + ".zero_shift", std::vector<double>(static_cast<size_t>(g), 0.0), {g})},
                &n);
    GraphWriter::attr(n, "epsilon", static_cast<float>(kGroupNormEps));
    const std::string shape = w_.node("Shape", prefix + ".shape", {x});
    const std::string back = w_.node("Reshape", prefix + ".ungroup", {normed, shape});
    const std::string scaled =
        w_.node("Mul", prefix + ".gamma", {back, w_.floats(prefix + ".weight", gamma.to_vector(), {ch, 1, 1})});
    return w_.node("Add", prefix + ".beta",
                   {scaled, w_.floats(prefix + ".bias", net_.find(prefix + ".bias").to_vector(), {ch, 1, 1})});
  }

  Affine bn(const std::string& prefix) {
    BatchNormAffine d = batch_norm_affine(net_, prefix);
    return Affine{std::move(d.scale), std::move(d.shift)};
  }

  std::string leaky(const std::string& x, const std::string& name) {
    onnx::NodeProto* n = nullptr;
    const std::string y = w_.node("LeakyRelu", name, {x}, &n);
    GraphWriter::attr(n, "alpha", static_cast<float>(kUNetSlope));
    return y;
  }

  // Nearest x2 (out[i] = in[floor(i / 2)]): Resize with asymmetric coordinates and floor.
  std::string upsample(const std::string& x, const std::string& name) {
    if (scales_.empty()) scales_ = w_.floats("upsample_scales", {1.0, 1.0, 2.0, 2.0}, {4});
    onnx::NodeProto* n = nullptr;
    const std::string y = w_.node("Resize", name, {x, "", scales_}, &n);
    GraphWriter::attr(n, "mode", std::string("nearest"));
    GraphWriter::attr(n, "coordinate_transformation_mode", std::string("asymmetric"));
    GraphWriter::attr(n, "nearest_mode", std::string("floor"));
    return y;
  }

  std::string concat(const std::vector<std::string>& parts, const std::string& name) {
    onnx::NodeProto* n = nullptr;
    const std::string y = w_.node("Concat", name, parts, &n);
    GraphWriter::attr(n, "axis", int64_t{1});  // the channels
    return y;
  }

  static constexpr double kGroupNormEps = 1e-5;  // layers/norm.h's default, which the UNet's GroupNorms use

  UNet& net_;
  const UNetConfig& c_;
  GraphWriter& w_;
  std::map<const Tensor*, int64_t> groups_;
  std::string scales_;
};

void set_type(onnx::ValueInfoProto* v, const std::string& name, int64_t channels) {
  v->set_name(name);
  onnx::TypeProto::Tensor* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  onnx::TensorShapeProto* s = t->mutable_shape();
  s->add_dim()->set_dim_param("N");
  s->add_dim()->set_dim_value(channels);
  s->add_dim()->set_dim_param("H");
  s->add_dim()->set_dim_param("W");
}

void add_metadata(onnx::ModelProto& m, const std::string& key, const std::string& value) {
  onnx::StringStringEntryProto* e = m.add_metadata_props();
  e->set_key(key);
  e->set_value(value);
}

// The serialised, checked model.
std::string model_bytes(UNet& net, const std::string& description, const std::string& metadata, OnnxExportInfo* info) {
  const UNetConfig& c = net.config();
  onnx::ModelProto m;
  m.set_ir_version(8);  // the IR of opset 17 (ONNX 1.12), which every current runtime reads
  m.set_producer_name("lits");
  m.set_domain("lits-engine");
  onnx::OperatorSetIdProto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(kOnnxOpset);
  onnx::GraphProto* g = m.mutable_graph();
  g->set_name("lits_unet");
  set_type(g->add_input(), "input", c.channels);
  set_type(g->add_output(), "probabilities", c.num_out_classes);
  GraphWriter w(*g);
  UNetWriter unet(net, w);
  unet.build("input");

  info->size_divisor = net.size_divisor();
  info->nodes = g->node_size();
  info->initializers = g->initializer_size();
  info->values = w.values();
  info->folded_norms = unet.folded;
  info->batch_norms = unet.batch_norms;
  info->group_norms = unet.group_norms;
  std::ostringstream doc;
  doc << description << (description.empty() ? "" : "\n") << "lits-engine UNet in evaluation mode, ONNX opset "
      << kOnnxOpset << ".\n"
      << "Input \"input\": float32 [N, " << c.channels << ", H, W]; H and W must be multiples of " << info->size_divisor
      << " (pad other sizes at the bottom and right, then crop the output back).\n"
      << "Output \"probabilities\": float32 [N, " << c.num_out_classes << ", H, W], "
      << (c.num_out_classes > 1 ? "softmax over the classes (the last channel is the foreground)"
                                : "sigmoid of the one foreground channel")
      << (c.output_logits ? ", applied to the logits the run was trained on" : "") << ".\n"
      << "BatchNorm folded into the convolution before it: " << info->folded_norms
      << "; BatchNormalization (running statistics): " << info->batch_norms
      << "; GroupNorm as Reshape + InstanceNormalization + Reshape + Mul + Add: " << info->group_norms
      << ". No dropout, no deep-supervision heads.";
  info->doc = doc.str();
  m.set_doc_string(info->doc);
  add_metadata(m, "lits.size_divisor", std::to_string(info->size_divisor));
  add_metadata(m, "lits.input_channels", std::to_string(c.channels));
  add_metadata(m, "lits.classes", std::to_string(c.num_out_classes));
  std::istringstream lines(metadata);
  for (std::string line; std::getline(lines, line);) {
    const size_t eq = line.find('=');
    if (eq != std::string::npos) add_metadata(m, line.substr(0, eq), line.substr(eq + 1));
  }

  try {
    onnx::checker::check_model(m);
  } catch (const std::exception& e) {
    LITS_THROW("export: ONNX's model checker refused the graph lits wrote (a bug in lits): " << e.what());
  }
  const size_t size = m.ByteSizeLong();
  LITS_CHECK(size <= static_cast<size_t>(INT_MAX),
             "export: the model would take " << size / (1 << 20) << " MiB; a single ONNX file holds at most 2 GiB "
                                             << "(protobuf's limit), and lits does not write external weight files");
  std::string bytes;
  LITS_CHECK(m.SerializeToString(&bytes), "export: protobuf could not serialise the model");
  info->bytes = static_cast<int64_t>(bytes.size());
  return bytes;
}

#endif  // LITS_HAVE_ONNX

constexpr const char* kNoOnnx =
    "export: this lits was built without ONNX (CMake did not find Debian's libonnx-dev and libprotobuf-dev, or "
    "LITS_ONNX=OFF); install them (tools/setup.sh does) and configure again, e.g. cmake -DLITS_ONNX=ON";

}  // namespace

OnnxExportInfo export_onnx(UNet& net, const std::string& path, const std::string& description,
                           const std::string& metadata) {
#if LITS_HAVE_ONNX
  check_output_path(path);
  OnnxExportInfo info;
  const std::string bytes = model_bytes(net, description, metadata, &info);
  write_file_atomic(path, {{bytes.data(), bytes.size()}});
  return info;
#else
  (void)net, (void)path, (void)description, (void)metadata;
  LITS_THROW(kNoOnnx);
#endif
}

OnnxExportInfo export_run_onnx(const std::string& run_dir, const std::string& which, const std::string& path) {
  LITS_CHECK(onnx_export_available(), kNoOnnx);
  LITS_CHECK(which == "best" || which == "latest", "export: checkpoint '" << which << "' (expected best or latest)");
  LITS_CHECK(fs::is_directory(run_dir),
             "export: run '" << run_dir << "' is not a folder (expected a run folder of `lits train`)");
  LITS_CHECK(fs::is_regular_file(fs::path(run_dir) / "config.json"),
             "export: '" << run_dir << "' is not a run folder of `lits train` (no config.json)");
#if LITS_HAVE_ONNX
  check_output_path(path);  // before the network is loaded
#endif
  const LoadedModel m = load_model(run_dir, Device::cpu(), false, which);
  const float air = m.input_table[32768 - 1024];
  std::ostringstream d;
  d << "Run folder " << run_dir << ", checkpoint_" << which << ".\n"
    << "The input as lits makes it: " << m.channels << " adjacent slices centred on the target slice (reflected "
    << "at the volume's ends), HU clipped to [-100, 400] and mapped linearly to [" << hu_normalize(-100, m.standardize)
    << ", " << hu_normalize(400, m.standardize) << "]" << (m.standardize ? " (standardised)" : "")
    << "; air (-1024 HU) is " << air << ", the padding value.";
  std::ostringstream meta;
  meta << std::setprecision(9) << "lits.run=" << run_dir << "\nlits.checkpoint=" << which
       << "\nlits.standardize=" << (m.standardize ? 1 : 0) << "\nlits.padding_value=" << air << "\n";
  return export_onnx(*m.net, path, d.str(), meta.str());
}

}  // namespace lits
