// The emulator's source rewriter: turns a .cu file into C++ that g++ compiles against the
// emulation header (cuda_emu/include/cuda_runtime.h). Only two CUDA forms need a rewrite,
// because they are syntax rather than functions:
//   kernel<tmpl><<<grid, block, smem, stream>>>(args);
//     -> ::lits_emu::launch(site, [&](auto... a) { kernel<tmpl>(a...); }, ::lits_emu::Config(grid, ...), args);
//   __shared__ T name[dims];          -> auto& name = ::lits_emu::static_shared<T[dims]>(file, line);
//   extern __shared__ T name[];       -> T* name = ::lits_emu::dynamic_shared<T>(file, line);
// Everything else is kept byte for byte, and every newline stays where it was, so with the leading
// #line the compiler, ASan and TSan name the .cu file's own lines. Any `<<<` or `__shared__` this
// tool cannot parse is an error naming the line: nothing is passed through half-rewritten.
// Usage: lits_cuda_emu_rewrite IN.cu OUT.cpp
//        lits_cuda_emu_rewrite --mutant NAME SPEC SOURCE_ROOT OUT_DIR
// The second form makes one of the self-test's mutants (tests/cuda_emu/mutants.txt): a copy of a
// real kernel file with one exact text replaced, written under OUT_DIR with the same relative path,
// and the .cu to compile rewritten to OUT_DIR/kernel.cpp. The text must occur exactly once, so a
// change to the kernel that the mutant no longer matches stops the build instead of testing nothing.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// code[i] is true where text[i] is C++ code: not in a comment, a string or character literal, or
// a preprocessor line. The rewrites only look at code.
std::vector<bool> code_mask(const std::string& t, std::vector<bool>* preprocessor) {
  const size_t n = t.size();
  std::vector<bool> code(n, true);
  preprocessor->assign(n, false);
  size_t i = 0;
  bool line_start = true;
  while (i < n) {
    const char c = t[i];
    if (line_start && c == '#') {
      const size_t begin = i;
      while (i < n && !(t[i] == '\n' && t[i - 1] != '\\')) ++i;
      for (size_t k = begin; k < i; ++k) code[k] = false, (*preprocessor)[k] = true;
      continue;
    }
    if (c == '\n')
      line_start = true;
    else if (c != ' ' && c != '\t')
      line_start = false;
    if (t.compare(i, 2, "//") == 0) {
      while (i < n && t[i] != '\n') code[i++] = false;
    } else if (t.compare(i, 2, "/*") == 0) {
      const size_t end = t.find("*/", i + 2);
      const size_t stop = end == std::string::npos ? n : end + 2;
      while (i < stop) code[i++] = false;
    } else if (c == '"' || c == '\'') {
      code[i++] = false;
      while (i < n && t[i] != c) {
        if (t[i] == '\\') code[i++] = false;
        if (i < n) code[i++] = false;
      }
      if (i < n) code[i++] = false;
    } else {
      ++i;
    }
  }
  return code;
}

bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

class Rewriter {
 public:
  Rewriter(std::string path, std::string text) : path_(std::move(path)), t_(std::move(text)) {
    code_ = code_mask(t_, &pre_);
  }

  std::string run() {
    std::string out = "#line 1 \"" + path_ + "\"\n";
    size_t copied = 0;
    for (size_t i = 0; i < t_.size(); ++i) {
      if (pre_[i] && (t_.compare(i, 3, "<<<") == 0 || t_.compare(i, 10, "__shared__") == 0))
        fail(i, "a kernel launch or __shared__ inside a preprocessor line cannot be rewritten");
      if (!code_[i]) continue;
      if (t_.compare(i, 3, "<<<") == 0) {
        const size_t begin = kernel_start(i);
        out.append(t_, copied, begin - copied);
        copied = rewrite_launch(begin, i, &out);
        i = copied - 1;
      } else if (t_.compare(i, 10, "__shared__") == 0 && !ident_char(i ? t_[i - 1] : ' ') && !ident_char(t_[i + 10])) {
        size_t begin = i;
        const bool is_extern = preceded_by_extern(i, &begin);
        out.append(t_, copied, begin - copied);
        copied = rewrite_shared(i, is_extern, &out);
        i = copied - 1;
      }
    }
    out.append(t_, copied, std::string::npos);
    return out;
  }

 private:
  [[noreturn]] void fail(size_t at, const std::string& what) const {
    const int line = 1 + static_cast<int>(std::count(t_.begin(), t_.begin() + static_cast<long>(at), '\n'));
    throw Failure(path_ + ":" + std::to_string(line) + ": " + what);
  }

  size_t skip_space_back(size_t i) const {  // just past the last code character before i that is not a space
    while (i > 0 && (!code_[i - 1] || std::isspace(static_cast<unsigned char>(t_[i - 1])))) --i;
    return i;
  }
  size_t skip_space(size_t i) const {
    while (i < t_.size() && std::isspace(static_cast<unsigned char>(t_[i]))) ++i;
    return i;
  }

  // Start of `name<tmpl>` before the `<<<` at `at`.
  size_t kernel_start(size_t at) const {
    size_t i = skip_space_back(at);
    if (i > 0 && t_[i - 1] == '>') {
      int depth = 0;
      do {
        --i;
        if (t_[i] == '>') ++depth;
        if (t_[i] == '<') --depth;
        if (t_[i] == ';' || t_[i] == '{' || t_[i] == '}') fail(at, "unbalanced template arguments before <<<");
      } while (i > 0 && depth > 0);
      i = skip_space_back(i);
    }
    const size_t end = i;
    while (i > 0 && (ident_char(t_[i - 1]) || t_[i - 1] == ':')) --i;
    if (i == end) fail(at, "no kernel name before <<<");
    return i;
  }

  // Index just past the `close` that balances the `open` at `i`.
  size_t match(size_t i, char open, char close) const {
    int depth = 0;
    for (size_t k = i; k < t_.size(); ++k) {
      if (!code_[k]) continue;
      if (t_[k] == open) ++depth;
      if (t_[k] == close && --depth == 0) return k + 1;
    }
    fail(i, std::string("no matching '") + close + "'");
  }

  size_t rewrite_launch(size_t begin, size_t lt, std::string* out) const {
    const std::string name_expr = t_.substr(begin, lt - begin);
    size_t base_end = name_expr.find('<');
    std::string base = name_expr.substr(0, base_end);
    while (!base.empty() && std::isspace(static_cast<unsigned char>(base.back()))) base.pop_back();
    base = base.substr(base.rfind(':') == std::string::npos ? 0 : base.rfind(':') + 1);
    const size_t gt = t_.find(">>>", lt + 3);
    if (gt == std::string::npos) fail(lt, "<<< without >>>");
    const std::string config = t_.substr(lt + 3, gt - lt - 3);
    if (config.find(';') != std::string::npos) fail(lt, "<<< without >>> in the same statement");
    const size_t open = skip_space(gt + 3);
    if (open >= t_.size() || t_[open] != '(') fail(gt, "expected '(' and the kernel arguments after >>>");
    const size_t close = match(open, '(', ')');
    std::string args = t_.substr(open + 1, close - open - 2);
    const bool no_args = args.find_first_not_of(" \t\n") == std::string::npos;
    *out += "::lits_emu::launch(::lits_emu::Site{__FILE__, __LINE__, \"" + base + "\"}, [=](auto... lits_emu_a) { " +
            name_expr + "(lits_emu_a...); }, ::lits_emu::Config(" + config + ")";
    *out += no_args ? args : ", " + args;  // the arguments' own newlines stay
    *out += ")";
    // Newlines between >>> and '(' would otherwise be lost.
    out->append(
        static_cast<size_t>(std::count(t_.begin() + static_cast<long>(gt), t_.begin() + static_cast<long>(open), '\n')),
        '\n');
    return close;
  }

  bool preceded_by_extern(size_t at, size_t* begin) const {
    const size_t i = skip_space_back(at);
    if (i >= 6 && t_.compare(i - 6, 6, "extern") == 0 && (i == 6 || !ident_char(t_[i - 7]))) {
      *begin = i - 6;
      return true;
    }
    if (i > 0 && t_[i - 1] != ';' && t_[i - 1] != '{' && t_[i - 1] != '}')
      fail(at, "__shared__ must begin its declaration (write `__shared__ T name[n];`)");
    return false;
  }

  size_t rewrite_shared(size_t at, bool is_extern, std::string* out) const {
    const size_t semi = t_.find(';', at);
    if (semi == std::string::npos) fail(at, "__shared__ declaration without ';'");
    const std::string decl = t_.substr(at + 10, semi - at - 10);
    if (decl.find_first_of("=,(){}") != std::string::npos)
      fail(at, "only `__shared__ T name[dims];` is supported (no initializer, one name per declaration)");
    const size_t bracket = decl.find('[');
    const std::string head = decl.substr(0, bracket);  // "T name"
    const std::string dims = bracket == std::string::npos ? "" : decl.substr(bracket);
    size_t e = head.find_last_not_of(" \t\n");
    if (e == std::string::npos) fail(at, "__shared__ declaration without a name");
    size_t s = e;
    while (s > 0 && ident_char(head[s - 1])) --s;
    const std::string name = head.substr(s, e + 1 - s), type = head.substr(0, s);
    if (name.empty() || type.find_first_not_of(" \t\n") == std::string::npos)
      fail(at, "__shared__ declaration needs a type and a name");
    const long newlines = std::count(decl.begin(), decl.end(), '\n');
    if (is_extern) {
      if (dims != "[]") fail(at, "extern __shared__ must be an unsized array: `extern __shared__ T name[];`");
      *out += type + "* " + name + " = ::lits_emu::dynamic_shared<" + type + ">(__FILE__, __LINE__)";
    } else {
      *out += "auto& " + name + " = ::lits_emu::static_shared<" + type + dims + ">(__FILE__, __LINE__)";
    }
    out->append(static_cast<size_t>(newlines), '\n');
    return semi;  // the ';' is copied with the rest
  }

  std::string path_, t_;
  std::vector<bool> code_, pre_;
};

}  // namespace

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Failure("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Written next to the target, then renamed: a failed run leaves no half-written output behind.
void write_file(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  const std::string tmp = path + ".tmp";
  std::ofstream f(tmp, std::ios::binary);
  f << text;
  f.close();
  if (!f || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw Failure("cannot write " + path);
  }
}

struct Mutant {
  std::string file, compile, driver, find, replace;
  bool found = false;
};

// mutants.txt: "=== NAME", then "file: PATH", optional "compile: PATH" (the .cu that includes a
// mutated header), "driver: NAME" (tests/cuda_emu/selftest/drivers.h), then optional "--- find" and
// "--- replace" blocks of whole lines (no find: an unmutated control).
Mutant parse_mutant(const std::string& spec_path, const std::string& name) {
  std::istringstream spec(read_file(spec_path));
  Mutant m;
  std::string line, *block = nullptr;
  bool mine = false;
  while (std::getline(spec, line)) {
    if (line.rfind("=== ", 0) == 0) {
      mine = line.substr(4) == name;
      m.found = m.found || mine;
      block = nullptr;
    } else if (!mine || line.rfind("#", 0) == 0) {
      continue;
    } else if (line.rfind("file: ", 0) == 0) {
      m.file = line.substr(6);
    } else if (line.rfind("compile: ", 0) == 0) {
      m.compile = line.substr(9);
    } else if (line.rfind("driver: ", 0) == 0) {
      m.driver = line.substr(8);
    } else if (line == "--- find") {
      block = &m.find;
    } else if (line == "--- replace") {
      block = &m.replace;
    } else if (block) {
      *block += line + "\n";
    } else if (!line.empty()) {
      throw Failure(spec_path + ": mutant " + name + ": unexpected line '" + line + "'");
    }
  }
  if (!m.found || m.file.empty() || m.driver.empty())
    throw Failure(spec_path + ": no mutant '" + name + "' with file: and driver: lines");
  if (m.compile.empty()) m.compile = m.file;
  return m;
}

void make_mutant(const std::string& name, const std::string& spec, const std::string& root, const std::string& out) {
  const Mutant m = parse_mutant(spec, name);
  std::string text = read_file(root + "/" + m.file);
  if (!m.find.empty()) {
    const size_t at = text.find(m.find);
    if (at == std::string::npos || text.find(m.find, at + 1) != std::string::npos)
      throw Failure(spec + ": mutant " + name + ": the text to replace must occur exactly once in " + m.file +
                    (at == std::string::npos ? " (it does not occur: has the kernel changed?)" : " (it occurs twice)"));
    text.replace(at, m.find.size(), m.replace);
  }
  write_file(out + "/" + m.file, text);
  const std::string cu = m.compile == m.file ? out + "/" + m.file : root + "/" + m.compile;
  write_file(out + "/kernel.cpp", Rewriter(cu, read_file(cu)).run());
  write_file(out + "/unit.cpp", "// Generated by lits_cuda_emu_rewrite from " + spec +
                                    ".\n#include \"kernel.cpp\"\n#define LITS_EMU_ENTRY " + name +
                                    "\n#define LITS_EMU_DRIVER_" + m.driver +
                                    "\n#include \"tests/cuda_emu/selftest/drivers.h\"\n");
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc == 6 && std::string(argv[1]) == "--mutant") {
      make_mutant(argv[2], argv[3], argv[4], argv[5]);
    } else if (argc == 3) {
      write_file(argv[2], Rewriter(argv[1], read_file(argv[1])).run());
    } else {
      std::fprintf(stderr, "usage: %s IN.cu OUT.cpp\n       %s --mutant NAME SPEC SOURCE_ROOT OUT_DIR\n", argv[0],
                   argv[0]);
      return 2;
    }
  } catch (const Failure& e) {
    std::fprintf(stderr, "lits_cuda_emu_rewrite: %s\n", e.what());
    return 1;
  }
  return 0;
}
