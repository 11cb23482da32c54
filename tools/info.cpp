// `lits info`: for every run of a setup file, the resolved parameters, the network's parameter
// count, per-level shapes for an input size, and FLOPs per slice (2 x multiply-accumulates); with --json
// also the network's configuration as built. Every network and training value is checked against its
// limit first, as `lits train` checks them.
#include <cstdio>
#include <sstream>

#include "models/setup_files.h"
#include "models/unet.h"
#include "pipeline/train/plan.h"
#include "tools/commands.h"

namespace lits::tools {

namespace {

std::string json_escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out;
}

std::string json_ints(const std::vector<int64_t>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out.append(i ? ", " : "").append(std::to_string(v[i]));
  return out + "]";
}

// The network as built: the setup's values with the reference's defaults filled in (unet_config.h), so a
// tool that rebuilds it elsewhere (tools/compare_torch.py) need not repeat those rules.
std::string network_json(const UNetConfig& c) {
  std::ostringstream o;
  auto flag = [](bool b) { return b ? "true" : "false"; };
  o << "{\"structure\": " << json_ints(c.structure) << ", \"structure_up\": " << json_ints(c.structure_up)
    << ", \"filter_start\": " << c.filter_start << ", \"filter_start_up\": " << c.filter_start_up
    << ", \"channels\": " << c.channels << ", \"dilation\": " << json_ints(c.dilation)
    << ", \"dilation_up\": " << json_ints(c.dilation_up) << ", \"backbone\": \"" << c.backbone
    << "\", \"block_type\": \"" << c.block_type << "\", \"use_conv_pool\": " << flag(c.use_conv_pool)
    << ", \"up_conv_type\": " << json_ints(c.up_conv_type) << ", \"use_pypool\": " << flag(c.use_pypool)
    << ", \"use_auxiliary_inputs\": " << flag(c.use_auxiliary_inputs) << ", \"se_reduction\": " << c.se_reduction
    << ", \"use_batchnorm\": " << flag(c.use_batchnorm) << ", \"dropout\": " << c.dropout << ", \"init_type\": \""
    << init_type_name(c.init_type) << "\", \"num_out_classes\": " << c.num_out_classes
    << ", \"output_logits\": " << flag(c.output_logits) << "}";
  return o.str();
}

}  // namespace

int run_info(const InfoOptions& options) {
  const std::vector<Setup> runs = load_runs(options.setup, options.base);
  std::ostringstream json;
  json << "[";
  for (size_t r = 0; r < runs.size(); ++r) {
    const Setup& s = runs[r];
    const UNetConfig cfg = unet_config_from(s);
    // The training values meet their limits too, as `lits train` would check them before it starts.
    TrainPlan plan = make_train_plan(s);
    set_plan_network(plan, cfg);
    const UNet net(cfg);
    const int64_t params = net.parameter_count();
    const auto shapes = net.level_shapes(options.size, options.size);
    const double macs = net.macs_per_slice(options.size, options.size);
    if (!options.json) {
      std::printf("run %zu of %zu (%s, run %d of its block)\n", r + 1, runs.size(),
                  s.block_title.empty() ? "baseline" : s.block_title.c_str(), s.run_index);
      for (const char* section : {"Network", "Training", "Paths"}) {
        std::printf("  [%s]\n", section);
        for (const SetupEntry& e : s.entries())
          if (e.section == section) std::printf("    %-24s %s\n", e.key.c_str(), e.value.str().c_str());
      }
      if (const std::string init = s.get_or<std::string>("initialization", ""); !init.empty())
        std::printf(
            "  note: training initialises from '%s' and takes its architecture from there; the network below "
            "is this setup's own Network section\n",
            init.c_str());
      std::printf("  network: %lld parameters\n", static_cast<long long>(params));
      std::printf("  shapes for a %lld x %lld input (channels x height x width):\n",
                  static_cast<long long>(options.size), static_cast<long long>(options.size));
      for (const LevelShape& l : shapes)
        std::printf("    %-8s %6lld x %4lld x %4lld\n", l.name.c_str(), static_cast<long long>(l.channels),
                    static_cast<long long>(l.height), static_cast<long long>(l.width));
      std::printf("  compute per slice: %.2f GMAC = %.2f GFLOP (evaluation mode)\n\n", macs / 1e9, 2 * macs / 1e9);
    }
    json << (r ? ",\n" : "\n") << " {\"run\": " << r << ", \"block\": \"" << json_escape(s.block_title)
         << "\", \"parameters\": {";
    for (size_t i = 0; i < s.entries().size(); ++i) {
      const SetupEntry& e = s.entries()[i];
      json << (i ? ", " : "") << "\"" << e.key << "\": \"" << json_escape(e.value.str()) << "\"";
    }
    json << "}, \"network\": " << network_json(cfg) << ", \"parameter_count\": " << params
         << ", \"size\": " << options.size << ", \"levels\": [";
    for (size_t i = 0; i < shapes.size(); ++i)
      json << (i ? ", " : "") << "{\"name\": \"" << shapes[i].name << "\", \"shape\": [" << shapes[i].channels << ", "
           << shapes[i].height << ", " << shapes[i].width << "]}";
    json << "], \"macs_per_slice\": " << macs << ", \"flops_per_slice\": " << 2 * macs << "}";
  }
  json << "\n]\n";
  if (options.json) std::fputs(json.str().c_str(), stdout);
  return 0;
}

}  // namespace lits::tools
