// tools/graft_opt/flags.h: one table drives parsing and --help; the errors
// name the flag as written.
#include "tools/graft_opt/flags.h"

#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace graft {
namespace opt {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

enum class Color { kRed, kBlue };

struct Values {
  bool check = false;
  std::string output;
  std::vector<std::string> rules, only;
  int iterations = 10;
  int64_t work = 128;
  Color color = Color::kRed;
};

std::vector<Flag> Table(Values& v) {
  using V = FlagValue;
  return {
      {"--output", "-o", V::kRequired, "FILE", "where to write", "standard output",
       SetString(&v.output)},
      {"--rules", "", V::kRequired, "PATH", "a rule file; repeatable", "", Append(&v.rules)},
      {"--only", "", V::kRequired, "R1,R2", "these rules", "", AppendList(&v.only)},
      {"--check", "", V::kNone, "", "only check", "", SetTrue(&v.check)},
      {"--max-iterations", "", V::kRequired, "N", "sweeps", "10", SetInt(&v.iterations, 1)},
      {"--max-work", "", V::kRequired, "N", "work", "128", SetInt(&v.work, -1)},
      {"--color", "", V::kOptional, "C", "a color", "",
       SetChoice(&v.color, {{"red", Color::kRed}, {"blue", Color::kBlue}}), "blue"},
  };
}

// Parses `args` into `v`; the positional arguments, or the error message.
absl::StatusOr<std::vector<std::string>> Parse(Values& v, std::vector<std::string> args) {
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  return ParseFlags(Table(v), argv);
}

std::string ErrorOf(std::vector<std::string> args) {
  Values v;
  auto r = Parse(v, std::move(args));
  EXPECT_FALSE(r.ok());
  return r.ok() ? "OK" : std::string(r.status().message());
}

TEST(FlagsTest, ValuesBySpaceOrEqualsAndAlias) {
  Values v;
  auto rest = Parse(v, {"in.graft", "-o", "a.graft", "--max-iterations=3", "--max-work", "-1",
                        "--check"});
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_THAT(*rest, ElementsAre("in.graft"));
  EXPECT_EQ(v.output, "a.graft");
  EXPECT_EQ(v.iterations, 3);
  EXPECT_EQ(v.work, -1);
  EXPECT_TRUE(v.check);
  ASSERT_TRUE(Parse(v, {"--output=b.graft"}).ok());
  EXPECT_EQ(v.output, "b.graft");
}

TEST(FlagsTest, RepeatedFlagsAccumulate) {
  Values v;
  ASSERT_TRUE(
      Parse(v, {"--rules", "a.rules", "--rules=b.rules", "--only", "x,,y", "--only=z"}).ok());
  EXPECT_THAT(v.rules, ElementsAre("a.rules", "b.rules"));
  EXPECT_THAT(v.only, ElementsAre("x", "y", "z"));
}

TEST(FlagsTest, DashIsAnArgument) {
  Values v;
  auto rest = Parse(v, {"-", "--check"});
  ASSERT_TRUE(rest.ok());
  EXPECT_THAT(*rest, ElementsAre("-"));
}

// An optional value comes only after '=': a bare flag leaves the next
// argument alone.
TEST(FlagsTest, OptionalValues) {
  Values v;
  auto rest = Parse(v, {"--color", "red"});
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(v.color, Color::kBlue);
  EXPECT_THAT(*rest, ElementsAre("red"));
  ASSERT_TRUE(Parse(v, {"--color=red"}).ok());
  EXPECT_EQ(v.color, Color::kRed);
}

TEST(FlagsTest, UsageErrorsNameTheFlag) {
  EXPECT_EQ(ErrorOf({"--frobnicate"}), "unknown flag --frobnicate");
  EXPECT_EQ(ErrorOf({"--frobnicate=1"}), "unknown flag --frobnicate");
  EXPECT_EQ(ErrorOf({"-x"}), "unknown flag -x");
  EXPECT_EQ(ErrorOf({"in.graft", "-o"}), "-o needs a value");
  EXPECT_EQ(ErrorOf({"--check=yes"}), "--check takes no value");
  EXPECT_EQ(ErrorOf({"--max-iterations", "0"}),
            "--max-iterations takes a positive integer, not '0'");
  EXPECT_EQ(ErrorOf({"--max-work=x"}),
            "--max-work takes a non-negative integer, or -1 for no cap, not 'x'");
  EXPECT_EQ(ErrorOf({"--max-work=-2"}),
            "--max-work takes a non-negative integer, or -1 for no cap, not '-2'");
  EXPECT_EQ(ErrorOf({"--max-iterations=99999999999"}),
            "--max-iterations takes a positive integer, not '99999999999'");
  EXPECT_EQ(ErrorOf({"--color=green"}), "--color takes red or blue, not 'green'");
}

TEST(FlagsTest, HelpComesFromTheTable) {
  Values v;
  std::string help = FlagHelp(Table(v));
  EXPECT_THAT(help, HasSubstr("  -o, --output FILE   where to write (default: standard output)\n"));
  EXPECT_THAT(help, HasSubstr("  --check             only check\n"));
  EXPECT_THAT(help, HasSubstr("  --color[=C]         a color\n"));
  EXPECT_THAT(help, HasSubstr("  --max-iterations N  sweeps (default: 10)\n"));
}

// Help wraps at 80 columns; a spelling too long for its column puts the
// help on the next line.
TEST(FlagsTest, HelpWrapsLongText) {
  bool b = false;
  std::string words;
  for (int i = 0; i < 30; ++i) words += "word ";
  std::string help = FlagHelp({{"--a-rather-long-flag-name", "", FlagValue::kNone, "", words, "",
                                SetTrue(&b)}});
  std::vector<std::string> lines = absl::StrSplit(help, '\n', absl::SkipEmpty());
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ(lines[0], "  --a-rather-long-flag-name");
  for (const std::string& l : lines) {
    EXPECT_LE(l.size(), 80u) << l;
    if (l == lines[0]) continue;
    EXPECT_EQ(l.substr(0, 22), std::string(22, ' '));
  }
}

}  // namespace
}  // namespace opt
}  // namespace graft
