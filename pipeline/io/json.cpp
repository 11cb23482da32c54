// JSON for the project's own files: a recursive-descent reader into Json values, and the two writer helpers.
#include "pipeline/io/json.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "engine/error.h"

namespace lits {

const Json* Json::find(const std::string& key) const {
  for (size_t n = 0; n < keys.size(); ++n)
    if (keys[n] == key) return &items[n];
  return nullptr;
}

namespace {

class JsonParser {
 public:
  JsonParser(const std::string& text, const std::string& path) : s_(text), path_(path) {}

  Json parse_document() {
    Json v = value(0);
    skip_space();
    if (p_ != s_.size()) fail("text after the end of the document");
    return v;
  }

 private:
  [[noreturn]] void fail(const char* what) {
    LITS_THROW("'" << path_ << "' is not valid JSON at byte " << p_ << ": " << what);
  }
  void skip_space() {
    while (p_ < s_.size() && (s_[p_] == ' ' || s_[p_] == '\n' || s_[p_] == '\r' || s_[p_] == '\t')) ++p_;
  }
  bool take(char c) {
    skip_space();
    if (p_ < s_.size() && s_[p_] == c) return ++p_, true;
    return false;
  }
  void expect(char c) {
    if (!take(c)) fail("unexpected character");
  }
  bool take_word(const char* w) {
    const size_t n = std::strlen(w);
    if (s_.compare(p_, n, w) != 0) return false;
    p_ += n;
    return true;
  }

  std::string string() {
    expect('"');
    std::string out;
    while (true) {
      if (p_ >= s_.size()) fail("unterminated string");
      const char c = s_[p_++];
      if (c == '"') return out;
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (p_ >= s_.size()) fail("unterminated escape");
      const char e = s_[p_++];
      switch (e) {
        case '"':
        case '\\':
        case '/': out.push_back(e); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          unsigned cp = 0;
          if (p_ + 4 > s_.size() || std::from_chars(&s_[p_], &s_[p_] + 4, cp, 16).ptr != &s_[p_] + 4)
            fail("bad \\u escape");
          p_ += 4;
          // The writer escapes only control characters; other code points are encoded as UTF-8 anyway.
          if (cp < 0x80) {
            out.push_back(static_cast<char>(cp));
          } else if (cp < 0x800) {
            out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
          } else {
            out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
          }
          break;
        }
        default: fail("unknown escape");
      }
    }
  }

  Json value(int depth) {
    if (depth > 16) fail("nested too deeply");
    skip_space();
    if (p_ >= s_.size()) fail("unexpected end of file");
    Json v;
    const char c = s_[p_];
    if (c == '{') {
      v.kind = Json::Kind::kObject;
      ++p_;
      if (take('}')) return v;
      do {
        skip_space();
        v.keys.push_back(string());
        expect(':');
        v.items.push_back(value(depth + 1));
      } while (take(','));
      expect('}');
    } else if (c == '[') {
      v.kind = Json::Kind::kArray;
      ++p_;
      if (take(']')) return v;
      do v.items.push_back(value(depth + 1));
      while (take(','));
      expect(']');
    } else if (c == '"') {
      v.kind = Json::Kind::kString;
      v.text = string();
    } else if (take_word("true")) {
      v.kind = Json::Kind::kBool;
      v.boolean = true;
    } else if (take_word("false")) {
      v.kind = Json::Kind::kBool;
    } else if (take_word("null")) {
      v.kind = Json::Kind::kNull;
    } else {
      v.kind = Json::Kind::kNumber;
      const auto r = std::from_chars(s_.data() + p_, s_.data() + s_.size(), v.number);
      if (r.ec != std::errc()) fail("expected a value");
      p_ = static_cast<size_t>(r.ptr - s_.data());
    }
    return v;
  }

  const std::string& s_;
  const std::string& path_;
  size_t p_ = 0;
};

}  // namespace

Json parse_json(const std::string& text, const std::string& path) { return JsonParser(text, path).parse_document(); }

Json read_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  LITS_CHECK(in.good(), "cannot open JSON file '" << path << "'");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_json(text.str(), path);
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out.append(buf);
    } else {
      out.push_back(c);  // bytes >= 0x80 pass through: paths are taken to be UTF-8
    }
  }
  out.push_back('"');
  return out;
}

// Shortest text that reads back as the same double, so spacing survives the round trip exactly.
std::string json_number(double v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

int64_t json_integer(const Json& v, const std::string& what) {
  constexpr double kExact = 9007199254740992.0;  // 2^53
  LITS_CHECK(v.kind == Json::Kind::kNumber && v.number == std::floor(v.number) && std::fabs(v.number) <= kExact,
             what << " is " << (v.kind == Json::Kind::kNumber ? json_number(v.number) : "not a number")
                  << "; expected a whole number within +-2^53");
  return static_cast<int64_t>(v.number);
}

}  // namespace lits
