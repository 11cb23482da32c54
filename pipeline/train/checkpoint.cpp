// Checkpoint files (see checkpoint.h).
#include "pipeline/train/checkpoint.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>

#include "engine/autograd.h"
#include "engine/error.h"
#include "pipeline/io/atomic_file.h"
#include "pipeline/io/json.h"

namespace lits {

namespace {

const Json& need(const Json& j, const char* key, const std::string& where) {
  const Json* v = j.find(key);
  LITS_CHECK(v != nullptr, where << ": the training state has no '" << key << "'");
  return *v;
}
double num(const Json& j, const char* key, const std::string& where) { return need(j, key, where).number; }
int64_t integer(const Json& j, const char* key, const std::string& where) {
  return json_integer(need(j, key, where), where + ": '" + key + "'");
}
// 64-bit values travel as decimal strings (JSON numbers are doubles).
uint64_t u64(const Json& j, const char* key, const std::string& where) {
  const std::string& s = need(j, key, where).text;
  try {
    return std::stoull(s);
  } catch (const std::exception&) {
    LITS_THROW(where << ": '" << key << "' is '" << s << "' (expected an unsigned integer in a string)");
  }
}

// CRC-32 of the tensors' bytes in file order, as 8 hex digits: safetensors has no checksum of its own, and
// a flipped bit in the weights would otherwise load without a word. The tensors must be on the host.
std::string data_crc32(const NamedTensors& tensors) {
  uLong crc = crc32(0L, Z_NULL, 0);
  for (const auto& [n, t] : tensors) {
    const auto* p = static_cast<const Bytef*>(t.numel() ? t.data_ptr() : nullptr);
    for (int64_t left = t.nbytes(); left > 0;) {
      const auto piece = static_cast<uInt>(std::min<int64_t>(left, int64_t{1} << 30));
      crc = crc32(crc, p, piece);
      p += piece;
      left -= piece;
    }
  }
  char hex[16];
  std::snprintf(hex, sizeof(hex), "%08lx", crc & 0xffffffffUL);
  return hex;
}

}  // namespace

std::string TrainState::to_json() const {
  std::ostringstream o;
  o << "{\n  \"format\": \"lits training state\",\n"
    << "  \"epoch\": " << epoch << ",\n  \"batch\": " << epoch_step << ",\n  \"step\": " << step << ",\n"
    << "  \"rng_seed\": \"" << rng_seed << "\",\n  \"rng_offset\": \"" << rng_offset << "\",\n"
    << "  \"best_val_dice\": " << json_number(best_val_dice) << ",\n  \"best_epoch\": " << best_epoch << ",\n"
    << "  \"train_seconds\": " << json_number(train_seconds) << ",\n"
    << "  \"loss_sum\": " << json_number(loss_sum) << ",\n  \"loss_count\": " << loss_count << ",\n"
    << "  \"chunk\": [" << chunk.both << ", " << chunk.pred << ", " << chunk.truth << "],\n"
    << "  \"chunk_steps\": " << chunk_steps << ",\n  \"chunk_dices\": [";
  for (size_t i = 0; i < chunk_dices.size(); ++i) o << (i ? ", " : "") << json_number(chunk_dices[i]);
  o << "],\n  \"epoch_seconds\": " << json_number(epoch_seconds) << ",\n"
    << "  \"epoch_samples\": " << epoch_samples << ",\n"
    << "  \"epoch_train_seconds\": " << json_number(epoch_train_seconds) << ",\n"
    << "  \"schedule\": " << json_string(schedule) << ",\n  \"rows\": [";
  for (size_t i = 0; i < rows.size(); ++i) {
    const EpochRow& r = rows[i];
    o << (i ? ",\n" : "\n") << "    {\"epoch\": " << r.epoch << ", \"seconds\": " << json_number(r.seconds)
      << ", \"train_loss\": " << json_number(r.train_loss) << ", \"train_dice\": " << json_number(r.train_dice)
      << ", \"val_dice\": " << json_number(r.val_dice) << ", \"val_case_dice\": " << json_number(r.val_case_dice)
      << ", \"lr\": " << json_number(r.lr) << ", \"samples_per_s\": " << json_number(r.samples_per_s) << "}";
  }
  o << (rows.empty() ? "]\n}\n" : "\n  ]\n}\n");
  return o.str();
}

TrainState TrainState::from_json(const std::string& text, const std::string& where) {
  const Json j = parse_json(text, where);
  LITS_CHECK(j.kind == Json::Kind::kObject && j.find("format") && j.find("format")->text == "lits training state",
             where << " holds no lits training state");
  TrainState s;
  s.epoch = integer(j, "epoch", where);
  s.epoch_step = integer(j, "batch", where);
  s.step = integer(j, "step", where);
  s.rng_seed = u64(j, "rng_seed", where);
  s.rng_offset = u64(j, "rng_offset", where);
  s.best_val_dice = num(j, "best_val_dice", where);
  s.best_epoch = integer(j, "best_epoch", where);
  s.train_seconds = num(j, "train_seconds", where);
  s.loss_sum = num(j, "loss_sum", where);
  s.loss_count = integer(j, "loss_count", where);
  const Json& c = need(j, "chunk", where);
  LITS_CHECK(c.items.size() == 3, where << ": 'chunk' must hold 3 counts");
  s.chunk = Overlap{json_integer(c.items[0], where + ": 'chunk'"), json_integer(c.items[1], where + ": 'chunk'"),
                    json_integer(c.items[2], where + ": 'chunk'")};
  s.chunk_steps = integer(j, "chunk_steps", where);
  for (const Json& d : need(j, "chunk_dices", where).items) s.chunk_dices.push_back(d.number);
  s.epoch_seconds = num(j, "epoch_seconds", where);
  s.epoch_samples = integer(j, "epoch_samples", where);
  s.epoch_train_seconds = num(j, "epoch_train_seconds", where);
  s.schedule = need(j, "schedule", where).text;
  for (const Json& r : need(j, "rows", where).items) {
    EpochRow row;
    row.epoch = integer(r, "epoch", where);
    row.seconds = num(r, "seconds", where);
    row.train_loss = num(r, "train_loss", where);
    row.train_dice = num(r, "train_dice", where);
    row.val_dice = num(r, "val_dice", where);
    row.val_case_dice = num(r, "val_case_dice", where);
    row.lr = num(r, "lr", where);
    row.samples_per_s = num(r, "samples_per_s", where);
    s.rows.push_back(row);
  }
  LITS_CHECK(s.epoch >= 0 && s.epoch_step >= 0 && s.step >= 0, where << ": negative epoch, batch or step");
  return s;
}

void save_checkpoint(const std::string& name, const Module& net, const AdamOptimizer& optimizer,
                     const TrainState& state) {
  NamedTensors all;
  for (auto& [n, t] : net.named_parameters()) all.emplace_back("model." + n, t);
  for (auto& [n, t] : net.named_buffers()) all.emplace_back("model." + n, t);
  for (auto& [n, t] : optimizer.state()) all.emplace_back("adam." + n, t);
  for (auto& [n, t] : all) {
    t = t.detach().to(Device::cpu());
    if (!t.is_contiguous()) t = t.clone();
  }
  const std::string json = state.to_json();
  write_safetensors(name + ".safetensors", all,
                    {{"format", "lits checkpoint"}, {"lits_state", json}, {"lits_data_crc32", data_crc32(all)}});
  write_text_atomic(name + ".json", json);
}

LoadedCheckpoint load_checkpoint(const std::string& name) {
  const std::string path = name + ".safetensors";
  std::map<std::string, std::string> meta;
  NamedTensors all = read_safetensors(path, &meta);
  LITS_CHECK(meta.count("lits_state"), "'" << path << "' is not a lits checkpoint (no lits_state metadata)");
  LoadedCheckpoint c;
  c.state = TrainState::from_json(meta["lits_state"], path);
  // Checkpoints written before the checksum was added have none.
  if (meta.count("lits_data_crc32")) {
    const std::string crc = data_crc32(all);
    LITS_CHECK(crc == meta["lits_data_crc32"], "'" << path << "' is corrupted: its tensor data has CRC-32 " << crc
                                                   << ", written as " << meta["lits_data_crc32"]);
  }
  for (auto& [n, t] : all) {
    if (n.rfind("model.", 0) == 0) {
      c.model.emplace_back(n.substr(6), t);
    } else if (n.rfind("adam.", 0) == 0) {
      c.optimizer.emplace_back(n.substr(5), t);
    } else {
      LITS_THROW("'" << path << "': unexpected tensor '" << n << "' (expected model.* or adam.*)");
    }
  }
  return c;
}

void load_module_state(Module& net, const NamedTensors& model, const std::string& source) {
  std::map<std::string, const Tensor*> by_name;
  for (const auto& [n, t] : model) by_name[n] = &t;
  size_t used = 0;
  NoGradGuard no_grad;
  auto load = [&](const std::vector<std::pair<std::string, Tensor>>& slots) {
    for (const auto& [n, t] : slots) {
      auto it = by_name.find(n);
      LITS_CHECK(it != by_name.end(), source << ": no weights for '" << n << "' " << t.str()
                                             << " (was it saved from another architecture?)");
      LITS_CHECK(it->second->shape() == t.shape(),
                 source << ": '" << n << "' is " << it->second->str() << ", the network's " << t.str());
      Tensor dst = t;
      dst.copy_(*it->second);
      ++used;
    }
  };
  load(net.named_parameters());
  load(net.named_buffers());
  if (used != model.size()) {
    for (const auto& [n, t] : model) {
      bool known = false;
      for (const auto& [m, _] : net.named_parameters()) known = known || m == n;
      for (const auto& [m, _] : net.named_buffers()) known = known || m == n;
      LITS_CHECK(known, source << ": '" << n << "' " << t.str() << " is not in the network");
    }
  }
}

}  // namespace lits
