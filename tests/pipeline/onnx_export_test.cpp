// `lits export` (pipeline/infer/onnx_export.h) without Python: run folders written here (random weights,
// BatchNorm statistics moved away from 0 and 1) are exported and the files parsed back with ONNX's protobuf
// classes, and their structure checked against counts taken from the network's state dict: the opset, the
// input and output names and dynamic dimensions, no BatchNormalization after a convolution (folded), the
// GroupNorm decomposition, the node and initializer counts, and a well-formed graph. The exported values
// are compared with lits by tests/tools/check_onnx.py (ctest cli_export_onnx_matches) with onnxruntime.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "engine/autograd.h"
#include "pipeline/infer/onnx_export.h"
#include "pipeline/train/checkpoint.h"
#include "pipeline/train/run_folder.h"
#include "tests/support/errors.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tiny_run.h"

#if LITS_HAVE_ONNX
#include <onnx/onnx_pb.h>
#endif

namespace lits::testing {
namespace {

namespace fs = std::filesystem;

class OnnxExport : public TempDirTest {
 protected:
  // A run folder with the tiny setup changed by `network` ("key=value" pairs of the Network section) and
  // `loss`, random weights, and BatchNorm running statistics that make folding matter.
  std::string make_run(const std::string& name, const std::vector<std::pair<std::string, std::string>>& network,
                       const std::string& loss = "multiclass_pwce") {
    lits::Setup s = tiny_setup();
    for (const auto& [key, value] : network) s.set("Network", key, parse_value(value, "test"));
    s.set("Training", "loss_func", Value::string(loss));
    const std::string dir = path(name);
    fs::create_directories(dir);
    Generator gen(5);
    net_ = std::make_unique<UNet>(unet_config_from(s), gen);
    NoGradGuard no_grad;
    for (const auto& [n, t] : net_->named_buffers()) {
      if (n.ends_with("running_mean")) net_->find(n).uniform_(-0.5, 0.5, gen);
      if (n.ends_with("running_var")) net_->find(n).uniform_(0.5, 2.0, gen);
    }
    for (const auto& [n, t] : net_->named_parameters())
      if (n.ends_with(".bias")) net_->find(n).uniform_(-0.2, 0.2, gen);
    write_run_config(dir, s, "");
    AdamOptimizer adam(net_->named_parameters(), 0.0);
    save_checkpoint((fs::path(dir) / "checkpoint_best").string(), *net_, adam, TrainState{});
    return dir;
  }

  // State-dict counts: 4-D weights the evaluation graph uses (not the bottleneck's discarded downsampler,
  // not the deep-supervision heads), 2-D ones (squeeze-excitation), and names containing `part`.
  int64_t conv_weights() const {
    const std::string unused = "enc." + std::to_string(net_->config().levels() - 1) + ".pool.weight";
    int64_t n = 0;
    for (const auto& [name, t] : net_->named_parameters())
      if (name.ends_with(".weight") && (t.ndim() == 4 || t.ndim() == 2) && name != unused && !name.starts_with("aux."))
        ++n;
    return n;
  }
  int64_t named(const std::string& part, bool buffers = false) const {
    int64_t n = 0;
    for (const auto& [name, t] : buffers ? net_->named_buffers() : net_->named_parameters())
      if (name.find(part) != std::string::npos) ++n;
    return n;
  }

  std::unique_ptr<UNet> net_;
};

#if LITS_HAVE_ONNX

onnx::ModelProto read_model(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  onnx::ModelProto m;
  EXPECT_TRUE(m.ParseFromIstream(&in)) << path;
  return m;
}

std::map<std::string, int> op_counts(const onnx::GraphProto& g) {
  std::map<std::string, int> n;
  for (const auto& node : g.node()) ++n[node.op_type()];
  return n;
}

// [N, channels, H, W] with N, H and W symbolic.
void expect_dynamic_nchw(const onnx::ValueInfoProto& v, const std::string& name, int64_t channels) {
  EXPECT_EQ(v.name(), name);
  const auto& t = v.type().tensor_type();
  EXPECT_EQ(t.elem_type(), onnx::TensorProto::FLOAT);
  ASSERT_EQ(t.shape().dim_size(), 4) << name;
  EXPECT_EQ(t.shape().dim(0).dim_param(), "N");
  EXPECT_EQ(t.shape().dim(1).dim_value(), channels);
  EXPECT_EQ(t.shape().dim(2).dim_param(), "H");
  EXPECT_EQ(t.shape().dim(3).dim_param(), "W");
}

// Every node input is the graph input, an initializer or an earlier node's output (the optional empty
// name aside); every initializer is used; names are unique. Returns each value's producing op.
std::map<std::string, std::string> check_well_formed(const onnx::GraphProto& g) {
  std::set<std::string> inits, used;
  for (const auto& t : g.initializer()) EXPECT_TRUE(inits.insert(t.name()).second) << "duplicate " << t.name();
  std::map<std::string, std::string> producer{{"input", "input"}};
  for (const auto& node : g.node()) {
    for (const auto& in : node.input()) {
      if (in.empty()) continue;
      EXPECT_TRUE(inits.count(in) || producer.count(in)) << node.name() << " reads '" << in << "' before it exists";
      used.insert(in);
    }
    for (const auto& out : node.output()) EXPECT_TRUE(producer.emplace(out, node.op_type()).second) << out;
  }
  for (const auto& name : inits) EXPECT_TRUE(used.count(name)) << "unused initializer " << name;
  EXPECT_TRUE(producer.count("probabilities"));
  return producer;
}

TEST_F(OnnxExport, BatchNormsAfterConvolutionsAreFoldedAndTheRestAreBatchNormalization) {
  const std::string run = make_run("bn", {{"structure", "[1, 2, 1]"},
                                          {"filter_start", "8"},
                                          {"block_type", "'res'"},
                                          {"use_conv_pool", "True"},
                                          {"use_pypool", "True"},
                                          {"use_auxiliary_inputs", "True"}});
  const std::string file = path("bn.onnx");
  const OnnxExportInfo info = export_run_onnx(run, "best", file);
  const onnx::ModelProto m = read_model(file);
  ASSERT_EQ(m.opset_import_size(), 1);
  EXPECT_EQ(m.opset_import(0).domain(), "");
  EXPECT_GE(m.opset_import(0).version(), 17);
  EXPECT_GE(m.ir_version(), 8);
  const onnx::GraphProto& g = m.graph();
  ASSERT_EQ(g.input_size(), 1);
  ASSERT_EQ(g.output_size(), 1);
  expect_dynamic_nchw(g.input(0), "input", 1);
  expect_dynamic_nchw(g.output(0), "probabilities", 2);
  const auto producer = check_well_formed(g);

  // Folded: the input norm, the next level's first norm after each strided-conv pool (2 of 3 levels), both
  // norms of every ResBlock. No BatchNormalization reads a convolution's output.
  const int64_t norms = named("running_mean", true), resblocks = named(".reduce.weight");
  const int64_t folded = 1 + 2 + 2 * resblocks;
  EXPECT_EQ(info.folded_norms, folded);
  auto ops = op_counts(g);
  EXPECT_EQ(ops["BatchNormalization"], norms - folded);
  for (const auto& node : g.node()) {
    if (node.op_type() == "BatchNormalization") {
      EXPECT_NE(producer.at(node.input(0)), "Conv") << node.name() << " follows a convolution but was not folded";
    }
  }
  // One Conv or ConvTranspose per weight the graph uses; weight + bias each, 4 tensors per BatchNormalization.
  EXPECT_EQ(ops["Conv"] + ops["ConvTranspose"], conv_weights());
  EXPECT_EQ(ops["ConvTranspose"], 2 + 2);  // the decoder's up-convolutions and the pypool heads
  EXPECT_EQ(g.initializer_size(), 2 * conv_weights() + 4 * ops["BatchNormalization"]);
  EXPECT_EQ(ops["Dropout"], 0);
  EXPECT_EQ(ops["InstanceNormalization"], 0);
  EXPECT_EQ(g.node(g.node_size() - 1).op_type(), "Softmax");
  EXPECT_EQ(info.nodes, g.node_size());
  EXPECT_EQ(info.initializers, g.initializer_size());
  EXPECT_EQ(info.bytes, static_cast<int64_t>(fs::file_size(file)));
  EXPECT_NE(m.doc_string().find("multiples of 4"), std::string::npos) << m.doc_string();
  std::map<std::string, std::string> meta;
  for (const auto& p : m.metadata_props()) meta[p.key()] = p.value();
  EXPECT_EQ(meta["lits.size_divisor"], "4");
  EXPECT_EQ(meta["lits.checkpoint"], "best");
  // Written atomically: nothing else is left in the folder.
  for (const auto& e : fs::directory_iterator(dir_))
    EXPECT_TRUE(e.is_directory() || e.path().extension() == ".onnx") << "left behind: " << e.path();
}

TEST_F(OnnxExport, GroupNormIsDecomposedAndLogitsRunsEndInProbabilities) {
  const std::string run = make_run("gn",
                                   {{"structure", "[1, 1, 1]"},
                                    {"filter_start", "8"},
                                    {"use_batchnorm", "False"},
                                    {"se_reduction", "0.5"},
                                    {"backbone", "'residual'"},
                                    {"up_conv_type", "[]"}},
                                   "cross_entropy");
  ASSERT_TRUE(net_->config().output_logits);
  const std::string file = path("gn.onnx");
  const OnnxExportInfo info = export_run_onnx(run, "best", file);
  const onnx::GraphProto g = read_model(file).graph();
  check_well_formed(g);
  auto ops = op_counts(g);
  const int64_t norms = named("norm") / 2, stages = 3 + 2;  // weight and bias per GroupNorm
  EXPECT_EQ(ops["BatchNormalization"], 0);
  EXPECT_EQ(info.folded_norms, 0);
  EXPECT_EQ(ops["InstanceNormalization"], norms);
  EXPECT_EQ(info.group_norms, norms);
  EXPECT_EQ(ops["Reshape"], 2 * norms);
  EXPECT_EQ(ops["GlobalAveragePool"], stages);
  EXPECT_EQ(ops["Sigmoid"], stages);  // the SE gates; the head is a softmax
  EXPECT_EQ(ops["Resize"], 2);
  EXPECT_EQ(ops["ConvTranspose"], 0);
  EXPECT_EQ(ops["Conv"], conv_weights());
  // Per GroupNorm: group shape, unit scale, zero shift, gamma, beta; one shared Resize scales tensor.
  EXPECT_EQ(g.initializer_size(), 2 * conv_weights() + 5 * norms + 1);
  for (const auto& node : g.node()) {
    if (node.op_type() != "InstanceNormalization") continue;
    const auto& scale = *std::find_if(g.initializer().begin(), g.initializer().end(),
                                      [&](const auto& t) { return t.name() == node.input(1); });
    const float* s = reinterpret_cast<const float*>(scale.raw_data().data());
    for (int64_t i = 0; i < scale.dims(0); ++i) EXPECT_EQ(s[i], 1.0f) << node.name();
  }
  EXPECT_EQ(g.node(g.node_size() - 1).op_type(), "Softmax");
  EXPECT_EQ(g.node(g.node_size() - 1).output(0), "probabilities");
}

TEST_F(OnnxExport, BadInputIsRefusedByName) {
  const std::string run = make_run("run", {});
  fs::create_directories(path("store"));
  expect_contains(error_of([&] { export_run_onnx(path("store"), "best", path("a.onnx")); }), {"not a run folder"});
  expect_contains(error_of([&] { export_run_onnx(path("nothing"), "best", path("a.onnx")); }), {"is not a folder"});
  expect_contains(error_of([&] { export_run_onnx(run, "latest", path("a.onnx")); }), {"checkpoint_latest"});
  expect_contains(error_of([&] { export_run_onnx(run, "worst", path("a.onnx")); }), {"best or latest"});
  expect_contains(error_of([&] { export_run_onnx(run, "best", path("missing/a.onnx")); }), {"does not exist"});
  expect_contains(error_of([&] { export_run_onnx(run, "best", path("store")); }), {"is a folder"});
  EXPECT_FALSE(fs::exists(path("a.onnx")));
  // An existing file is replaced whole.
  { std::ofstream(path("a.onnx")) << "old"; }
  export_run_onnx(run, "best", path("a.onnx"));
  EXPECT_EQ(read_model(path("a.onnx")).graph().output(0).name(), "probabilities");
}

#else

TEST_F(OnnxExport, ABuildWithoutOnnxSaysSo) {
  const std::string run = make_run("run", {});
  EXPECT_FALSE(onnx_export_available());
  expect_contains(error_of([&] { export_run_onnx(run, "best", path("a.onnx")); }), {"built without ONNX"});
  EXPECT_FALSE(fs::exists(path("a.onnx")));
}

#endif

}  // namespace
}  // namespace lits::testing
