// Checked arithmetic: exact results where they fit, nullopt at every edge of
// int64 and for undefined divisions.
#include "graft/ir/checked_math.h"

#include <cstdint>
#include <limits>

#include "gtest/gtest.h"

namespace graft {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

TEST(CheckedMathTest, ExactWhereTheResultFits) {
  EXPECT_EQ(CheckedAdd(kMax - 1, 1), kMax);
  EXPECT_EQ(CheckedSub(kMin + 1, 1), kMin);
  EXPECT_EQ(CheckedMul(int64_t{1} << 31, int64_t{1} << 31), int64_t{1} << 62);
  EXPECT_EQ(CheckedDiv(-7, 2), -3);
  EXPECT_EQ(CheckedMod(-7, 2), -1);
  EXPECT_EQ(CheckedFloorDiv(-7, 2), -4);
  EXPECT_EQ(CheckedFloorDiv(7, -2), -4);
  EXPECT_EQ(CheckedFloorDiv(6, -2), -3);
  EXPECT_EQ(CheckedMod(kMin, -1), 0);
}

TEST(CheckedMathTest, NulloptOnOverflowAndUndefinedDivision) {
  EXPECT_EQ(CheckedAdd(kMax, 1), std::nullopt);
  EXPECT_EQ(CheckedSub(kMin, 1), std::nullopt);
  EXPECT_EQ(CheckedMul(int64_t{1} << 62, 2), std::nullopt);
  EXPECT_EQ(CheckedMul(kMin, -1), std::nullopt);
  EXPECT_EQ(CheckedDiv(kMin, -1), std::nullopt);
  EXPECT_EQ(CheckedDiv(1, 0), std::nullopt);
  EXPECT_EQ(CheckedMod(1, 0), std::nullopt);
  EXPECT_EQ(CheckedFloorDiv(kMin, -1), std::nullopt);
}

TEST(CheckedMathTest, ChainsPropagateOverflow) {
  std::optional<int64_t> big = CheckedMul(kMax, 2);
  EXPECT_EQ(CheckedAdd(big, int64_t{-5}), std::nullopt);
  EXPECT_EQ(CheckedMul(CheckedAdd(int64_t{2}, int64_t{3}), int64_t{4}), 20);
}

}  // namespace
}  // namespace graft
