// graft/ir/tensor_type.h: dims (static or symbolic), interned tensor types.
#include "graft/ir/tensor_type.h"

#include <limits>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "gtest/gtest.h"

namespace graft {
namespace {

TEST(DimTest, StaticDims) {
  Dim d(384);
  EXPECT_TRUE(d.is_static());
  EXPECT_FALSE(d.is_symbolic());
  EXPECT_EQ(d.size(), 384);
  EXPECT_EQ(d.ToString(), "384");
  EXPECT_EQ(Dim(0).ToString(), "0");
  EXPECT_TRUE(Dim(0).is_static());
  EXPECT_EQ(Dim(), Dim(0));
  EXPECT_EQ(Dim(7), Dim(7));
  EXPECT_NE(Dim(7), Dim(8));
  EXPECT_EQ(Dim(int64_t{1} << 40).ToString(), "1099511627776");
}

TEST(DimTest, SymbolsAreInternedByName) {
  Dim s0 = Dim::Symbol("s0");
  Dim s0_again = Dim::Symbol("s0");
  Dim s1 = Dim::Symbol("s1");
  EXPECT_TRUE(s0.is_symbolic());
  EXPECT_FALSE(s0.is_static());
  EXPECT_EQ(s0, s0_again);
  EXPECT_EQ(s0.raw(), s0_again.raw());
  EXPECT_NE(s0, s1);
  EXPECT_EQ(s0.symbol_name(), "s0");
  EXPECT_EQ(s1.symbol_name(), "s1");
  EXPECT_EQ(s0.ToString(), "s0");
  // A symbol is never equal to a size, whatever its number.
  for (int64_t n = 0; n < 64; ++n) EXPECT_NE(s0, Dim(n));
  EXPECT_EQ(Dim(5).symbol_name(), "");
}

// A negative number used to be read as a symbol id: Dim(-1) was symbol 0
// (matching any size), and a number past the table read out of bounds.
TEST(DimTest, ANegativeNumberIsNeverASymbol) {
  Dim sym = Dim::Symbol("negative_test_sym");
  ASSERT_LT(sym.raw(), 0);
  Dim from_raw(sym.raw());  // the symbol's own encoding, as a "size"
  EXPECT_NE(from_raw, sym);
  EXPECT_FALSE(from_raw.is_symbolic());
  EXPECT_FALSE(from_raw.is_static());
  EXPECT_FALSE(from_raw.is_valid());
  EXPECT_TRUE(sym.is_valid());
  EXPECT_TRUE(Dim(3).is_valid());
  for (int64_t n : {int64_t{-1}, int64_t{-2}, int64_t{-1000000},
                    std::numeric_limits<int64_t>::min()}) {
    Dim d(n);
    EXPECT_FALSE(d.is_symbolic()) << n;
    EXPECT_FALSE(d.is_static()) << n;
    EXPECT_NE(d, Dim::Symbol("s0")) << n;
    EXPECT_EQ(d.ToString(), "<invalid>") << n;  // no out-of-bounds symbol read
  }
  EXPECT_EQ(TensorType::Get(DType::kFloat32, {2, Dim(-5)}).ToString(), "f32[2, <invalid>]");
  EXPECT_EQ(TensorType::Get(DType::kFloat32, {2, Dim(-5)}).numel(), std::nullopt);
}

// Sizes from users go through the checked factory.
TEST(DimTest, OfSizeRefusesNegatives) {
  ASSERT_TRUE(Dim::OfSize(0).ok());
  EXPECT_EQ(*Dim::OfSize(0), Dim(0));
  EXPECT_EQ(*Dim::OfSize(384), Dim(384));
  EXPECT_EQ(*Dim::OfSize(std::numeric_limits<int64_t>::max()),
            Dim(std::numeric_limits<int64_t>::max()));
  absl::StatusOr<Dim> neg = Dim::OfSize(-3);
  ASSERT_FALSE(neg.ok());
  EXPECT_EQ(neg.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(neg.status().message(),
            "size -3 is negative (a dimension is a size >= 0 or a symbol)");
  EXPECT_FALSE(Dim::OfSize(std::numeric_limits<int64_t>::min()).ok());
}

TEST(DimTest, HashDistinguishesSymbolsAndSizes) {
  absl::flat_hash_set<Dim> set = {Dim(1), Dim(2), Dim::Symbol("s0"), Dim::Symbol("s0"),
                                  Dim::Symbol("batch")};
  EXPECT_EQ(set.size(), 4u);
  EXPECT_TRUE(set.contains(Dim::Symbol("batch")));
  EXPECT_FALSE(set.contains(Dim(3)));
}

TEST(TensorTypeTest, UnknownType) {
  TensorType t;
  EXPECT_FALSE(t.known());
  EXPECT_EQ(t.ToString(), "?");
  EXPECT_EQ(t, TensorType());
  EXPECT_NE(t, TensorType::Get(DType::kFloat32, {}));
}

TEST(TensorTypeTest, Accessors) {
  Dim s0 = Dim::Symbol("s0");
  TensorType t = TensorType::Get(DType::kFloat32, {1, 128, s0});
  EXPECT_TRUE(t.known());
  EXPECT_EQ(t.dtype(), DType::kFloat32);
  EXPECT_EQ(t.rank(), 3);
  ASSERT_EQ(t.shape()->size(), 3u);
  EXPECT_EQ((*t.shape())[0], Dim(1));
  EXPECT_EQ(t.dim(1), Dim(128));
  EXPECT_EQ(t.dim(2), s0);
  EXPECT_EQ(t.dim(-1), s0);
  EXPECT_EQ(t.dim(-3), Dim(1));
  EXPECT_FALSE(t.is_static());
  EXPECT_EQ(t.numel(), std::nullopt);
  EXPECT_EQ(t.ToString(), "f32[1, 128, s0]");
}

TEST(DimTest, UnknownDimIsNeitherSizeNorSymbol) {
  Dim u = Dim::Unknown();
  EXPECT_TRUE(u.is_unknown());
  EXPECT_TRUE(u.is_valid());
  EXPECT_FALSE(u.is_static());
  EXPECT_FALSE(u.is_symbolic());
  EXPECT_EQ(u.ToString(), "?");
  EXPECT_NE(u, Dim::Symbol("s0"));
  EXPECT_NE(u, Dim(0));
  EXPECT_FALSE(Dim::Symbol("s0").is_unknown());
  EXPECT_FALSE(Dim(-5).is_unknown());
}

// Each fact on its own: an accessor of an unknown fact says so, it never
// reads through a null or past the dims.
TEST(TensorTypeTest, PartialTypesAnswerEveryAccessorSafely) {
  TensorType none;
  TensorType rank_only = TensorType::Get(std::nullopt, std::vector<Dim>{2, Dim::Unknown()});
  TensorType dtype_only = TensorType::OfDType(DType::kFloat32);
  Dim dims[] = {Dim::Unknown(), 384};
  TensorType one_dim = TensorType::Get(DType::kFloat32, dims);
  for (TensorType t : {none, rank_only, dtype_only, one_dim}) {
    SCOPED_TRACE(t.ToString());
    EXPECT_FALSE(t.known());
    EXPECT_FALSE(t.is_static());
    EXPECT_EQ(t.numel(), std::nullopt);
    EXPECT_TRUE(t.dim(0).is_unknown() || t.dim(0) == Dim(2));
    EXPECT_TRUE(t.dim(7).is_unknown());
    EXPECT_TRUE(t.dim(-7).is_unknown());
    EXPECT_FALSE(t.FirstUnknownFact().empty());
  }
  EXPECT_TRUE(none.is_unknown());
  EXPECT_EQ(none.dtype(), std::nullopt);
  EXPECT_EQ(none.rank(), std::nullopt);
  EXPECT_EQ(none.shape(), nullptr);
  EXPECT_EQ(none.FirstUnknownFact(), "dtype");
  EXPECT_EQ(rank_only.rank(), 2);
  EXPECT_EQ(rank_only.dtype(), std::nullopt);
  EXPECT_EQ(dtype_only.dtype(), DType::kFloat32);
  EXPECT_EQ(dtype_only.rank(), std::nullopt);
  EXPECT_EQ(dtype_only.FirstUnknownFact(), "rank");
  EXPECT_EQ(one_dim.rank(), 2);
  EXPECT_EQ(one_dim.dim(1), Dim(384));
  EXPECT_EQ(one_dim.FirstUnknownFact(), "dim 0");
  EXPECT_EQ(TensorType::Get(DType::kFloat32, {2}).FirstUnknownFact(), "");
}

TEST(TensorTypeTest, PartialTypesAreInternedAndPrinted) {
  Dim dims[] = {Dim::Unknown(), 384};
  EXPECT_EQ(TensorType::Get(DType::kFloat32, dims), TensorType::Get(DType::kFloat32, dims));
  EXPECT_EQ(TensorType::Get(std::nullopt, std::nullopt), TensorType());
  EXPECT_NE(TensorType::OfDType(DType::kFloat32), TensorType::Get(DType::kFloat32, {}));
  EXPECT_NE(TensorType::Get(std::nullopt, std::vector<Dim>{}), TensorType());
  EXPECT_EQ(TensorType::Get(DType::kFloat32, dims).ToString(), "f32[?, 384]");
  EXPECT_EQ(TensorType::OfDType(DType::kInt64).ToString(), "i64[*]");
  EXPECT_EQ(TensorType::Get(std::nullopt, std::vector<Dim>{2, 3}).ToString(), "?[2, 3]");
  EXPECT_EQ(TensorType::Get(std::nullopt, std::vector<Dim>{}).ToString(), "?[]");
  // WithDType / WithShape keep the other fact as it is, known or not.
  EXPECT_EQ(TensorType().WithDType(DType::kInt8), TensorType::OfDType(DType::kInt8));
  EXPECT_EQ(TensorType::OfDType(DType::kInt8).WithShape({}), TensorType::Get(DType::kInt8, {}));
}

TEST(TensorTypeTest, MergeTakesEveryKnownFactAndRefusesConflicts) {
  TensorType f32_2x3 = TensorType::Get(DType::kFloat32, {2, 3});
  Dim dims[] = {2, Dim::Unknown()};
  TensorType f32_2xq = TensorType::Get(DType::kFloat32, dims);
  EXPECT_EQ(MergeTypes(TensorType(), f32_2x3), f32_2x3);
  EXPECT_EQ(MergeTypes(f32_2xq, f32_2x3), f32_2x3);
  EXPECT_EQ(MergeTypes(TensorType::OfDType(DType::kFloat32),
                       TensorType::Get(std::nullopt, std::vector<Dim>{2, 3})),
            f32_2x3);
  EXPECT_EQ(MergeTypes(TensorType(), TensorType()), TensorType());
  EXPECT_EQ(MergeTypes(f32_2x3, TensorType::Get(DType::kFloat16, {2, 3})), std::nullopt);
  EXPECT_EQ(MergeTypes(f32_2xq, TensorType::Get(DType::kFloat32, {2})), std::nullopt);
  EXPECT_EQ(MergeTypes(f32_2xq, TensorType::Get(DType::kFloat32, {4, 3})), std::nullopt);
  // A size and a symbol are not provably equal.
  EXPECT_EQ(MergeTypes(f32_2x3, TensorType::Get(DType::kFloat32, {2, Dim::Symbol("s0")})),
            std::nullopt);
}

TEST(TensorTypeTest, StaticShapes) {
  TensorType t = TensorType::Get(DType::kBFloat16, {51864, 384});
  EXPECT_TRUE(t.is_static());
  EXPECT_EQ(t.numel(), 51864 * 384);
  EXPECT_EQ(t.ToString(), "bf16[51864, 384]");
}

TEST(TensorTypeTest, ZeroRankAndZeroSize) {
  TensorType scalar = TensorType::Get(DType::kInt64, {});
  EXPECT_EQ(scalar.rank(), 0);
  EXPECT_TRUE(scalar.is_static());
  EXPECT_EQ(scalar.numel(), 1);
  EXPECT_EQ(scalar.ToString(), "i64[]");
  TensorType empty = TensorType::Get(DType::kFloat32, {0, 3});
  EXPECT_EQ(empty.numel(), 0);
  EXPECT_EQ(empty.ToString(), "f32[0, 3]");
}

TEST(TensorTypeTest, NumelOverflowIsUnknown) {
  const int64_t big = int64_t{1} << 62;
  EXPECT_EQ(TensorType::Get(DType::kFloat32, {big, 2}).numel(), std::nullopt);
  EXPECT_EQ(TensorType::Get(DType::kFloat32, {big, 4, 3}).numel(), std::nullopt);
  EXPECT_EQ(TensorType::Get(DType::kFloat32, {big, 1}).numel(), big);
  EXPECT_EQ(TensorType::Get(DType::kFloat32, {big, 4, 0}).numel(), 0);
  EXPECT_EQ(TensorType::Get(DType::kFloat32, {0, big, 4}).numel(), 0);
  EXPECT_EQ(TensorType::Get(DType::kFloat32, {0, Dim::Symbol("s0")}).numel(), std::nullopt);
}

TEST(TensorTypeTest, InternedEqualityIsIdentity) {
  TensorType a = TensorType::Get(DType::kFloat32, {128, 384});
  std::vector<Dim> dims = {128, 384};
  TensorType b = TensorType::Get(DType::kFloat32, dims);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, TensorType::Get(DType::kFloat16, {128, 384}));
  EXPECT_NE(a, TensorType::Get(DType::kFloat32, {384, 128}));
  EXPECT_NE(a, TensorType::Get(DType::kFloat32, {128, 384, 1}));
  EXPECT_NE(a, TensorType::Get(DType::kFloat32, {128, Dim::Symbol("s384")}));
  // The shape is stored once: both handles see the same storage.
  EXPECT_EQ(a.shape()->data(), b.shape()->data());
  // A type is one pointer.
  static_assert(sizeof(TensorType) == sizeof(void*), "TensorType should be a handle");
}

TEST(TensorTypeTest, InterningDoesNotDependOnTheCallersBuffer) {
  std::vector<Dim> dims = {4, 5};
  TensorType a = TensorType::Get(DType::kFloat32, dims);
  dims[0] = 6;  // the table must have copied the dims
  EXPECT_EQ(a.ToString(), "f32[4, 5]");
  EXPECT_EQ(TensorType::Get(DType::kFloat32, dims).ToString(), "f32[6, 5]");
  EXPECT_EQ(TensorType::Get(DType::kFloat32, {4, 5}), a);
}

TEST(TensorTypeTest, WithShapeAndWithDType) {
  TensorType t = TensorType::Get(DType::kFloat32, {2, 3});
  EXPECT_EQ(t.WithDType(DType::kFloat16), TensorType::Get(DType::kFloat16, {2, 3}));
  Dim shape[] = {3, 2};
  EXPECT_EQ(t.WithShape(shape), TensorType::Get(DType::kFloat32, {3, 2}));
  EXPECT_EQ(t.WithShape({}), TensorType::Get(DType::kFloat32, {}));
}

TEST(TensorTypeTest, Hashable) {
  absl::flat_hash_set<TensorType> set = {
      TensorType(), TensorType::Get(DType::kFloat32, {1}), TensorType::Get(DType::kFloat32, {1}),
      TensorType::Get(DType::kInt32, {1})};
  EXPECT_EQ(set.size(), 3u);
}

TEST(TensorTypeTest, ConcurrentInterningAgrees) {
  constexpr int kThreads = 4;
  std::vector<TensorType> seen(kThreads);
  std::vector<Dim> syms(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([i, &seen, &syms] {
      for (int k = 0; k < 200; ++k) TensorType::Get(DType::kFloat32, {k, i});
      syms[i] = Dim::Symbol("concurrent_sym");
      seen[i] = TensorType::Get(DType::kFloat64, {7, syms[i], 9});
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 1; i < kThreads; ++i) {
    EXPECT_EQ(seen[i], seen[0]);
    EXPECT_EQ(syms[i], syms[0]);
  }
  EXPECT_EQ(seen[0].ToString(), "f64[7, concurrent_sym, 9]");
}

}  // namespace
}  // namespace graft
