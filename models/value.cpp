// Python literals for the setup files: the Value type, its Python repr, and the literal parser
// (int, float, True/False, None, quoted strings with escapes, nested lists and tuples).
#include "models/setup.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <utility>

#include "engine/error.h"

namespace lits {
namespace {

// Python's own parser stops at this many nested brackets; it also keeps the recursion bounded.
constexpr int kMaxDepth = 200;

const char* kind_name(Value::Kind k) {
  switch (k) {
    case Value::Kind::kNone: return "None";
    case Value::Kind::kBool: return "a bool";
    case Value::Kind::kInt: return "an int";
    case Value::Kind::kFloat: return "a float";
    case Value::Kind::kString: return "a string";
    case Value::Kind::kList: return "a list";
  }
  return "?";
}

// Python's repr of a float: the shortest digits that read back exactly, in exponent form only when
// the decimal exponent is below -4 or at least 16 (1e-05, 0.0001, 2.5, 1.0, 1e+16).
std::string float_repr(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, std::fabs(v), std::chars_format::scientific);
  const std::string sci(buf, res.ptr);  // d[.ddd]e[+-]XX, shortest round trip
  const size_t e = sci.find('e');
  std::string digits = sci.substr(0, 1);
  if (e > 1) digits.append(sci, 2, e - 2);
  const int exp10 = std::stoi(sci.substr(e + 1));
  std::string out = std::signbit(v) ? "-" : "";
  if (exp10 < -4 || exp10 >= 16) {
    out += digits.substr(0, 1);
    if (digits.size() > 1) out.append(".").append(digits, 1, std::string::npos);
    char exp_text[16];
    std::snprintf(exp_text, sizeof exp_text, "e%c%02d", exp10 < 0 ? '-' : '+', std::abs(exp10));
    return out + exp_text;
  }
  if (exp10 < 0) return out.append("0.").append(static_cast<size_t>(-exp10 - 1), '0').append(digits);
  const size_t int_len = static_cast<size_t>(exp10) + 1;
  if (digits.size() <= int_len) return out.append(digits).append(int_len - digits.size(), '0').append(".0");
  return out.append(digits, 0, int_len).append(".").append(digits, int_len, std::string::npos);
}

// Python's repr of a str: single quotes unless the text has a `'` and no `"`.
std::string string_repr(const std::string& s) {
  const bool has_single = s.find('\'') != std::string::npos, has_double = s.find('"') != std::string::npos;
  const char quote = has_single && !has_double ? '"' : '\'';
  std::string out(1, quote);
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    char hex[8];
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\\': out += "\\\\"; break;
      default:
        if (c == quote) {
          out += '\\';
          out += c;
        } else if (u < 0x20 || u == 0x7f) {
          std::snprintf(hex, sizeof hex, "\\x%02x", u);
          out += hex;
        } else {
          out += c;
        }
    }
  }
  return out + quote;
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n\f\v");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t\r\n\f\v");
  return s.substr(b, e - b + 1);
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Appends a code point (below 0x800, all that \x and octal escapes reach) as UTF-8.
void append_utf8(std::string& out, unsigned cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Recursive descent over one Python literal. Every failure names `where`, the value text, what was
// wrong and what was expected.
class LiteralParser {
 public:
  LiteralParser(const std::string& text, const std::string& where) : text_(text), where_(where) {}

  Value parse() {
    skip_space();
    if (at_end()) fail("empty value", kAnyLiteral);
    Value v = parse_any(0);
    skip_space();
    if (!at_end())
      fail("unexpected text `" + text_.substr(pos_) + "` after the value " + v.str(),
           "one literal per line (separate list items with ',')");
    return v;
  }

 private:
  static constexpr const char* kAnyLiteral =
      "a Python literal: a number, True/False, None, a quoted string or a [list]";

  [[noreturn]] void fail(const std::string& problem, const std::string& expected) const {
    const std::string value = trim(text_);
    LITS_THROW((where_.empty() ? "" : where_ + ": ")
               << problem << (value.empty() ? "" : " in value `" + value + "`") << "; expected " << expected);
  }

  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return text_[pos_]; }
  void skip_space() {
    while (!at_end() && std::isspace(static_cast<unsigned char>(peek()))) ++pos_;
  }

  Value parse_any(int depth) {
    skip_space();
    if (at_end()) fail("missing value", kAnyLiteral);
    const char c = peek();
    if (c == '[' || c == '(') return parse_sequence(depth + 1);
    if (c == '\'' || c == '"') return Value::string(parse_string());
    if (is_digit(c) || c == '.' || c == '+' || c == '-') return parse_number();
    if (is_word_char(c)) return parse_word();
    if (c == ']' || c == ')') fail(std::string("unbalanced '") + c + "' (no matching opening bracket)", kAnyLiteral);
    fail(std::string("unexpected character '") + c + "'", kAnyLiteral);
  }

  // `[a, b]` or `(a, b)`, both lists; a trailing comma is allowed. `(x)` is a parenthesised value in
  // Python, `(x,)` a one-item tuple.
  Value parse_sequence(int depth) {
    if (depth > kMaxDepth) fail("brackets nested deeper than 200 levels", "at most 200 levels, as Python");
    const char open = peek(), close = open == '[' ? ']' : ')';
    ++pos_;
    std::vector<Value> items;
    bool comma = false;
    for (;;) {
      skip_space();
      if (at_end())
        fail(std::string("unbalanced '") + open + "': the text ends before its closing '" + close + "'",
             std::string("a closing '") + close + "'");
      if (peek() == close) break;
      items.push_back(parse_any(depth));
      skip_space();
      if (at_end()) continue;  // reported as the unbalanced bracket
      if (peek() == ',') {
        ++pos_;
        comma = true;
      } else if (peek() != close) {
        fail("unexpected text `" + text_.substr(pos_) + "` after the item " + items.back().str(),
             std::string("',' or '") + close + "'");
      }
    }
    ++pos_;
    if (open == '(' && items.size() == 1 && !comma) return std::move(items[0]);
    return Value::list(std::move(items));
  }

  // A quoted string with Python's escapes; an unknown escape such as `\d` keeps its backslash.
  std::string parse_string() {
    const char quote = text_[pos_++];
    const auto unterminated = [&] {
      fail(std::string("unterminated string (missing the closing ") + quote + ")",
           std::string("a string closed by ") + quote);
    };
    std::string out;
    for (;;) {
      if (at_end()) unterminated();
      const char c = text_[pos_++];
      if (c == quote) return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (at_end()) unterminated();
      const char e = text_[pos_++];
      switch (e) {
        case '\\':
        case '\'':
        case '"': out += e; break;
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'a': out += '\a'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'v': out += '\v'; break;
        case 'x': {
          unsigned cp = 0;
          for (int i = 0; i < 2; ++i) {
            const char h = at_end() ? '\0' : text_[pos_];
            if (!std::isxdigit(static_cast<unsigned char>(h))) fail("bad \\x escape", "two hex digits, e.g. \\x41");
            cp = cp * 16 + static_cast<unsigned>(is_digit(h) ? h - '0' : std::tolower(h) - 'a' + 10);
            ++pos_;
          }
          append_utf8(out, cp);
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            unsigned cp = static_cast<unsigned>(e - '0');
            for (int i = 0; i < 2 && !at_end() && peek() >= '0' && peek() <= '7'; ++i)
              cp = cp * 8 + static_cast<unsigned>(text_[pos_++] - '0');
            append_utf8(out, cp);
          } else {
            out += '\\';
            out += e;
          }
      }
    }
  }

  // int or float with optional unary signs (ast.literal_eval folds them): 3, -3, 1e-5, 1., .5, -3e+2.
  Value parse_number() {
    bool negative = false;
    while (!at_end() && (peek() == '+' || peek() == '-')) {
      if (peek() == '-') negative = !negative;
      ++pos_;
      skip_space();
    }
    const size_t start = pos_;
    size_t mantissa_digits = 0;
    bool is_float = false;
    while (!at_end() && is_digit(peek())) ++pos_, ++mantissa_digits;
    if (!at_end() && peek() == '.') {
      is_float = true;
      ++pos_;
      while (!at_end() && is_digit(peek())) ++pos_, ++mantissa_digits;
    }
    bool exponent_ok = true;
    if (mantissa_digits > 0 && !at_end() && (peek() == 'e' || peek() == 'E')) {
      is_float = true;
      ++pos_;
      if (!at_end() && (peek() == '+' || peek() == '-')) ++pos_;
      exponent_ok = !at_end() && is_digit(peek());
      while (!at_end() && is_digit(peek())) ++pos_;
    }
    if (mantissa_digits == 0 || !exponent_ok || (!at_end() && (is_word_char(peek()) || peek() == '.'))) {
      while (!at_end() && (is_word_char(peek()) || peek() == '.' || peek() == '+' || peek() == '-')) ++pos_;
      fail("malformed number `" + text_.substr(start, pos_ - start) + "`",
           "an int such as -3 or a float such as 1e-5, 0.5, 1. or .5");
    }
    std::string token(negative ? "-" : "");
    token.append(text_, start, pos_ - start);
    const char* first = token.data();
    const char* last = first + token.size();
    if (!is_float) {
      if (token.size() > (negative ? 2u : 1u) && token[negative ? 1 : 0] == '0')
        fail("leading zeros in the int `" + token + "`", "an int without leading zeros, as Python");
      int64_t i = 0;
      const auto r = std::from_chars(first, last, i);
      if (r.ec != std::errc() || r.ptr != last) fail("int `" + token + "` out of range", "a 64-bit int");
      return Value::integer(i);
    }
    double d = 0.0;
    const auto r = std::from_chars(first, last, d);
    if (r.ec != std::errc() || r.ptr != last) fail("float `" + token + "` out of range", "a finite double");
    return Value::floating(d);
  }

  Value parse_word() {
    const size_t start = pos_;
    while (!at_end() && is_word_char(peek())) ++pos_;
    const std::string word = text_.substr(start, pos_ - start);
    if (word == "True") return Value::boolean(true);
    if (word == "False") return Value::boolean(false);
    if (word == "None") return Value();
    fail("bare word `" + word + "` is not a Python literal",
         "True/False, None, a number, a [list], or a quoted string such as '" + word + "'");
  }

  const std::string& text_;
  const std::string& where_;
  size_t pos_ = 0;
};

// `item` names the offending list item, when the list itself is fine.
[[noreturn]] void throw_wrong_kind(const std::string& what, const char* expected, const Value& v,
                                   size_t item = std::string::npos) {
  if (item == std::string::npos)
    LITS_THROW(what << ": expected " << expected << ", got " << v.str() << " (" << kind_name(v.kind()) << ")");
  const Value& bad = v.as_list(what)[item];
  LITS_THROW(what << ": expected " << expected << ", got " << v.str() << " (item " << item << " is " << bad.str()
                  << ", " << kind_name(bad.kind()) << ")");
}

}  // namespace

// ---- Value ----

Value Value::boolean(bool v) {
  Value out;
  out.kind_ = Kind::kBool;
  out.b_ = v;
  return out;
}

Value Value::integer(int64_t v) {
  Value out;
  out.kind_ = Kind::kInt;
  out.i_ = v;
  return out;
}

Value Value::floating(double v) {
  Value out;
  out.kind_ = Kind::kFloat;
  out.f_ = v;
  return out;
}

Value Value::string(std::string v) {
  Value out;
  out.kind_ = Kind::kString;
  out.s_ = std::move(v);
  return out;
}

Value Value::list(std::vector<Value> v) {
  Value out;
  out.kind_ = Kind::kList;
  out.list_ = std::move(v);
  return out;
}

bool Value::as_bool(const std::string& what) const {
  if (kind_ != Kind::kBool) throw_wrong_kind(what, "a bool (True or False)", *this);
  return b_;
}

int64_t Value::as_int(const std::string& what) const {
  if (kind_ != Kind::kInt) throw_wrong_kind(what, "an int", *this);
  return i_;
}

double Value::as_double(const std::string& what) const {
  if (kind_ == Kind::kInt) return static_cast<double>(i_);
  if (kind_ != Kind::kFloat) throw_wrong_kind(what, "a number (float or int)", *this);
  return f_;
}

const std::string& Value::as_string(const std::string& what) const {
  if (kind_ != Kind::kString) throw_wrong_kind(what, "a quoted string", *this);
  return s_;
}

const std::vector<Value>& Value::as_list(const std::string& what) const {
  if (kind_ != Kind::kList) throw_wrong_kind(what, "a list", *this);
  return list_;
}

std::vector<int64_t> Value::as_int_list(const std::string& what) const {
  if (kind_ != Kind::kList) throw_wrong_kind(what, "a list of ints", *this);
  std::vector<int64_t> out;
  for (size_t i = 0; i < list_.size(); ++i) {
    if (list_[i].kind_ != Kind::kInt) throw_wrong_kind(what, "a list of ints", *this, i);
    out.push_back(list_[i].i_);
  }
  return out;
}

std::vector<double> Value::as_double_list(const std::string& what) const {
  if (kind_ != Kind::kList) throw_wrong_kind(what, "a list of numbers", *this);
  std::vector<double> out;
  for (size_t i = 0; i < list_.size(); ++i) {
    const Kind k = list_[i].kind_;
    if (k != Kind::kInt && k != Kind::kFloat) throw_wrong_kind(what, "a list of numbers", *this, i);
    out.push_back(k == Kind::kInt ? static_cast<double>(list_[i].i_) : list_[i].f_);
  }
  return out;
}

std::string Value::str() const {
  switch (kind_) {
    case Kind::kNone: return "None";
    case Kind::kBool: return b_ ? "True" : "False";
    case Kind::kInt: return std::to_string(i_);
    case Kind::kFloat: return float_repr(f_);
    case Kind::kString: return string_repr(s_);
    case Kind::kList: {
      std::string out = "[";
      for (size_t i = 0; i < list_.size(); ++i) out += (i > 0 ? ", " : "") + list_[i].str();
      return out + "]";
    }
  }
  return "?";
}

// Kinds must match: unlike Python, 1 != 1.0 and True != 1, because the typed accessors treat them
// differently (as_int rejects 1.0).
bool Value::operator==(const Value& other) const {
  if (kind_ != other.kind_) return false;
  switch (kind_) {
    case Kind::kNone: return true;
    case Kind::kBool: return b_ == other.b_;
    case Kind::kInt: return i_ == other.i_;
    case Kind::kFloat: return f_ == other.f_;
    case Kind::kString: return s_ == other.s_;
    case Kind::kList: return list_ == other.list_;
  }
  return false;
}

Value parse_value(const std::string& text, const std::string& where) { return LiteralParser(text, where).parse(); }

}  // namespace lits
