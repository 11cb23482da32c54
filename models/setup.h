// The reference's setup files (docs/reference.md section 1): a baseline file of `key: value`
// lines under `#` section headers, and a variation file whose `=` lines separate run blocks; the
// list values of a block expand as a Cartesian product, each run merged onto the baseline.
// Values are Python literals (int, float, True/False, None, quoted strings, nested lists).
// Better than the reference: quoted strings keep their inner spaces, a `:` inside a quoted value
// works, and an unknown key, a key in the wrong section or a malformed value is an error naming
// the file, the line and the key.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lits {

// A Python literal.
class Value {
 public:
  enum class Kind { kNone, kBool, kInt, kFloat, kString, kList };

  Value() = default;  // None
  static Value boolean(bool v);
  static Value integer(int64_t v);
  static Value floating(double v);
  static Value string(std::string v);
  static Value list(std::vector<Value> v);

  Kind kind() const { return kind_; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_list() const { return kind_ == Kind::kList; }
  // Typed access; throw lits::Error naming `what` (usually the key) and the value's Python text.
  bool as_bool(const std::string& what) const;
  int64_t as_int(const std::string& what) const;
  double as_double(const std::string& what) const;  // ints convert
  const std::string& as_string(const std::string& what) const;
  const std::vector<Value>& as_list(const std::string& what) const;
  std::vector<int64_t> as_int_list(const std::string& what) const;
  std::vector<double> as_double_list(const std::string& what) const;

  // Python repr: None, True, 3, 1e-05, 'text', [1, [2, 3]].
  std::string str() const;
  bool operator==(const Value& other) const;

 private:
  Kind kind_ = Kind::kNone;
  bool b_ = false;
  int64_t i_ = 0;
  double f_ = 0.0;
  std::string s_;
  std::vector<Value> list_;
};

// Parses one Python literal; throws lits::Error (with `where`, e.g. "file:line key") on bad input.
Value parse_value(const std::string& text, const std::string& where);

struct SetupEntry {
  std::string section;  // "Network", "Training" or "Paths"
  std::string key;
  Value value;
  std::string file;  // where it was set (the baseline or the variation file)
  int line = 0;
};

// One run's resolved parameters, in file order (the baseline's keys, then keys a variation adds).
class Setup {
 public:
  const std::vector<SetupEntry>& entries() const { return entries_; }
  bool has(const std::string& key) const;
  const Value* find(const std::string& key) const;  // null when absent
  // Throws lits::Error naming the key (and that it is missing from every setup file) when absent.
  const Value& at(const std::string& key) const;
  // The key's value as T (bool, int64_t, double, std::string, or a std::vector of int64_t, double or
  // std::string), the key named once: errors name it. get throws when the key is missing; get_or returns
  // `fallback` when it is missing or None (Python's "not set").
  template <class T>
  T get(const std::string& key) const;
  template <class T>
  T get_or(const std::string& key, T fallback) const {
    const Value* v = find(key);
    return v == nullptr || v->is_none() ? fallback : get<T>(key);
  }
  // Sets (or adds, in `section`) a value.
  void set(const std::string& section, const std::string& key, Value value, const std::string& file = "", int line = 0);
  // Index of this run within its variation block (the reference's iter_idx) and the block's
  // separator line text.
  int run_index = 0;
  std::string block_title;

 private:
  std::vector<SetupEntry> entries_;
};

template <>
bool Setup::get<bool>(const std::string& key) const;
template <>
int64_t Setup::get<int64_t>(const std::string& key) const;
template <>
double Setup::get<double>(const std::string& key) const;
template <>
std::string Setup::get<std::string>(const std::string& key) const;
template <>
std::vector<int64_t> Setup::get<std::vector<int64_t>>(const std::string& key) const;
template <>
std::vector<double> Setup::get<std::vector<double>>(const std::string& key) const;
template <>
std::vector<std::string> Setup::get<std::vector<std::string>>(const std::string& key) const;

// The known keys of each section (docs/reference.md section 1.4) and their home section;
// empty when the key is unknown.
std::string section_of_key(const std::string& key);

// True when `text` has a run-block separator line (a `=` outside quotes on a non-comment line):
// a variation file rather than a baseline.
bool has_run_separator(const std::string& text);

Setup parse_setup_text(const std::string& text, const std::string& file_name);
Setup parse_setup_file(const std::string& path);
// Runs of a variation file merged onto `base`, in file order (empty when the file has no `=` line).
std::vector<Setup> expand_variations_text(const Setup& base, const std::string& text, const std::string& file_name);
std::vector<Setup> expand_variations_file(const Setup& base, const std::string& path);

}  // namespace lits
