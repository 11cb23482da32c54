// Setup files: Python literals and their repr, the baseline's sections and comments, the variation
// file's run blocks (Cartesian product order), an error naming file:line, key and text for every
// malformed line, and the presets in models/presets/ (each parses and expands to one run).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "models/setup.h"
#include "tests/support/errors.h"

namespace lits::testing {
namespace {

namespace fs = std::filesystem;

// Test bodies see gtest's Test::Setup (a trap for SetUp typos) before lits::Setup, hence the
// qualified name throughout.

Value lit(const std::string& text) { return parse_value(text, "test"); }

Value ints(std::vector<int64_t> v) {
  std::vector<Value> items;
  for (const int64_t i : v) items.push_back(Value::integer(i));
  return Value::list(std::move(items));
}

// ---- literals ----

TEST(SetupGet, TypedValuesNameTheKeyOnceAndItsErrors) {
  const lits::Setup s = parse_setup_text(
      "# Network\nstructure: [2, 2]\nfilter_start: 8\nbackbone: 'residual'\nse_reduction: None\n"
      "# Training\nlr: 3e-05\nno_standardize: True\naugment: ['rot', 'flip']\n",
      "get.txt");
  EXPECT_EQ(s.get<std::vector<int64_t>>("structure"), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(s.get<int64_t>("filter_start"), 8);
  EXPECT_EQ(s.get<double>("filter_start"), 8.0);  // ints convert, as Value::as_double
  EXPECT_EQ(s.get<std::string>("backbone"), "residual");
  EXPECT_EQ(s.get<double>("lr"), 3e-05);
  EXPECT_TRUE(s.get<bool>("no_standardize"));
  EXPECT_EQ(s.get<std::vector<std::string>>("augment"), (std::vector<std::string>{"rot", "flip"}));
  // get_or: the fallback when the key is missing or None, the value otherwise.
  EXPECT_EQ(s.get_or<int64_t>("channels", 3), 3);
  EXPECT_EQ(s.get_or<double>("se_reduction", 0.5), 0.5);
  EXPECT_EQ(s.get_or<int64_t>("filter_start", 3), 8);
  // Errors name the key and the value (a wrong type), or say where the key is missing.
  expect_contains(error_of([&] { s.get<int64_t>("backbone"); }), {"backbone", "'residual'"});
  expect_contains(error_of([&] { s.get_or<std::string>("filter_start", ""); }), {"filter_start", "8"});
  expect_contains(error_of([&] { s.get<double>("gamma"); }), {"'gamma'", "missing", "# Training"});
}

TEST(ValueParse, Ints) {
  EXPECT_EQ(lit("3"), Value::integer(3));
  EXPECT_EQ(lit("-3"), Value::integer(-3));
  EXPECT_EQ(lit("+7"), Value::integer(7));
  EXPECT_EQ(lit("0"), Value::integer(0));
  EXPECT_EQ(lit("  42  "), Value::integer(42));
  EXPECT_EQ(lit("9223372036854775807"), Value::integer(INT64_MAX));
  EXPECT_EQ(lit("-9223372036854775808"), Value::integer(INT64_MIN));
  EXPECT_EQ(lit("3").kind(), Value::Kind::kInt);
}

TEST(ValueParse, Floats) {
  EXPECT_EQ(lit("1e-5"), lit("0.00001"));
  EXPECT_EQ(lit("1e-5"), Value::floating(1e-5));
  EXPECT_EQ(lit("1."), Value::floating(1.0));
  EXPECT_EQ(lit(".5"), Value::floating(0.5));
  EXPECT_EQ(lit("-3e+2"), Value::floating(-300.0));
  EXPECT_EQ(lit("2.5E3"), Value::floating(2500.0));
  EXPECT_EQ(lit("0.9"), Value::floating(0.9));
  EXPECT_EQ(lit("1.").kind(), Value::Kind::kFloat);
  EXPECT_EQ(lit("1e3").kind(), Value::Kind::kFloat);
}

TEST(ValueParse, BoolsAndNone) {
  EXPECT_EQ(lit("True"), Value::boolean(true));
  EXPECT_EQ(lit("False"), Value::boolean(false));
  EXPECT_TRUE(lit("None").is_none());
  EXPECT_EQ(lit("None"), Value());
}

TEST(ValueParse, StringsKeepInnerSpacesColonsAndPercent) {
  EXPECT_EQ(lit("'he_n'"), Value::string("he_n"));
  EXPECT_EQ(lit("\"he_n\""), Value::string("he_n"));
  EXPECT_EQ(lit("'lesion baseline 2D'"), Value::string("lesion baseline 2D"));
  EXPECT_EQ(lit("'C:/data/LiTS'"), Value::string("C:/data/LiTS"));
  EXPECT_EQ(lit("'50% = half # not a header'"), Value::string("50% = half # not a header"));
  EXPECT_EQ(lit("''"), Value::string(""));
}

TEST(ValueParse, StringEscapes) {
  EXPECT_EQ(lit(R"('a\\b')"), Value::string("a\\b"));
  EXPECT_EQ(lit(R"('it\'s')"), Value::string("it's"));
  EXPECT_EQ(lit(R"("say \"hi\"")"), Value::string("say \"hi\""));
  EXPECT_EQ(lit(R"('tab\there')"), Value::string("tab\there"));
  EXPECT_EQ(lit(R"('\x41\101')"), Value::string("AA"));
  // Python keeps an unknown escape as written.
  EXPECT_EQ(lit(R"('C:\data')"), Value::string("C:\\data"));
}

TEST(ValueParse, NestedListsTrailingCommasAndSpaces) {
  EXPECT_EQ(lit("[]"), Value::list({}));
  EXPECT_EQ(lit("[3,3,3]"), ints({3, 3, 3}));
  EXPECT_EQ(lit(" [ 3 , 3 , 3 , ] "), ints({3, 3, 3}));
  EXPECT_EQ(lit("[[25,42]]"), Value::list({ints({25, 42})}));
  EXPECT_EQ(lit("[1, [2, [3, [4, []]]]]"),
            Value::list(
                {Value::integer(1),
                 Value::list({Value::integer(2),
                              Value::list({Value::integer(3), Value::list({Value::integer(4), Value::list({})})})})}));
  EXPECT_EQ(lit("['rot','zoom', 'hflip' ,'vflip']"),
            Value::list({Value::string("rot"), Value::string("zoom"), Value::string("hflip"), Value::string("vflip")}));
  EXPECT_EQ(lit("[1, 2.5, 'x', None, True]"),
            Value::list({Value::integer(1), Value::floating(2.5), Value::string("x"), Value(), Value::boolean(true)}));
}

TEST(ValueParse, TuplesAreLists) {
  EXPECT_EQ(lit("(25, 42)"), ints({25, 42}));
  EXPECT_EQ(lit("(4,)"), ints({4}));
  EXPECT_EQ(lit("()"), Value::list({}));
  EXPECT_EQ(lit("[(1, 2), (3, 4)]"), Value::list({ints({1, 2}), ints({3, 4})}));
  // A parenthesised value without a comma is the value itself, as in Python.
  EXPECT_EQ(lit("(4)"), Value::integer(4));
}

TEST(ValueParse, MalformedValuesNameWhereTextAndExpectation) {
  expect_contains(error_of([] { parse_value("he_n", "f.txt:3, key 'init_type'"); }),
                  {"f.txt:3, key 'init_type'", "bare word `he_n`", "'he_n'", "expected"});
  expect_contains(error_of([] { parse_value("", "w"); }), {"w: empty value", "expected"});
  expect_contains(error_of([] { parse_value("[1, [2, 3]", "w"); }), {"unbalanced '['", "`[1, [2, 3]`", "']'"});
  expect_contains(error_of([] { parse_value("[1, 2]]", "w"); }), {"unexpected text `]`", "[1, 2]"});
  expect_contains(error_of([] { parse_value("]", "w"); }), {"unbalanced ']'"});
  expect_contains(error_of([] { parse_value("[1 2]", "w"); }), {"unexpected text `2]`", "',' or ']'"});
  expect_contains(error_of([] { parse_value("(1, 2]", "w"); }), {"',' or ')'"});
  expect_contains(error_of([] { parse_value("'abc", "w"); }), {"unterminated string", "`'abc`"});
  expect_contains(error_of([] { parse_value("3 4", "w"); }), {"unexpected text `4`", "after the value 3"});
  expect_contains(error_of([] { parse_value("1e", "w"); }), {"malformed number `1e`"});
  expect_contains(error_of([] { parse_value("1.2.3", "w"); }), {"malformed number `1.2.3`"});
  expect_contains(error_of([] { parse_value("3abc", "w"); }), {"malformed number `3abc`"});
  expect_contains(error_of([] { parse_value("true", "w"); }), {"bare word `true`", "True/False"});
  expect_contains(error_of([] { parse_value("99999999999999999999", "w"); }), {"out of range"});
  expect_contains(error_of([] { parse_value("[1,,2]", "w"); }), {"unexpected character ','"});
  expect_contains(error_of([] { parse_value(std::string(300, '['), "w"); }), {"nested deeper than 200"});
}

// ---- repr ----

TEST(ValueRepr, MatchesPython) {
  EXPECT_EQ(Value().str(), "None");
  EXPECT_EQ(Value::boolean(true).str(), "True");
  EXPECT_EQ(Value::integer(-3).str(), "-3");
  EXPECT_EQ(Value::floating(1e-5).str(), "1e-05");
  EXPECT_EQ(Value::floating(3e-5).str(), "3e-05");
  EXPECT_EQ(Value::floating(0.1).str(), "0.1");
  EXPECT_EQ(Value::floating(2.5).str(), "2.5");
  EXPECT_EQ(Value::floating(1.0).str(), "1.0");
  EXPECT_EQ(Value::floating(0.0001).str(), "0.0001");
  EXPECT_EQ(Value::floating(-300.0).str(), "-300.0");
  EXPECT_EQ(Value::floating(1e16).str(), "1e+16");
  EXPECT_EQ(Value::floating(1e15).str(), "1000000000000000.0");
  EXPECT_EQ(Value::floating(123456789012345678.0).str(), "1.2345678901234568e+17");
  EXPECT_EQ(Value::floating(1.5e-7).str(), "1.5e-07");
  EXPECT_EQ(Value::floating(0.0).str(), "0.0");
  EXPECT_EQ(Value::floating(-0.0).str(), "-0.0");
  EXPECT_EQ(Value::floating(0.1 + 0.2).str(), "0.30000000000000004");
  EXPECT_EQ(Value::string("he_n").str(), "'he_n'");
  EXPECT_EQ(Value::string("it's").str(), "\"it's\"");
  EXPECT_EQ(Value::string("a\\b\n").str(), "'a\\\\b\\n'");
  EXPECT_EQ(lit("[1, [2, 3], 'x', []]").str(), "[1, [2, 3], 'x', []]");
}

TEST(ValueRepr, RoundTrips) {
  for (const char* text : {"1e-05", "3e-05", "0.1", "2.5", "1.0", "-7", "[[25, 42]]", "'lesion baseline 2D'",
                           "['rot', 'zoom']", "None", "False", "0.30000000000000004", "1e+16", "\"it's\""}) {
    EXPECT_EQ(lit(text).str(), text);
    EXPECT_EQ(lit(lit(text).str()), lit(text)) << text;
  }
}

TEST(ValueAccess, TypedAccessorsAndTheirErrors) {
  EXPECT_EQ(lit("3").as_int("n_epochs"), 3);
  EXPECT_DOUBLE_EQ(lit("3").as_double("lr"), 3.0);
  EXPECT_DOUBLE_EQ(lit("1e-5").as_double("lr"), 1e-5);
  EXPECT_TRUE(lit("True").as_bool("use_batchnorm"));
  EXPECT_EQ(lit("'base'").as_string("backbone"), "base");
  EXPECT_EQ(lit("[3, 4]").as_int_list("structure"), (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(lit("[1, 2.5]").as_double_list("class_weights"), (std::vector<double>{1.0, 2.5}));
  EXPECT_EQ(lit("[1, [2]]").as_list("x").size(), 2u);
  // Kinds are strict: 1 and 1.0 differ.
  EXPECT_FALSE(lit("1") == lit("1.0"));

  expect_contains(error_of([] { lit("1.5").as_int("n_epochs"); }), {"n_epochs", "1.5", "expected an int", "float"});
  expect_contains(error_of([] { lit("'x'").as_double("lr"); }), {"lr", "'x'", "expected a number"});
  expect_contains(error_of([] { lit("1").as_bool("use_pypool"); }), {"use_pypool", "1", "expected a bool"});
  expect_contains(error_of([] { lit("3").as_string("backbone"); }), {"backbone", "3", "expected a quoted string"});
  expect_contains(error_of([] { lit("3").as_list("augment"); }), {"augment", "3", "expected a list"});
  expect_contains(error_of([] { lit("[3, 2.5]").as_int_list("structure"); }),
                  {"structure", "[3, 2.5]", "list of ints", "item 1 is 2.5"});
  expect_contains(error_of([] { lit("[1, 'a']").as_double_list("weight_score"); }),
                  {"weight_score", "[1, 'a']", "list of numbers", "item 1"});
}

// ---- baseline files ----

TEST(SetupFile, SectionsCommentsAndIgnoredLines) {
  const lits::Setup s = parse_setup_text(
      "lines before the first header are ignored, even without a colon\n"
      "% a comment\n"
      "###### Network\n"
      "structure:   [3, 3, 3]   \n"
      "   % an indented comment: lr: 5\n"
      "filter_start: 32 % a trailing comment hides the line, as in the reference\n"
      "==== ignored in a baseline ====\n"
      "\n"
      "# Training\n"
      "lr:        1e-5\n"
      "savename:  'liver small: 50% run'\n"
      "\t step_size : [25, 42]\r\n"
      "#Paths\n"
      "Save_Path: 'placeholder'\n",
      "base.txt");
  ASSERT_EQ(s.entries().size(), 5u);
  EXPECT_FALSE(s.has("filter_start"));
  EXPECT_EQ(s.at("structure"), ints({3, 3, 3}));
  EXPECT_EQ(s.at("lr"), Value::floating(1e-5));
  EXPECT_EQ(s.at("savename"), Value::string("liver small: 50% run"));
  EXPECT_EQ(s.at("step_size"), ints({25, 42}));
  const SetupEntry& e = s.entries()[1];
  EXPECT_EQ(e.section, "Training");
  EXPECT_EQ(e.key, "lr");
  EXPECT_EQ(e.file, "base.txt");
  EXPECT_EQ(e.line, 10);
  EXPECT_EQ(s.entries()[0].section, "Network");
  EXPECT_EQ(s.entries()[4].section, "Paths");
  EXPECT_EQ(s.find("gamma"), nullptr);
  expect_contains(error_of([&] { s.at("gamma"); }), {"'gamma'", "missing from every setup file", "# Training"});
}

TEST(SetupFile, SetReplacesOrAdds) {
  lits::Setup s = parse_setup_text("# Training\nlr: 1e-5\n", "b.txt");
  s.set("Training", "lr", Value::floating(3e-5), "v.txt", 4);
  s.set("Network", "dilation", ints({1, 2}));
  ASSERT_EQ(s.entries().size(), 2u);
  EXPECT_EQ(s.at("lr"), Value::floating(3e-5));
  EXPECT_EQ(s.entries()[0].file, "v.txt");
  EXPECT_EQ(s.entries()[0].line, 4);
  EXPECT_EQ(s.entries()[1].key, "dilation");
}

TEST(SetupFile, SectionOfKey) {
  EXPECT_EQ(section_of_key("structure"), "Network");
  EXPECT_EQ(section_of_key("dilation_up"), "Network");
  EXPECT_EQ(section_of_key("Training_ROI_Vicinity"), "Training");
  EXPECT_EQ(section_of_key("Save_Path"), "Paths");
  EXPECT_EQ(section_of_key("use_weightmaps"), "");
}

// ---- variation files ----

constexpr const char* kBase =
    "# Network\n"
    "structure: [3,3,3]\n"
    "# Training\n"
    "lr: 1e-5\n"
    "batch_size: 8\n"
    "step_size: 30\n";

TEST(SetupVariations, CartesianProductLastKeyFastest) {
  const lits::Setup base = parse_setup_text(kBase, "base.txt");
  const std::vector<lits::Setup> runs = expand_variations_text(base,
                                                               "header text before the first separator is ignored\n"
                                                               "===== [1] lr x batch =====\n"
                                                               "# Training\n"
                                                               "lr: [1e-3, 1e-4]\n"
                                                               "batch_size: [4, 8]\n",
                                                               "var.txt");
  ASSERT_EQ(runs.size(), 4u);
  const double lrs[] = {1e-3, 1e-3, 1e-4, 1e-4};
  const int64_t batches[] = {4, 8, 4, 8};
  for (int r = 0; r < 4; ++r) {
    EXPECT_EQ(runs[r].run_index, r);
    EXPECT_EQ(runs[r].block_title, "===== [1] lr x batch =====");
    EXPECT_EQ(runs[r].at("lr"), Value::floating(lrs[r])) << r;
    EXPECT_EQ(runs[r].at("batch_size"), Value::integer(batches[r])) << r;
    EXPECT_EQ(runs[r].at("step_size"), Value::integer(30));
    EXPECT_EQ(runs[r].at("structure"), ints({3, 3, 3}));
    EXPECT_EQ(runs[r].entries().size(), base.entries().size());
  }
  EXPECT_EQ(runs[0].entries()[1].file, "var.txt");
  EXPECT_EQ(runs[0].entries()[1].line, 4);
}

TEST(SetupVariations, BlocksConcatenateAndRestartRunIndex) {
  const lits::Setup base = parse_setup_text(kBase, "base.txt");
  const std::vector<lits::Setup> runs = expand_variations_text(base,
                                                               "=== A ===\n"
                                                               "# Training\n"
                                                               "lr: [1e-3, 1e-4, 1e-5]\n"
                                                               "=== B ===\n"
                                                               "batch_size: [16]\n"
                                                               "# Network\n"
                                                               "structure: [[2,2,2,2]]\n",
                                                               "var.txt");
  ASSERT_EQ(runs.size(), 4u);
  for (int r = 0; r < 3; ++r) {
    EXPECT_EQ(runs[r].run_index, r);
    EXPECT_EQ(runs[r].block_title, "=== A ===");
    EXPECT_EQ(runs[r].at("batch_size"), Value::integer(8));
  }
  EXPECT_EQ(runs[2].at("lr"), Value::floating(1e-5));
  // The second block does not inherit the first block's values; its first key stays in the
  // section the previous block left open (Training).
  EXPECT_EQ(runs[3].run_index, 0);
  EXPECT_EQ(runs[3].block_title, "=== B ===");
  EXPECT_EQ(runs[3].at("lr"), Value::floating(1e-5));
  EXPECT_EQ(runs[3].at("batch_size"), Value::integer(16));
  EXPECT_EQ(runs[3].at("structure"), ints({2, 2, 2, 2}));
}

TEST(SetupVariations, ListValuedAlternativeAddedKeysAndEmptyCases) {
  const lits::Setup base = parse_setup_text(kBase, "base.txt");
  const std::vector<lits::Setup> runs = expand_variations_text(base,
                                                               "=\n"
                                                               "# Training\n"
                                                               "step_size: [[25,42]]\n"
                                                               "# Network\n"
                                                               "dilation: [[1,1,2]]\n"
                                                               "structure_up: ([2,2,2],)\n",
                                                               "var.txt");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].at("step_size"), ints({25, 42}));
  EXPECT_EQ(runs[0].at("dilation"), ints({1, 1, 2}));
  EXPECT_EQ(runs[0].at("structure_up"), ints({2, 2, 2}));
  ASSERT_EQ(runs[0].entries().size(), base.entries().size() + 2);
  EXPECT_EQ(runs[0].entries().back().section, "Network");
  EXPECT_EQ(runs[0].entries().back().key, "structure_up");
  EXPECT_FALSE(base.has("dilation"));

  EXPECT_TRUE(expand_variations_text(base, "# Training\nlr: [1e-3, 1e-4]\n", "var.txt").empty());
  EXPECT_TRUE(expand_variations_text(base, "", "var.txt").empty());
  // A block without keys is one run equal to the baseline.
  const std::vector<lits::Setup> plain =
      expand_variations_text(base, "=== only a title ===\n% nothing else\n", "v.txt");
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_EQ(plain[0].entries().size(), base.entries().size());
  EXPECT_EQ(plain[0].at("lr"), base.at("lr"));
  EXPECT_EQ(plain[0].block_title, "=== only a title ===");
  // A quoted '=' is no separator.
  EXPECT_TRUE(expand_variations_text(base, "# Training\nsavename: ['a=b']\n", "v.txt").empty());
}

// ---- malformed lines: each error names the file, the line, the key and the text ----

std::string base_error(const std::string& text) {
  return error_of([&] { parse_setup_text(text, "base.txt"); });
}

std::string variation_error(const std::string& text) {
  return error_of([&] { expand_variations_text(lits::Setup(), text, "var.txt"); });
}

TEST(SetupErrors, UnknownKey) {
  expect_contains(base_error("# Training\nlr: 1e-5\nlearning_rte: 1e-5\n"),
                  {"base.txt:3", "unknown key 'learning_rte'", "# Training", "section 1.4"});
  expect_contains(base_error("# Training\nn_epoch: 5\n"), {"base.txt:2", "did you mean 'n_epochs'?"});
  expect_contains(variation_error("==\n# Network\nstructur: [[3,3,3]]\n"),
                  {"var.txt:3", "unknown key 'structur'", "did you mean 'structure'?"});
}

TEST(SetupErrors, KeyUnderTheWrongSection) {
  expect_contains(base_error("# Network\nlr: 1e-5\n"), {"base.txt:2", "'lr'", "under # Network", "# Training"});
  expect_contains(variation_error("==\n# Paths\nfilter_start: [20]\n"),
                  {"var.txt:3", "'filter_start'", "under # Paths", "# Network"});
}

TEST(SetupErrors, KeySetTwice) {
  expect_contains(base_error("# Training\nlr: 1e-5\ngamma: 0.1\nlr: 1e-4\n"),
                  {"base.txt:4", "'lr'", "set twice", "lines 2 and 4"});
  expect_contains(variation_error("==\n# Training\nlr: [1]\n# Training\nlr: [2]\n"),
                  {"var.txt:5", "'lr'", "lines 3 and 5"});
  // The same key in two blocks is fine.
  EXPECT_EQ(expand_variations_text(lits::Setup(), "==\n# Training\nlr: [1]\n==\nlr: [2]\n", "v.txt").size(), 2u);
}

TEST(SetupErrors, MissingColon) {
  expect_contains(base_error("# Training\nlr 1e-5\n"), {"base.txt:2", "expected `key: value`", "`lr 1e-5`"});
  expect_contains(base_error("# Training\nsavename 'a:b'\n"), {"base.txt:2", "no ':' outside quotes"});
  expect_contains(base_error("# Training\n: 5\n"), {"base.txt:2", "missing key", "`: 5`"});
  expect_contains(variation_error("==\n# Training\nlr [1e-5]\n"), {"var.txt:3", "`lr [1e-5]`"});
}

TEST(SetupErrors, EmptyValue) {
  expect_contains(base_error("# Training\nlr:   \n"), {"base.txt:2", "key 'lr'", "empty value", "expected"});
}

TEST(SetupErrors, UnbalancedBracket) {
  expect_contains(base_error("# Network\nstructure: [3, 3, 3\n"),
                  {"base.txt:2", "key 'structure'", "unbalanced '['", "`[3, 3, 3`"});
  expect_contains(variation_error("==\n# Training\nstep_size: [[25,42]\n"),
                  {"var.txt:3", "key 'step_size'", "unbalanced '['", "`[[25,42]`"});
}

TEST(SetupErrors, UnterminatedString) {
  expect_contains(base_error("# Training\nsavename: 'liver_small\n"),
                  {"base.txt:2", "key 'savename'", "unterminated string", "`'liver_small`"});
}

TEST(SetupErrors, BareWord) {
  expect_contains(base_error("# Network\ninit_type: he_n\n"),
                  {"base.txt:2", "key 'init_type'", "bare word `he_n`", "'he_n'"});
  expect_contains(base_error("# Paths\nSave_Path: C:/data\n"), {"base.txt:2", "key 'Save_Path'", "bare word `C`"});
}

TEST(SetupErrors, TrailingGarbage) {
  expect_contains(base_error("# Training\nlr: 1e-5 1e-4\n"),
                  {"base.txt:2", "key 'lr'", "unexpected text `1e-4`", "`1e-5 1e-4`"});
  expect_contains(base_error("# Network\nstructure: [3,3,3]]\n"), {"base.txt:2", "key 'structure'", "`]`"});
}

TEST(SetupErrors, NonListAlternative) {
  expect_contains(variation_error("==\n# Training\nlr: 1e-4\n"),
                  {"var.txt:3", "key 'lr'", "expected a list of alternatives", "lr: [0.0001]", "found 0.0001"});
  expect_contains(variation_error("==\n# Training\nsavename: 'abc'\n"),
                  {"var.txt:3", "key 'savename'", "savename: ['abc']"});
  expect_contains(variation_error("==\n# Training\nlr: []\n"), {"var.txt:3", "key 'lr'", "empty", "lr: [[]]"});
}

TEST(SetupErrors, KeyBeforeAnyHeaderOfABlock) {
  expect_contains(variation_error("# Training\n==\nlr: [1]\n"), {"var.txt:3", "'lr'", "before any", "# Training"});
}

TEST(SetupErrors, TooManyRuns) {
  std::string text = "== big grid ==\n# Training\n";
  for (const char* key : {"lr", "gamma", "batch_size", "seed", "n_epochs"})
    text += std::string(key) + ": [1,2,3,4,5,6,7,8,9,10]\n";
  expect_contains(variation_error(text), {"var.txt:1", "`== big grid ==`", "more than 10000 runs"});
}

TEST(SetupErrors, UnknownSectionName) {
  expect_contains(base_error("# Trianing\nlr: 1e-5\n"),
                  {"base.txt:1", "unknown section 'Trianing'", "`# Trianing`", "Network, Training or Paths"});
  expect_contains(variation_error("== run ==\n### Optimizer\n"), {"var.txt:2", "unknown section 'Optimizer'"});
}

TEST(SetupErrors, UnreadableFile) {
  const std::string missing = (fs::temp_directory_path() / "lits_no_such_setup_file.txt").string();
  expect_contains(error_of([&] { parse_setup_file(missing); }), {missing.c_str(), "does not exist"});
  expect_contains(error_of([&] { expand_variations_file(lits::Setup(), missing); }),
                  {missing.c_str(), "does not exist"});
  const std::string dir = fs::temp_directory_path().string();
  expect_contains(error_of([&] { parse_setup_file(dir); }), {dir.c_str(), "is a directory"});
}

TEST(SetupErrors, FileErrorsNameThePath) {
  const fs::path path = fs::temp_directory_path() / "lits_setup_test_bad.txt";
  {
    std::ofstream out(path);
    out << "% baseline\n# Network\nchannels: 3\ninit_type: xavier_n\n";
  }
  expect_contains(error_of([&] { parse_setup_file(path.string()); }),
                  {(path.string() + ":4").c_str(), "key 'init_type'", "bare word `xavier_n`"});
  fs::remove(path);
}

// ---- presets ----

fs::path presets_dir() { return fs::path(__FILE__).parent_path() / ".." / ".." / "models" / "presets"; }

lits::Setup baseline() { return parse_setup_file((presets_dir() / "Baseline_Parameters.txt").string()); }

lits::Setup preset(const std::string& name) {
  const std::vector<lits::Setup> runs = expand_variations_file(baseline(), (presets_dir() / name).string());
  EXPECT_EQ(runs.size(), 1u) << name;
  return runs.empty() ? lits::Setup() : runs[0];
}

TEST(Presets, BaselineHasEveryKeyWithItsDefault) {
  const lits::Setup b = baseline();
  // Every key of section 1.4 except the four derived from others when absent, and lits' precision.
  EXPECT_EQ(b.entries().size(), 17u - 4u + 29u + 2u + 1u);
  for (const SetupEntry& e : b.entries()) EXPECT_EQ(e.section, section_of_key(e.key)) << e.key;
  for (const char* derived : {"filter_start_up", "structure_up", "dilation", "dilation_up"})
    EXPECT_FALSE(b.has(derived)) << derived;
  EXPECT_EQ(b.at("structure"), ints({3, 3, 3}));
  EXPECT_EQ(b.at("filter_start"), Value::integer(32));
  EXPECT_EQ(b.at("init_type"), Value::string("he_n"));
  EXPECT_EQ(b.at("dropout"), Value::floating(0.2));
  EXPECT_EQ(b.at("up_conv_type"), ints({4, 2, 1}));
  EXPECT_EQ(b.at("precision"), Value::string("fp32"));
  EXPECT_EQ(b.at("data"), Value::string("lesion"));
  EXPECT_EQ(b.at("lr"), Value::floating(1e-5));
  EXPECT_EQ(b.at("step_size"), Value::integer(30));
  EXPECT_EQ(b.at("perc_data"), Value::floating(1.0));
  EXPECT_EQ(b.at("epsilon"), Value::floating(1e-6));
  EXPECT_EQ(b.at("augment").str(), "['rot', 'zoom', 'hflip', 'vflip']");
  EXPECT_EQ(b.at("initialization"), Value::string(""));
  EXPECT_EQ(b.at("savename"), Value::string("lesion_baseline_2D"));
  EXPECT_EQ(b.at("Training_Path"), Value::string("placeholder"));
}

TEST(Presets, EveryPresetIsOneRun) {
  for (const char* name : {"Setup_Small_Liver.txt", "Setup_Medium_Liver.txt", "Setup_Big_Liver.txt",
                           "Setup_Small_Lesion.txt", "Setup_Medium_Lesion.txt", "Setup_Big_Lesion.txt"}) {
    const lits::Setup s = preset(name);
    EXPECT_EQ(s.run_index, 0) << name;
    EXPECT_NE(s.block_title.find("[1]"), std::string::npos) << name;
    EXPECT_EQ(s.at("lr"), Value::floating(3e-5)) << name;
    EXPECT_EQ(s.at("batch_size"), Value::integer(4)) << name;
    EXPECT_EQ(s.at("no_standardize"), Value::boolean(true)) << name;
    EXPECT_EQ(s.at("Save_Path"), Value::string("placeholder")) << name;
    for (const SetupEntry& e : s.entries()) EXPECT_EQ(e.section, section_of_key(e.key)) << name << " " << e.key;
  }
}

TEST(Presets, LiverNetworks) {
  const lits::Setup small = preset("Setup_Small_Liver.txt");
  EXPECT_EQ(small.at("filter_start"), Value::integer(20));
  EXPECT_EQ(small.at("structure"), ints({3, 3, 3, 3, 3}));
  EXPECT_EQ(small.at("channels"), Value::integer(1));
  EXPECT_EQ(small.at("use_conv_pool"), Value::boolean(true));
  EXPECT_EQ(small.at("backbone"), Value::string("base"));
  EXPECT_EQ(small.at("data"), Value::string("liver"));
  EXPECT_EQ(small.at("step_size"), ints({25, 42}));
  EXPECT_EQ(small.at("dropout"), Value::integer(0));
  EXPECT_EQ(small.at("init_type"), Value::string("he_n"));  // from the baseline
  EXPECT_FALSE(small.has("filter_start_up"));

  const lits::Setup medium = preset("Setup_Medium_Liver.txt");
  EXPECT_EQ(medium.at("structure"), ints({3, 3, 3, 3, 4, 4}));
  EXPECT_EQ(medium.get<std::vector<int64_t>>("dilation").size(), 6u);
  EXPECT_EQ(medium.get<std::vector<int64_t>>("dilation_up").size(), 6u);
  EXPECT_EQ(medium.at("backbone"), Value::string("residual"));
  EXPECT_EQ(medium.at("crop_size"), ints({288, 288}));

  const lits::Setup big = preset("Setup_Big_Liver.txt");
  EXPECT_EQ(big.at("filter_start"), Value::integer(26));
  EXPECT_EQ(big.at("filter_start_up"), Value::integer(12));
  EXPECT_EQ(big.at("structure_up"), ints({2, 2, 2, 2, 2, 2}));
  EXPECT_EQ(big.at("dilation"), ints({1, 1, 2, 3, 3, 2}));
  EXPECT_EQ(big.at("use_pypool"), Value::boolean(true));
  EXPECT_EQ(big.at("use_auxiliary_inputs"), Value::boolean(true));
  EXPECT_EQ(big.at("backbone"), Value::string("dense_residual"));
  EXPECT_EQ(big.at("n_epochs"), Value::integer(55));
}

TEST(Presets, LesionNetworks) {
  const lits::Setup small = preset("Setup_Small_Lesion.txt");
  EXPECT_EQ(small.at("loss_func"), Value::string("multiclass_combined"));
  EXPECT_EQ(small.at("gamma"), Value::floating(0.2));
  EXPECT_EQ(small.at("l2_reg"), Value::floating(1e-4));
  EXPECT_EQ(small.at("step_size"), ints({45}));
  EXPECT_EQ(small.at("initialization"),
            Value::string("placeholder/SAVEDATA/Standard_Liver_Networks/vUnet2D_liver_small"));
  // No Network section: the baseline's network until the initialization replaces it.
  EXPECT_EQ(small.at("structure"), ints({3, 3, 3}));

  const std::string medium = preset("Setup_Medium_Lesion.txt").get<std::string>("initialization");
  EXPECT_TRUE(medium.ends_with("/vUnet2D_liver_medium")) << medium;

  const lits::Setup big = preset("Setup_Big_Lesion.txt");
  const std::string init = big.get<std::string>("initialization");
  EXPECT_TRUE(init.ends_with("/vUnet2D_liver_big")) << init;
  EXPECT_EQ(big.at("l2_reg"), Value::floating(4e-5));
  EXPECT_EQ(big.at("gamma"), Value::floating(0.1));
  EXPECT_EQ(big.at("savename"), Value::string("lesion_big"));
}

}  // namespace
}  // namespace lits::testing
