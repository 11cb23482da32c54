// safetensors reading and writing (see safetensors.h).
#include "pipeline/io/safetensors.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <set>

#include "engine/error.h"
#include "pipeline/io/atomic_file.h"
#include "pipeline/io/json.h"

namespace lits {

namespace {

const char* st_dtype(DType d) {
  switch (d) {
    case DType::kFloat32: return "F32";
    case DType::kFloat64: return "F64";
    case DType::kInt64: return "I64";
    case DType::kInt32: return "I32";
    case DType::kUInt8: return "U8";
    default: return nullptr;
  }
}

bool parse_st_dtype(const std::string& s, DType* d) {
  for (DType c : {DType::kFloat32, DType::kFloat64, DType::kInt64, DType::kInt32, DType::kUInt8}) {
    if (s == st_dtype(c)) {
      *d = c;
      return true;
    }
  }
  return false;
}

}  // namespace

void write_safetensors(const std::string& path, const NamedTensors& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::set<std::string> names;
  std::vector<Tensor> host;
  std::string header = "{";
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    bool first = true;
    for (const auto& [k, v] : metadata) {
      header.append(first ? "" : ",").append(json_string(k)).append(":").append(json_string(v));
      first = false;
    }
    header += "}";
  }
  int64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    LITS_CHECK(!name.empty() && name != "__metadata__" && names.insert(name).second,
               "safetensors '" << path << "': tensor name '" << name << "' is empty, reserved or repeated");
    LITS_CHECK(t.defined(), "safetensors '" << path << "': tensor '" << name << "' is undefined");
    const char* dt = st_dtype(t.dtype());
    LITS_CHECK(dt != nullptr, "safetensors '" << path << "': tensor '" << name << "' has dtype "
                                              << dtype_name(t.dtype()) << " (expected float32/64, int64/32 or uint8)");
    Tensor h = t.detach().to(Device::cpu());
    if (!h.is_contiguous()) h = h.clone();
    header.append(header.size() > 1 ? "," : "").append(json_string(name)).append(":{\"dtype\":\"").append(dt);
    header += "\",\"shape\":[";
    for (int i = 0; i < h.ndim(); ++i) header.append(i ? "," : "").append(std::to_string(h.shape()[i]));
    header.append("],\"data_offsets\":[").append(std::to_string(offset)).append(",");
    offset += h.nbytes();
    header.append(std::to_string(offset)).append("]}");
    host.push_back(h);
  }
  header += "}";
  header.append((8 - header.size() % 8) % 8, ' ');  // data aligned to 8 bytes, as the reference library does
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(static_cast<uint64_t>(header.size()) >> (8 * i));
  std::vector<std::pair<const void*, size_t>> parts = {{len, 8}, {header.data(), header.size()}};
  for (const Tensor& h : host) parts.emplace_back(h.numel() ? h.data_ptr() : nullptr, static_cast<size_t>(h.nbytes()));
  write_file_atomic(path, parts);
}

NamedTensors read_safetensors(const std::string& path, std::map<std::string, std::string>* metadata) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  LITS_CHECK(in.good(), "cannot open safetensors file '" << path << "'");
  const int64_t file_size = static_cast<int64_t>(in.tellg());
  in.seekg(0);
  uint8_t len[8] = {};
  in.read(reinterpret_cast<char*>(len), 8);
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(len[i]) << (8 * i);
  LITS_CHECK(in.good() && n >= 2 && static_cast<int64_t>(n) <= file_size - 8 && n < (100u << 20),
             "'" << path << "' is not a safetensors file (header length " << n << ", file " << file_size << " bytes)");
  std::string header(n, '\0');
  in.read(header.data(), static_cast<std::streamsize>(n));
  const Json j = parse_json(header, path + " (safetensors header)");
  LITS_CHECK(j.kind == Json::Kind::kObject, "'" << path << "': the safetensors header is not a JSON object");
  const int64_t data_start = 8 + static_cast<int64_t>(n), data_size = file_size - data_start;
  NamedTensors out;
  int64_t covered = 0;
  for (size_t i = 0; i < j.keys.size(); ++i) {
    const std::string& name = j.keys[i];
    const Json& e = j.items[i];
    if (name == "__metadata__") {
      if (metadata != nullptr)
        for (size_t k = 0; k < e.keys.size(); ++k) (*metadata)[e.keys[k]] = e.items[k].text;
      continue;
    }
    const Json* dt = e.find("dtype");
    const Json* shape = e.find("shape");
    const Json* offs = e.find("data_offsets");
    DType dtype = DType::kFloat32;
    LITS_CHECK(dt && shape && offs && dt->kind == Json::Kind::kString && shape->kind == Json::Kind::kArray &&
                   offs->kind == Json::Kind::kArray && offs->items.size() == 2,
               "'" << path << "': tensor '" << name << "' lacks dtype, shape or data_offsets");
    LITS_CHECK(parse_st_dtype(dt->text, &dtype), "'" << path << "': tensor '" << name << "' has dtype " << dt->text
                                                     << " (expected F32, F64, I64, I32 or U8)");
    // Every number is checked before it becomes a size: a whole number from 0 to 2^40 (no checkpoint
    // comes near), and the byte count's product cannot wrap; then the range must lie in the data.
    auto whole = [&](const Json& v, const char* what) {
      constexpr double kMax = 1099511627776.0;  // 2^40
      LITS_CHECK(v.kind == Json::Kind::kNumber && v.number >= 0 && v.number <= kMax && v.number == std::floor(v.number),
                 "'" << path << "': tensor '" << name << "' has " << what << " "
                     << (v.kind == Json::Kind::kNumber ? std::to_string(v.number) : "'" + v.text + "'")
                     << " (expected a whole number from 0 to 2^40)");
      return static_cast<int64_t>(v.number);
    };
    LITS_CHECK(shape->items.size() <= 5,
               "'" << path << "': tensor '" << name << "' has " << shape->items.size() << " dims (at most 5)");
    std::vector<int64_t> dims;
    for (const Json& d : shape->items) dims.push_back(whole(d, "a dim"));
    const Shape s(dims);
    const int64_t begin = whole(offs->items[0], "a data offset"), end = whole(offs->items[1], "a data offset");
    int64_t bytes = dtype_size(dtype);
    for (const int64_t d : dims)
      LITS_CHECK(!__builtin_mul_overflow(bytes, d, &bytes), "'" << path << "': tensor '" << name << "' is too large");
    LITS_CHECK(begin >= 0 && end - begin == bytes && end <= data_size,
               "'" << path << "': tensor '" << name << "' has data_offsets [" << begin << ", " << end << "] for "
                   << s.numel() << " items of " << dt->text << " in " << data_size << " data bytes (truncated?)");
    Tensor t = Tensor::empty(s, dtype);
    in.seekg(data_start + begin);
    if (t.nbytes() > 0) in.read(static_cast<char*>(t.data_ptr()), t.nbytes());
    LITS_CHECK(in.good(), "'" << path << "': reading tensor '" << name << "' failed");
    covered += end - begin;
    out.emplace_back(name, t);
  }
  LITS_CHECK(covered <= data_size,
             "'" << path << "': tensors overlap (" << covered << " bytes in " << data_size << ")");
  return out;
}

}  // namespace lits
