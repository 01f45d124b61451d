// graft/ir/dtype.h: torch's ScalarType numbering, both spellings of every
// name, element sizes, categories and torch.promote_types.
#include "graft/ir/dtype.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace graft {
namespace {

// The numbers c10/core/ScalarType.h gives; a dtype crosses to libtorch by a
// cast, so they must not drift.
TEST(DTypeTest, NumberingMatchesATen) {
  EXPECT_EQ(static_cast<int>(DType::kUInt8), 0);
  EXPECT_EQ(static_cast<int>(DType::kInt8), 1);
  EXPECT_EQ(static_cast<int>(DType::kInt16), 2);
  EXPECT_EQ(static_cast<int>(DType::kInt32), 3);
  EXPECT_EQ(static_cast<int>(DType::kInt64), 4);
  EXPECT_EQ(static_cast<int>(DType::kFloat16), 5);
  EXPECT_EQ(static_cast<int>(DType::kFloat32), 6);
  EXPECT_EQ(static_cast<int>(DType::kFloat64), 7);
  EXPECT_EQ(static_cast<int>(DType::kComplex32), 8);
  EXPECT_EQ(static_cast<int>(DType::kComplex64), 9);
  EXPECT_EQ(static_cast<int>(DType::kComplex128), 10);
  EXPECT_EQ(static_cast<int>(DType::kBool), 11);
  EXPECT_EQ(static_cast<int>(DType::kQInt8), 12);
  EXPECT_EQ(static_cast<int>(DType::kQUInt8), 13);
  EXPECT_EQ(static_cast<int>(DType::kQInt32), 14);
  EXPECT_EQ(static_cast<int>(DType::kBFloat16), 15);
  EXPECT_EQ(static_cast<int>(DType::kFloat8E5M2), 23);
  EXPECT_EQ(static_cast<int>(DType::kFloat8E4M3FN), 24);
  EXPECT_EQ(static_cast<int>(DType::kUInt16), 27);
  EXPECT_EQ(static_cast<int>(DType::kUInt32), 28);
  EXPECT_EQ(static_cast<int>(DType::kUInt64), 29);
}

TEST(DTypeTest, ShortAndTorchNames) {
  EXPECT_EQ(DTypeName(DType::kFloat32), "f32");
  EXPECT_EQ(DTypeTorchName(DType::kFloat32), "float32");
  EXPECT_EQ(DTypeName(DType::kBFloat16), "bf16");
  EXPECT_EQ(DTypeTorchName(DType::kBFloat16), "bfloat16");
  EXPECT_EQ(DTypeName(DType::kInt64), "i64");
  EXPECT_EQ(DTypeTorchName(DType::kInt64), "int64");
  EXPECT_EQ(DTypeName(DType::kBool), "b8");
  EXPECT_EQ(DTypeTorchName(DType::kBool), "bool");
  EXPECT_EQ(DTypeName(DType::kFloat8E4M3FN), "f8e4m3fn");
  EXPECT_EQ(DTypeTorchName(DType::kFloat8E4M3FN), "float8_e4m3fn");
  EXPECT_EQ(DTypeName(DType::kComplex64), "c64");
  EXPECT_EQ(DTypeTorchName(DType::kComplex64), "complex64");
}

TEST(DTypeTest, UnknownNumberPrintsQuestionMark) {
  DType bogus = static_cast<DType>(99);
  EXPECT_EQ(DTypeName(bogus), "?");
  EXPECT_EQ(DTypeTorchName(bogus), "?");
  EXPECT_EQ(ElementSize(bogus), 0);
  EXPECT_FALSE(IsFloatingPoint(bogus));
  EXPECT_FALSE(IsIntegral(bogus, /*include_bool=*/true));
}

TEST(DTypeTest, EveryNameParsesBackToItsDType) {
  std::set<std::string> short_names, torch_names;
  for (const auto& info : dtype_internal::kDTypes) {
    SCOPED_TRACE(std::string(info.short_name));
    EXPECT_EQ(ParseDType(DTypeName(info.dtype)), info.dtype);
    EXPECT_EQ(ParseDType(DTypeTorchName(info.dtype)), info.dtype);
    EXPECT_EQ(ParseDType(std::string("torch.") + std::string(DTypeTorchName(info.dtype))),
              info.dtype);
    EXPECT_TRUE(IsKnownDType(static_cast<int>(info.dtype)));
    EXPECT_TRUE(short_names.insert(std::string(info.short_name)).second) << "duplicate";
    EXPECT_TRUE(torch_names.insert(std::string(info.torch_name)).second) << "duplicate";
  }
  EXPECT_EQ(short_names.size(), 21u);
}

TEST(DTypeTest, TorchAliases) {
  EXPECT_EQ(ParseDType("float"), DType::kFloat32);
  EXPECT_EQ(ParseDType("torch.float"), DType::kFloat32);
  EXPECT_EQ(ParseDType("half"), DType::kFloat16);
  EXPECT_EQ(ParseDType("double"), DType::kFloat64);
  EXPECT_EQ(ParseDType("long"), DType::kInt64);
  EXPECT_EQ(ParseDType("int"), DType::kInt32);
}

TEST(DTypeTest, RejectsUnknownNames) {
  EXPECT_EQ(ParseDType(""), std::nullopt);
  EXPECT_EQ(ParseDType("f31"), std::nullopt);
  EXPECT_EQ(ParseDType("F32"), std::nullopt);
  EXPECT_EQ(ParseDType("torch."), std::nullopt);
  EXPECT_EQ(ParseDType("torch.f32x"), std::nullopt);
  EXPECT_EQ(ParseDType("float32 "), std::nullopt);
  EXPECT_FALSE(IsKnownDType(16));
  EXPECT_FALSE(IsKnownDType(-1));
  EXPECT_FALSE(IsKnownDType(30));
}

TEST(DTypeTest, ElementSizes) {
  EXPECT_EQ(ElementSize(DType::kUInt8), 1);
  EXPECT_EQ(ElementSize(DType::kBool), 1);
  EXPECT_EQ(ElementSize(DType::kInt16), 2);
  EXPECT_EQ(ElementSize(DType::kFloat16), 2);
  EXPECT_EQ(ElementSize(DType::kBFloat16), 2);
  EXPECT_EQ(ElementSize(DType::kInt32), 4);
  EXPECT_EQ(ElementSize(DType::kFloat32), 4);
  EXPECT_EQ(ElementSize(DType::kComplex32), 4);
  EXPECT_EQ(ElementSize(DType::kInt64), 8);
  EXPECT_EQ(ElementSize(DType::kFloat64), 8);
  EXPECT_EQ(ElementSize(DType::kComplex64), 8);
  EXPECT_EQ(ElementSize(DType::kComplex128), 16);
  EXPECT_EQ(ElementSize(DType::kFloat8E5M2), 1);
  EXPECT_EQ(ElementSize(DType::kQInt32), 4);
  EXPECT_EQ(ElementSize(DType::kUInt64), 8);
}

TEST(DTypeTest, Categories) {
  EXPECT_TRUE(IsFloatingPoint(DType::kFloat32));
  EXPECT_TRUE(IsFloatingPoint(DType::kBFloat16));
  EXPECT_TRUE(IsFloatingPoint(DType::kFloat8E5M2));
  EXPECT_FALSE(IsFloatingPoint(DType::kComplex64));
  EXPECT_FALSE(IsFloatingPoint(DType::kInt32));
  EXPECT_TRUE(IsIntegral(DType::kInt64));
  EXPECT_TRUE(IsIntegral(DType::kUInt8));
  EXPECT_TRUE(IsIntegral(DType::kUInt64));
  EXPECT_FALSE(IsIntegral(DType::kBool));
  EXPECT_TRUE(IsIntegral(DType::kBool, /*include_bool=*/true));
  EXPECT_FALSE(IsIntegral(DType::kQInt8));
  EXPECT_FALSE(IsIntegral(DType::kFloat16));
}

TEST(DTypeTest, ConstexprUsable) {
  static_assert(ElementSize(DType::kFloat32) == 4, "");
  static_assert(IsFloatingPoint(DType::kFloat16), "");
  static_assert(DTypeName(DType::kInt8) == "i8", "");
  static_assert(IsKnownDType(6) && !IsKnownDType(20), "");
}

// Expected values are torch.promote_types' (checked against torch 2.13).
TEST(DTypeTest, PromoteTypesMatchesTorch) {
  struct Case {
    DType a, b, want;
  };
  const Case cases[] = {
      {DType::kFloat32, DType::kFloat32, DType::kFloat32},
      {DType::kFloat16, DType::kFloat32, DType::kFloat32},
      {DType::kFloat32, DType::kFloat64, DType::kFloat64},
      {DType::kFloat16, DType::kBFloat16, DType::kFloat32},
      {DType::kBFloat16, DType::kFloat16, DType::kFloat32},
      {DType::kInt32, DType::kFloat16, DType::kFloat16},
      {DType::kInt64, DType::kBFloat16, DType::kBFloat16},
      {DType::kInt32, DType::kInt64, DType::kInt64},
      {DType::kInt8, DType::kInt16, DType::kInt16},
      {DType::kUInt8, DType::kInt8, DType::kInt16},
      {DType::kInt8, DType::kUInt8, DType::kInt16},
      {DType::kUInt8, DType::kInt32, DType::kInt32},
      {DType::kUInt8, DType::kUInt8, DType::kUInt8},
      {DType::kBool, DType::kUInt8, DType::kUInt8},
      {DType::kBool, DType::kInt64, DType::kInt64},
      {DType::kBool, DType::kFloat16, DType::kFloat16},
      {DType::kBool, DType::kBool, DType::kBool},
      {DType::kFloat32, DType::kComplex64, DType::kComplex64},
      {DType::kFloat64, DType::kComplex64, DType::kComplex128},
      {DType::kComplex64, DType::kFloat64, DType::kComplex128},
      {DType::kFloat16, DType::kComplex32, DType::kComplex32},
      {DType::kBFloat16, DType::kComplex32, DType::kComplex64},
      {DType::kFloat32, DType::kComplex32, DType::kComplex64},
      {DType::kInt64, DType::kComplex32, DType::kComplex32},
      {DType::kComplex64, DType::kComplex128, DType::kComplex128},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(PromoteTypes(c.a, c.b), c.want)
        << DTypeName(c.a) << " with " << DTypeName(c.b) << " gave "
        << DTypeName(PromoteTypes(c.a, c.b)) << ", torch gives " << DTypeName(c.want);
  }
}

}  // namespace
}  // namespace graft
