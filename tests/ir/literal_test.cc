// graft/ir/literal.h: interned literal arguments and their text form.
#include "graft/ir/literal.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

#include "gtest/gtest.h"

namespace graft {
namespace {

TEST(LiteralTest, KindsAndAccessors) {
  EXPECT_EQ(Literal::None()->kind(), Literal::Kind::kNone);
  EXPECT_TRUE(Literal::None()->is_none());

  const Literal* i = Literal::Int(-3);
  EXPECT_TRUE(i->is_int());
  EXPECT_TRUE(i->is_number());
  EXPECT_EQ(i->as_int(), -3);
  EXPECT_EQ(i->as_number(), -3.0);

  const Literal* l = Literal::Ints({1, 0});
  EXPECT_TRUE(l->is_ints());
  EXPECT_FALSE(l->is_number());
  ASSERT_EQ(l->as_ints().size(), 2u);
  EXPECT_EQ(l->as_ints()[0], 1);
  EXPECT_EQ(l->as_ints()[1], 0);

  const Literal* f = Literal::Float(1e-5);
  EXPECT_TRUE(f->is_float());
  EXPECT_TRUE(f->is_number());
  EXPECT_EQ(f->as_float(), 1e-5);
  EXPECT_EQ(f->as_number(), 1e-5);

  EXPECT_TRUE(Literal::Bool(true)->is_bool());
  EXPECT_TRUE(Literal::Bool(true)->as_bool());
  EXPECT_FALSE(Literal::Bool(false)->as_bool());

  const Literal* s = Literal::String("tanh");
  EXPECT_TRUE(s->is_string());
  EXPECT_EQ(s->as_string(), "tanh");

  const Literal* d = Literal::OfDType(DType::kBFloat16);
  EXPECT_TRUE(d->is_dtype());
  EXPECT_EQ(d->as_dtype(), DType::kBFloat16);
}

TEST(LiteralTest, InternedEqualLiteralsAreOnePointer) {
  EXPECT_EQ(Literal::None(), Literal::None());
  EXPECT_EQ(Literal::Int(7), Literal::Int(7));
  EXPECT_NE(Literal::Int(7), Literal::Int(8));
  int64_t dims[] = {1, 0};
  EXPECT_EQ(Literal::Ints({1, 0}), Literal::Ints(dims));
  EXPECT_NE(Literal::Ints({1, 0}), Literal::Ints({0, 1}));
  EXPECT_NE(Literal::Ints({}), Literal::Ints({0}));
  EXPECT_EQ(Literal::Ints({}), Literal::Ints({}));
  EXPECT_EQ(Literal::Float(0.5), Literal::Float(0.5));
  EXPECT_EQ(Literal::String("a"), Literal::String(std::string("a")));
  EXPECT_NE(Literal::String("a"), Literal::String("b"));
  EXPECT_EQ(Literal::OfDType(DType::kFloat32), Literal::OfDType(DType::kFloat32));
  EXPECT_EQ(Literal::Bool(true), Literal::Bool(true));
}

TEST(LiteralTest, KindsNeverCollide) {
  // 1, 1.0, True, [1], "1" and the dtype numbered 1 are different literals.
  const Literal* all[] = {Literal::Int(1),    Literal::Float(1.0),
                          Literal::Bool(true), Literal::Ints({1}),
                          Literal::String("1"), Literal::OfDType(DType::kInt8)};
  for (const Literal* a : all) {
    for (const Literal* b : all) {
      if (a != b) EXPECT_NE(a->kind(), b->kind());
    }
  }
  EXPECT_NE(Literal::Int(0), Literal::Bool(false));
  EXPECT_NE(Literal::Int(0), Literal::None());
  EXPECT_NE(Literal::String(""), Literal::None());
}

TEST(LiteralTest, FloatsCompareByBits) {
  double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(Literal::Float(nan), Literal::Float(nan));
  EXPECT_NE(Literal::Float(0.0), Literal::Float(-0.0));
  EXPECT_EQ(Literal::Float(-0.0), Literal::Float(-0.0));
  EXPECT_TRUE(std::signbit(Literal::Float(-0.0)->as_float()));
}

TEST(LiteralTest, ToString) {
  EXPECT_EQ(Literal::None()->ToString(), "None");
  EXPECT_EQ(Literal::Int(3)->ToString(), "3");
  EXPECT_EQ(Literal::Int(-1)->ToString(), "-1");
  EXPECT_EQ(Literal::Int(std::numeric_limits<int64_t>::min())->ToString(),
            "-9223372036854775808");
  EXPECT_EQ(Literal::Ints({1, 0})->ToString(), "[1, 0]");
  EXPECT_EQ(Literal::Ints({-1, 384})->ToString(), "[-1, 384]");
  EXPECT_EQ(Literal::Ints({})->ToString(), "[]");
  EXPECT_EQ(Literal::Bool(true)->ToString(), "True");
  EXPECT_EQ(Literal::Bool(false)->ToString(), "False");
  EXPECT_EQ(Literal::String("tanh")->ToString(), "\"tanh\"");
  EXPECT_EQ(Literal::OfDType(DType::kFloat32)->ToString(), "f32");
  EXPECT_EQ(Literal::OfDType(DType::kFloat8E5M2)->ToString(), "f8e5m2");
}

TEST(LiteralTest, StringEscapes) {
  EXPECT_EQ(Literal::String("a\"b")->ToString(), R"("a\"b")");
  EXPECT_EQ(Literal::String("a\\b")->ToString(), R"("a\\b")");
  EXPECT_EQ(Literal::String("a\nb")->ToString(), R"("a\nb")");
  EXPECT_EQ(Literal::String("")->ToString(), R"("")");
}

TEST(LiteralTest, FloatToStringIsShortestAndReadsAsFloat) {
  EXPECT_EQ(Literal::FloatToString(1e-05), "1e-05");
  EXPECT_EQ(Literal::FloatToString(0.1), "0.1");
  EXPECT_EQ(Literal::FloatToString(1.0), "1.0");
  EXPECT_EQ(Literal::FloatToString(100.0), "100.0");
  EXPECT_EQ(Literal::FloatToString(-2.5), "-2.5");
  EXPECT_EQ(Literal::FloatToString(0.0), "0.0");
  EXPECT_EQ(Literal::FloatToString(-0.0), "-0.0");
  EXPECT_EQ(Literal::FloatToString(1e20), "1e+20");
  EXPECT_EQ(Literal::FloatToString(0.7071067811865476), "0.7071067811865476");
  EXPECT_EQ(Literal::FloatToString(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(Literal::FloatToString(-std::numeric_limits<double>::infinity()), "-inf");
  EXPECT_EQ(Literal::FloatToString(std::numeric_limits<double>::quiet_NaN()), "nan");
}

// Every printed finite float parses back (strtod) to the same bits.
TEST(LiteralTest, FloatToStringRoundTripsExactly) {
  const double values[] = {1e-05,
                           0.1,
                           0.2,
                           1.0 / 3.0,
                           6.103515625e-05,
                           3.4028234663852886e38,
                           std::numeric_limits<double>::min(),
                           std::numeric_limits<double>::denorm_min(),
                           std::numeric_limits<double>::max(),
                           -123456.789,
                           9007199254740993.0};
  for (double v : values) {
    std::string s = Literal::FloatToString(v);
    double back = std::strtod(s.c_str(), nullptr);
    EXPECT_EQ(std::memcmp(&v, &back, sizeof v), 0) << s;
  }
}

}  // namespace
}  // namespace graft
