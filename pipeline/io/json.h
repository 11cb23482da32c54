// A small JSON reader and writer for the files this project writes itself (the slice store's index.json and
// volume.json): objects, arrays, strings, numbers, booleans and null. Numbers are doubles (integers are exact
// up to 2^53); the reader decodes \uXXXX escapes of the Basic Multilingual Plane only, as the writer escapes
// nothing but control characters. Errors are lits::Error naming the file and the byte offset.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lits {

struct Json {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject } kind = Kind::kNull;
  bool boolean = false;
  double number = 0.0;
  std::string text;
  std::vector<std::string> keys;  // an object's keys, keys[n] naming items[n]
  std::vector<Json> items;        // an array's elements or an object's values

  // The value of `key` in an object, nullptr when absent.
  const Json* find(const std::string& key) const;
};

// Parses `text`; `path` only names the source in errors.
Json parse_json(const std::string& text, const std::string& path);
Json read_json_file(const std::string& path);

// A JSON string literal, quotes included: `"` and `\` escaped, control characters as \u00XX, other bytes
// (UTF-8) as they are.
std::string json_string(const std::string& s);

// `v` as an integer: a JSON number that is whole and within +-2^53 (where doubles are exact), else a
// lits::Error naming `what` and the value. Converting a larger double to int64_t would be undefined.
int64_t json_integer(const Json& v, const std::string& what);
// The shortest text that reads back as the same double (std::to_chars), so values round-trip exactly.
std::string json_number(double v);

}  // namespace lits
