// graft/ops/shape_functions.h through InferTypes: every catalogue op on
// ranks 0-5, symbolic dims, broadcasting and dtype promotion, and the error
// each malformed call gets. Expected shapes and dtypes are torch 2.13's (the
// ATen ops run on zeros), except where a comment says graft differs.
#include "graft/ops/shape_functions.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "graft/ir/op_call.h"
#include "graft/ops/catalogue.h"
#include "tests/ops/shape_test_util.h"

namespace graft {
namespace {

class ShapeTest : public ::testing::Test {
 protected:
  // A graph input of type `type`, written as in graft's text: "f32[s0, 3]".
  Value* T(absl::string_view type) { return testing_util::TypedInput(g_, type); }

  // The inferred result types joined by ", ", or "error: <message>".
  std::string Infer(absl::string_view op, std::vector<Arg> args) {
    auto def = Ops().Resolve(op);
    if (!def.ok()) return absl::StrCat("resolve error: ", def.status().message());
    return testing_util::TypesOrError(InferTypes(*def, args));
  }

  static const Literal* L(std::initializer_list<int64_t> v) { return Literal::Ints(v); }
  static const Literal* I(int64_t v) { return Literal::Int(v); }
  static const Literal* B(bool v) { return Literal::Bool(v); }
  static const Literal* None() { return Literal::None(); }

  Graph g_;
};

// ---- mm, bmm, addmm, linear, matmul.

TEST_F(ShapeTest, Mm) {
  EXPECT_EQ(Infer("mm", {T("f32[128, 384]"), T("f32[384, 51864]")}), "f32[128, 51864]");
  EXPECT_EQ(Infer("aten::mm", {T("f16[2, 3]"), T("f16[3, 1]")}), "f16[2, 1]");
  EXPECT_EQ(Infer("mm", {T("f32[s0, 3]"), T("f32[3, s1]")}), "f32[s0, s1]");
  // A symbolic inner dim is taken to match (torch.export guarded it).
  EXPECT_EQ(Infer("mm", {T("f32[2, s0]"), T("f32[7, 4]")}), "f32[2, 4]");
  EXPECT_EQ(Infer("mm", {T("f32[2, 3]"), T("f32[4, 5]")}),
            "error: mm: operand shapes f32[2, 3] and f32[4, 5] do not chain (3 != 4)");
  EXPECT_EQ(Infer("mm", {T("f32[3]"), T("f32[3, 4]")}),
            "error: mm: self must have rank 2, got f32[3]");
  EXPECT_EQ(Infer("mm", {T("f32[2, 3]"), T("f32[1, 3, 4]")}),
            "error: mm: mat2 must have rank 2, got f32[1, 3, 4]");
  EXPECT_EQ(Infer("mm", {T("f32[2, 3]"), T("f16[3, 4]")}),
            "error: mm: dtypes differ: f32[2, 3] and f16[3, 4]");
  // An unknown fact gives an unknown result (InferTypes), whichever it is.
  EXPECT_EQ(Infer("mm", {T("?"), T("f32[3, 4]")}), "?");
  EXPECT_EQ(Infer("mm", {T("f32[2, ?]"), T("f32[3, 4]")}), "?");
}

TEST_F(ShapeTest, Bmm) {
  EXPECT_EQ(Infer("bmm", {T("f32[8, 2, 3]"), T("f32[8, 3, 5]")}), "f32[8, 2, 5]");
  EXPECT_EQ(Infer("bmm", {T("f32[s0, 2, 3]"), T("f32[4, 3, 5]")}), "f32[4, 2, 5]");
  EXPECT_EQ(Infer("bmm", {T("f32[2, 2, 3]"), T("f32[3, 3, 5]")}),
            "error: bmm: operand shapes f32[2, 2, 3] and f32[3, 3, 5] do not chain");
  EXPECT_EQ(Infer("bmm", {T("f32[2, 2, 3]"), T("f32[2, 4, 5]")}),
            "error: bmm: operand shapes f32[2, 2, 3] and f32[2, 4, 5] do not chain");
  EXPECT_EQ(Infer("bmm", {T("f32[2, 3]"), T("f32[2, 3, 5]")}),
            "error: bmm: self must have rank 3, got f32[2, 3]");
}

TEST_F(ShapeTest, Addmm) {
  Value* x = T("f32[2, 3]");
  Value* w = T("f32[3, 4]");
  EXPECT_EQ(Infer("addmm", {T("f32[4]"), x, w}), "f32[2, 4]");
  EXPECT_EQ(Infer("addmm", {T("f32[1, 1]"), x, w}), "f32[2, 4]");
  EXPECT_EQ(Infer("addmm", {T("f32[2, 1]"), x, w}), "f32[2, 4]");
  EXPECT_EQ(Infer("addmm", {T("f32[]"), x, w}), "f32[2, 4]");
  EXPECT_EQ(Infer("addmm", {T("f32[4]"), x, w, I(1), Literal::Float(0.5)}), "f32[2, 4]");
  EXPECT_EQ(Infer("addmm", {T("f32[3]"), x, w}),
            "error: addmm: shapes [3] and [2, 4] do not broadcast");
  EXPECT_EQ(Infer("addmm", {T("f32[1, 2, 4]"), x, w}),
            "error: addmm: self f32[1, 2, 4] does not broadcast to [2, 4]");
  EXPECT_EQ(Infer("addmm", {T("f16[4]"), x, w}),
            "error: addmm: dtypes differ: f16[4] and f32[2, 3]");
  EXPECT_EQ(Infer("addmm", {T("f32[4]"), x, T("f32[2, 4]")}),
            "error: addmm: mat1 f32[2, 3] and mat2 f32[2, 4] do not chain");
  EXPECT_EQ(Infer("addmm", {T("f32[4]"), x, w, Literal::String("x")}),
            "error: aten::addmm.default argument 3 (beta) expects Scalar, got \"x\"");
}

TEST_F(ShapeTest, Linear) {
  EXPECT_EQ(Infer("linear", {T("f32[1, 128, 384]"), T("f32[51864, 384]")}),
            "f32[1, 128, 51864]");
  EXPECT_EQ(Infer("linear", {T("f32[2, 5, 3]"), T("f32[4, 3]"), T("f32[4]")}), "f32[2, 5, 4]");
  EXPECT_EQ(Infer("linear", {T("f32[2, 5, 3]"), T("f32[4, 3]"), None()}), "f32[2, 5, 4]");
  EXPECT_EQ(Infer("linear", {T("f32[3]"), T("f32[4, 3]"), T("f32[4]")}), "f32[4]");
  // A rank-1 weight drops the out_features dim.
  EXPECT_EQ(Infer("linear", {T("f32[2, 3]"), T("f32[3]")}), "f32[2]");
  EXPECT_EQ(Infer("linear", {T("f32[3]"), T("f32[3]")}), "f32[]");
  EXPECT_EQ(Infer("linear", {T("f32[s0, s1, 3]"), T("f32[4, 3]")}), "f32[s0, s1, 4]");
  EXPECT_EQ(Infer("linear", {T("f32[2, 3]"), T("f32[4, 5]")}),
            "error: linear: input f32[2, 3] and weight f32[4, 5] disagree on in_features "
            "(3 != 5)");
  EXPECT_EQ(Infer("linear", {T("f32[2, 3]"), T("f32[1, 4, 3]")}),
            "error: linear: weight must have rank 1 or 2, got f32[1, 4, 3]");
  EXPECT_EQ(Infer("linear", {T("f32[]"), T("f32[4, 3]")}),
            "error: linear: input must have rank >= 1");
  EXPECT_EQ(Infer("linear", {T("f32[2, 3]"), T("f32[4, 3]"), T("f32[5]")}),
            "error: linear: shapes [2, 4] and [5] do not broadcast");
  // A bias may broadcast to the output, never widen it.
  EXPECT_EQ(Infer("linear", {T("f32[2, 3]"), T("f32[1, 3]"), T("f32[4]")}),
            "error: linear: bias f32[4] does not broadcast to [2, 1]");
  EXPECT_EQ(Infer("linear", {T("f32[2, 3]"), T("f16[4, 3]")}),
            "error: linear: dtypes differ: f32[2, 3] and f16[4, 3]");
}

TEST_F(ShapeTest, Matmul) {
  EXPECT_EQ(Infer("matmul", {T("f32[3]"), T("f32[3]")}), "f32[]");
  EXPECT_EQ(Infer("matmul", {T("f32[2, 3]"), T("f32[3]")}), "f32[2]");
  EXPECT_EQ(Infer("matmul", {T("f32[3]"), T("f32[3, 4]")}), "f32[4]");
  EXPECT_EQ(Infer("matmul", {T("f32[2, 3]"), T("f32[3, 4]")}), "f32[2, 4]");
  EXPECT_EQ(Infer("matmul", {T("f32[3]"), T("f32[5, 3, 4]")}), "f32[5, 4]");
  EXPECT_EQ(Infer("matmul", {T("f32[5, 4, 3]"), T("f32[3]")}), "f32[5, 4]");
  EXPECT_EQ(Infer("matmul", {T("f32[2, 1, 4, 3]"), T("f32[5, 3, 6]")}), "f32[2, 5, 4, 6]");
  EXPECT_EQ(Infer("aten::matmul", {T("f32[s0, 4, 3]"), T("f32[3, 5]")}), "f32[s0, 4, 5]");
  EXPECT_EQ(Infer("matmul", {T("f32[2, 3]"), T("f32[4, 5]")}),
            "error: matmul: operand shapes f32[2, 3] and f32[4, 5] do not chain");
  EXPECT_EQ(Infer("matmul", {T("f32[2, 4, 3]"), T("f32[3, 3, 5]")}),
            "error: matmul: shapes [2] and [3] do not broadcast");
  EXPECT_EQ(Infer("matmul", {T("f32[]"), T("f32[3]")}),
            "error: matmul: both operands must have rank >= 1");
}

// ---- Layout ops.

TEST_F(ShapeTest, PermuteCopy) {
  Value* x = T("f32[2, 3, 4]");
  EXPECT_EQ(Infer("permute_copy", {x, L({2, 0, 1})}), "f32[4, 2, 3]");
  EXPECT_EQ(Infer("permute_copy", {x, L({-1, 0, 1})}), "f32[4, 2, 3]");
  EXPECT_EQ(Infer("permute_copy", {x, L({0, 1, 2})}), "f32[2, 3, 4]");
  EXPECT_EQ(Infer("permute_copy", {T("f32[51864, 384]"), L({1, 0})}), "f32[384, 51864]");
  EXPECT_EQ(Infer("permute_copy", {T("bf16[s0, 3]"), L({1, 0})}), "bf16[3, s0]");
  EXPECT_EQ(Infer("permute_copy", {T("f32[2, 3, 4, 5]"), L({3, 1, 2, 0})}), "f32[5, 3, 4, 2]");
  EXPECT_EQ(Infer("permute_copy", {T("f32[]"), L({})}), "f32[]");
  EXPECT_EQ(Infer("permute_copy", {x, L({0, 0, 1})}),
            "error: permute_copy: dims [0, 0, 1] repeat dim 0");
  EXPECT_EQ(Infer("permute_copy", {x, L({-1, 2, 0})}),
            "error: permute_copy: dims [-1, 2, 0] repeat dim 2");
  EXPECT_EQ(Infer("permute_copy", {x, L({0, 1})}),
            "error: permute_copy: dims [0, 1] do not match rank 3");
  EXPECT_EQ(Infer("permute_copy", {x, L({0, 1, 3})}),
            "error: permute_copy: dim 3 out of range for rank 3");
  EXPECT_EQ(Infer("permute_copy", {x, L({0, 1, -4})}),
            "error: permute_copy: dim -4 out of range for rank 3");
  EXPECT_EQ(Infer("aten::permute", {x, L({1, 2, 0})}), "f32[3, 4, 2]");
  EXPECT_EQ(Infer("permute", {x, L({1, 1, 0})}), "error: permute: dims [1, 1, 0] repeat dim 1");
}

TEST_F(ShapeTest, TCopy) {
  EXPECT_EQ(Infer("t_copy", {T("f32[2, 3]")}), "f32[3, 2]");
  EXPECT_EQ(Infer("t_copy", {T("f32[s0, 3]")}), "f32[3, s0]");
  EXPECT_EQ(Infer("t_copy", {T("f32[3]")}), "f32[3]");
  EXPECT_EQ(Infer("t_copy", {T("f32[]")}), "f32[]");
  EXPECT_EQ(Infer("t_copy", {T("f32[2, 3, 4]")}),
            "error: t_copy: expects rank <= 2, got f32[2, 3, 4]");
  EXPECT_EQ(Infer("aten::t", {T("i64[5, 6]")}), "i64[6, 5]");
  EXPECT_EQ(Infer("t", {T("f32[1, 2, 3]")}), "error: t: expects rank <= 2, got f32[1, 2, 3]");
}

TEST_F(ShapeTest, TransposeCopy) {
  Value* x = T("f32[2, 3, 4]");
  EXPECT_EQ(Infer("transpose_copy", {x, I(0), I(1)}), "f32[3, 2, 4]");
  EXPECT_EQ(Infer("transpose_copy", {x, I(-1), I(0)}), "f32[4, 3, 2]");
  EXPECT_EQ(Infer("transpose_copy", {x, I(1), I(1)}), "f32[2, 3, 4]");
  EXPECT_EQ(Infer("transpose_copy", {T("f32[]"), I(0), I(-1)}), "f32[]");
  EXPECT_EQ(Infer("transpose_copy", {T("f32[s0, 7]"), I(0), I(1)}), "f32[7, s0]");
  EXPECT_EQ(Infer("transpose_copy", {x, I(0), I(3)}),
            "error: transpose_copy: dim 3 out of range for rank 3");
  EXPECT_EQ(Infer("transpose_copy", {x, I(-4), I(0)}),
            "error: transpose_copy: dim -4 out of range for rank 3");
  EXPECT_EQ(Infer("transpose_copy", {x, I(0)}),
            "error: aten::transpose_copy.int takes 3 arguments, got 2");
  EXPECT_EQ(Infer("aten::transpose.int", {x, I(2), I(1)}), "f32[2, 4, 3]");
}

TEST_F(ShapeTest, ViewCopy) {
  Value* x = T("f32[2, 3, 4]");
  EXPECT_EQ(Infer("view_copy", {T("f32[1, 128, 384]"), L({128, 384})}), "f32[128, 384]");
  EXPECT_EQ(Infer("view_copy", {x, L({-1, 4})}), "f32[6, 4]");
  EXPECT_EQ(Infer("view_copy", {x, L({2, -1})}), "f32[2, 12]");
  EXPECT_EQ(Infer("view_copy", {x, L({24})}), "f32[24]");
  EXPECT_EQ(Infer("view_copy", {x, L({1, 2, 1, 3, 4})}), "f32[1, 2, 1, 3, 4]");
  EXPECT_EQ(Infer("view_copy", {T("f32[]"), L({1, 1})}), "f32[1, 1]");
  EXPECT_EQ(Infer("view_copy", {T("f32[1]"), L({})}), "f32[]");
  EXPECT_EQ(Infer("view_copy", {T("f32[0, 3]"), L({-1, 3})}), "f32[0, 3]");
  EXPECT_EQ(Infer("view_copy", {x, L({-1, -1})}),
            "error: view_copy: only one dimension can be -1");
  EXPECT_EQ(Infer("view_copy", {x, L({-2, 12})}), "error: view_copy: invalid size -2");
  EXPECT_EQ(Infer("view_copy", {x, L({5, 5})}),
            "error: view_copy: size [5, 5] is invalid for input f32[2, 3, 4] of 24 elements");
  EXPECT_EQ(Infer("view_copy", {x, L({-1, 5})}),
            "error: view_copy: size [-1, 5] is invalid for input f32[2, 3, 4]");
  EXPECT_EQ(Infer("view_copy", {x, L({0, -1})}),
            "error: view_copy: size [0, -1] is invalid for input f32[2, 3, 4]");
  // A symbolic input cannot be checked, and cannot fill in a -1.
  EXPECT_EQ(Infer("view_copy", {T("f32[s0, 4]"), L({2, 2, 4})}), "f32[2, 2, 4]");
  EXPECT_EQ(Infer("view_copy", {T("f32[s0, 4]"), L({-1})}),
            "error: view_copy: cannot infer -1 from a symbolic input shape");
  // Products that overflow int64 are errors, not wrapped numbers.
  EXPECT_EQ(Infer("view_copy", {x, L({4611686018427387904, 4, -1})}),
            "error: view_copy: size [4611686018427387904, 4, -1] is invalid for input "
            "f32[2, 3, 4]");
  EXPECT_EQ(Infer("aten::view", {x, L({4, 6})}), "f32[4, 6]");
  EXPECT_EQ(Infer("aten::reshape", {x, L({-1})}), "f32[24]");
  EXPECT_EQ(Infer("reshape", {x, L({7, -1})}),
            "error: reshape: size [7, -1] is invalid for input f32[2, 3, 4]");
}

TEST_F(ShapeTest, ExpandCopy) {
  Value* x = T("f32[3, 1]");
  EXPECT_EQ(Infer("expand_copy", {x, L({2, 3, 4})}), "f32[2, 3, 4]");
  EXPECT_EQ(Infer("expand_copy", {x, L({-1, 5})}), "f32[3, 5]");
  EXPECT_EQ(Infer("expand_copy", {x, L({3, 1})}), "f32[3, 1]");
  EXPECT_EQ(Infer("expand_copy", {x, L({3, 0})}), "f32[3, 0]");
  EXPECT_EQ(Infer("expand_copy", {x, L({2, -1, 4}), B(true)}), "f32[2, 3, 4]");
  EXPECT_EQ(Infer("expand_copy", {T("f32[]"), L({2, 2})}), "f32[2, 2]");
  EXPECT_EQ(Infer("expand_copy", {T("f32[s0, 1]"), L({-1, 4})}), "f32[s0, 4]");
  EXPECT_EQ(Infer("expand_copy", {T("f32[s0, 1]"), L({5, 4})}), "f32[5, 4]");
  EXPECT_EQ(Infer("expand_copy", {x, L({4})}),
            "error: expand_copy: size [4] has fewer dims than f32[3, 1]");
  EXPECT_EQ(Infer("expand_copy", {x, L({4, 1})}),
            "error: expand_copy: cannot expand f32[3, 1] to [4, 1]");
  EXPECT_EQ(Infer("expand_copy", {x, L({-1, 3, 1})}),
            "error: expand_copy: -1 is not allowed in a new leading dimension");
  // Sizes below -1 are never sizes (they used to become a symbolic dim).
  EXPECT_EQ(Infer("expand_copy", {x, L({3, -2})}),
            "error: expand_copy: invalid size -2 in [3, -2]");
  EXPECT_EQ(Infer("expand_copy", {T("f32[s0, 1]"), L({-3, 1})}),
            "error: expand_copy: invalid size -3 in [-3, 1]");
  EXPECT_EQ(Infer("aten::expand", {x, L({3, 7})}), "f32[3, 7]");
}

TEST_F(ShapeTest, CloneAndToCopy) {
  Value* x = T("f32[s0, 3]");
  EXPECT_EQ(Infer("clone", {x}), "f32[s0, 3]");
  EXPECT_EQ(Infer("clone", {x, None()}), "f32[s0, 3]");
  EXPECT_EQ(Infer("_to_copy", {x}), "f32[s0, 3]");
  EXPECT_EQ(Infer("_to_copy", {x, Literal::OfDType(DType::kFloat16)}), "f16[s0, 3]");
  EXPECT_EQ(Infer("_to_copy", {x, None()}), "f32[s0, 3]");
  EXPECT_EQ(Infer("_to_copy", {x, Literal::OfDType(DType::kBFloat16), None(), None(), None(),
                               B(false), None()}),
            "bf16[s0, 3]");
  EXPECT_EQ(Infer("_to_copy", {x, I(5)}),
            "error: aten::_to_copy.default argument 1 (dtype) expects ScalarType?, got 5");
}

// ---- Elementwise.

TEST_F(ShapeTest, BinaryBroadcasting) {
  for (const char* op : {"add", "sub", "mul", "div"}) {
    SCOPED_TRACE(op);
    EXPECT_EQ(Infer(op, {T("f32[2, 3]"), T("f32[3]")}), "f32[2, 3]");
    EXPECT_EQ(Infer(op, {T("f32[4, 1, 3]"), T("f32[2, 1]")}), "f32[4, 2, 3]");
    EXPECT_EQ(Infer(op, {T("f32[]"), T("f32[2, 3]")}), "f32[2, 3]");
    EXPECT_EQ(Infer(op, {T("f32[1, 2, 3, 4]"), T("f32[5, 1, 1, 1, 1]")}), "f32[5, 1, 2, 3, 4]");
    EXPECT_EQ(Infer(op, {T("f32[0, 3]"), T("f32[1, 3]")}), "f32[0, 3]");
    EXPECT_EQ(Infer(op, {T("f32[2, 3]"), T("f32[4]")}),
              absl::StrCat("error: ", op, ": shapes [2, 3] and [4] do not broadcast"));
  }
}

TEST_F(ShapeTest, BinarySymbolicDims) {
  EXPECT_EQ(Infer("add", {T("f32[s0, 4]"), T("f32[s0, 4]")}), "f32[s0, 4]");
  // Broadcasting against 1 keeps the symbol (either side).
  EXPECT_EQ(Infer("add", {T("f32[s0, 4]"), T("f32[1, 4]")}), "f32[s0, 4]");
  EXPECT_EQ(Infer("add", {T("f32[1, 4]"), T("f32[s0, 4]")}), "f32[s0, 4]");
  EXPECT_EQ(Infer("mul", {T("f32[s0, 4]"), T("f32[4]")}), "f32[s0, 4]");
  // A symbol meeting a static size resolves to it.
  EXPECT_EQ(Infer("add", {T("f32[s0, 4]"), T("f32[3, 4]")}), "f32[3, 4]");
  EXPECT_EQ(Infer("add", {T("f32[3, 4]"), T("f32[s0, 4]")}), "f32[3, 4]");
}

TEST_F(ShapeTest, BinaryDTypePromotion) {
  EXPECT_EQ(Infer("sub", {T("f16[2]"), T("bf16[2]")}), "f32[2]");
  EXPECT_EQ(Infer("add", {T("i32[2]"), T("f16[2]")}), "f16[2]");
  EXPECT_EQ(Infer("mul", {T("u8[2]"), T("i8[2]")}), "i16[2]");
  EXPECT_EQ(Infer("add", {T("b8[2]"), T("i64[2]")}), "i64[2]");
  EXPECT_EQ(Infer("add", {T("f32[2]"), T("c64[2]")}), "c64[2]");
  EXPECT_EQ(Infer("add", {T("f64[2]"), T("c64[2]")}), "c128[2]");
}

// A 0-dim operand only decides the dtype when it is of a higher category.
TEST_F(ShapeTest, ZeroDimOperandsPromoteOnlyAcrossCategories) {
  EXPECT_EQ(Infer("mul", {T("i32[2]"), T("i64[]")}), "i32[2]");
  EXPECT_EQ(Infer("mul", {T("i64[]"), T("i32[2]")}), "i32[2]");
  EXPECT_EQ(Infer("add", {T("u8[2]"), T("i64[]")}), "u8[2]");
  EXPECT_EQ(Infer("add", {T("f16[2]"), T("f64[]")}), "f16[2]");
  EXPECT_EQ(Infer("add", {T("i64[2]"), T("f16[]")}), "f16[2]");
  EXPECT_EQ(Infer("add", {T("i32[2]"), T("f64[]")}), "f64[2]");
  EXPECT_EQ(Infer("add", {T("b8[2]"), T("i32[]")}), "i32[2]");
  EXPECT_EQ(Infer("add", {T("b8[2]"), T("b8[]")}), "b8[2]");
  EXPECT_EQ(Infer("add", {T("i8[2]"), T("b8[]")}), "i8[2]");
  EXPECT_EQ(Infer("add", {T("f64[2]"), T("c64[]")}), "c128[2]");
  EXPECT_EQ(Infer("add", {T("f16[2]"), T("c64[]")}), "c32[2]");
  EXPECT_EQ(Infer("add", {T("i32[2]"), T("c64[]")}), "c64[2]");
  EXPECT_EQ(Infer("add", {T("c64[2]"), T("c128[]")}), "c64[2]");
  // Both 0-dim: plain promotion.
  EXPECT_EQ(Infer("mul", {T("i32[]"), T("i64[]")}), "i64[]");
}

TEST_F(ShapeTest, DivIsTrueDivision) {
  EXPECT_EQ(Infer("div", {T("i64[2]"), T("i64[2]")}), "f32[2]");
  EXPECT_EQ(Infer("div", {T("b8[2]"), T("b8[2]")}), "f32[2]");
  EXPECT_EQ(Infer("div", {T("i32[2]"), T("f64[]")}), "f64[2]");
  EXPECT_EQ(Infer("div", {T("f16[2]"), T("f64[]")}), "f16[2]");
  EXPECT_EQ(Infer("div", {T("f16[2]"), T("i64[2]")}), "f16[2]");
  EXPECT_EQ(Infer("mul", {T("i64[2]"), T("i64[2]")}), "i64[2]");
}

TEST_F(ShapeTest, BinaryScalarArguments) {
  Value* x = T("f32[2]");
  EXPECT_EQ(Infer("add", {x, x, I(2)}), "f32[2]");
  EXPECT_EQ(Infer("sub", {x, x, Literal::Float(0.5)}), "f32[2]");
  EXPECT_EQ(Infer("add", {x, x, Literal::String("two")}),
            "error: aten::add.Tensor argument 2 (alpha) expects Scalar, got \"two\"");
  EXPECT_EQ(Infer("mul", {x, x, I(2)}), "error: aten::mul.Tensor takes 2 arguments, got 3");
  EXPECT_EQ(Infer("div", {x, Literal::Float(2.0)}),
            "error: aten::div.Tensor argument 1 (other) expects Tensor, got 2.0");
  EXPECT_EQ(Infer("add", {x, T("f32[*]")}), "?");
}

TEST_F(ShapeTest, Unary) {
  EXPECT_EQ(Infer("relu", {T("f32[1, s0, 3, 4]")}), "f32[1, s0, 3, 4]");
  EXPECT_EQ(Infer("relu", {T("i64[]")}), "i64[]");
  EXPECT_EQ(Infer("gelu", {T("bf16[2, 3]")}), "bf16[2, 3]");
  EXPECT_EQ(Infer("gelu", {T("bf16[2, 3]"), Literal::String("tanh")}), "bf16[2, 3]");
  EXPECT_EQ(Infer("gelu", {T("bf16[2, 3]"), I(1)}),
            "error: aten::gelu.default argument 1 (approximate) expects str, got 1");
  EXPECT_EQ(Infer("relu", {T("?[2, 3]")}), "?");
}

TEST_F(ShapeTest, Softmax) {
  EXPECT_EQ(Infer("_softmax", {T("f32[2, 3]"), I(-1), B(false)}), "f32[2, 3]");
  EXPECT_EQ(Infer("_softmax", {T("f32[s0, 6, 6]"), I(1), B(false)}), "f32[s0, 6, 6]");
  EXPECT_EQ(Infer("_softmax", {T("f16[2, 3]"), I(1), B(true)}), "f32[2, 3]");
  EXPECT_EQ(Infer("_softmax", {T("f32[]"), I(0), B(false)}), "f32[]");
  EXPECT_EQ(Infer("_softmax", {T("f32[2, 3]"), I(2), B(false)}),
            "error: _softmax: dim 2 out of range for rank 2");
  EXPECT_EQ(Infer("_softmax", {T("f32[2, 3]"), I(-1)}),
            "error: aten::_softmax.default takes 3 arguments, got 2");
}

// ---- native_layer_norm, embedding, convolution.

TEST_F(ShapeTest, NativeLayerNormHasThreeResults) {
  Value* w = T("f32[4]");
  EXPECT_EQ(Infer("native_layer_norm", {T("f32[2, 3, 4]"), L({4}), w, w, Literal::Float(1e-5)}),
            "f32[2, 3, 4], f32[2, 3, 1], f32[2, 3, 1]");
  EXPECT_EQ(Infer("native_layer_norm",
                  {T("f32[2, 3, 4]"), L({3, 4}), None(), None(), Literal::Float(1e-5)}),
            "f32[2, 3, 4], f32[2, 1, 1], f32[2, 1, 1]");
  EXPECT_EQ(Infer("native_layer_norm", {T("f32[4]"), L({4}), None(), None(), I(0)}),
            "f32[4], f32[1], f32[1]");
  EXPECT_EQ(Infer("native_layer_norm",
                  {T("bf16[s0, 128, 384]"), L({384}), None(), None(), Literal::Float(1e-5)}),
            "bf16[s0, 128, 384], bf16[s0, 128, 1], bf16[s0, 128, 1]");
  EXPECT_EQ(Infer("native_layer_norm",
                  {T("f32[2, s1]"), L({384}), None(), None(), Literal::Float(1e-5)}),
            "f32[2, s1], f32[2, 1], f32[2, 1]");
}

TEST_F(ShapeTest, NativeLayerNormErrors) {
  Value* x = T("f32[2, 3, 4]");
  const Literal* eps = Literal::Float(1e-5);
  EXPECT_EQ(Infer("native_layer_norm", {x, L({5}), None(), None(), eps}),
            "error: native_layer_norm: normalized_shape [5] does not match the trailing dims "
            "of f32[2, 3, 4]");
  EXPECT_EQ(Infer("native_layer_norm", {x, L({}), None(), None(), eps}),
            "error: native_layer_norm: normalized_shape [] does not fit input f32[2, 3, 4]");
  EXPECT_EQ(Infer("native_layer_norm", {x, L({1, 2, 3, 4}), None(), None(), eps}),
            "error: native_layer_norm: normalized_shape [1, 2, 3, 4] does not fit input "
            "f32[2, 3, 4]");
  EXPECT_EQ(Infer("native_layer_norm", {x, L({4}), T("f32[3, 4]"), None(), eps}),
            "error: native_layer_norm: weight f32[3, 4] does not match normalized_shape");
  EXPECT_EQ(Infer("native_layer_norm", {x, L({4}), None(), T("f32[5]"), eps}),
            "error: native_layer_norm: bias f32[5] does not match normalized_shape");
  // Negative sizes are not sizes (they used to compare as symbolic dims).
  EXPECT_EQ(Infer("native_layer_norm", {x, L({-4}), None(), None(), eps}),
            "error: native_layer_norm: normalized_shape [-4] does not match the trailing dims "
            "of f32[2, 3, 4]");
  EXPECT_EQ(Infer("native_layer_norm", {x, L({4}), None(), None(), Literal::String("eps")}),
            "error: aten::native_layer_norm.default argument 4 (eps) expects float, got \"eps\"");
}

TEST_F(ShapeTest, Embedding) {
  Value* w = T("f32[51864, 384]");
  EXPECT_EQ(Infer("embedding", {w, T("i64[1, 128]")}), "f32[1, 128, 384]");
  EXPECT_EQ(Infer("embedding", {w, T("i32[s0]")}), "f32[s0, 384]");
  EXPECT_EQ(Infer("embedding", {w, T("i64[]")}), "f32[384]");
  EXPECT_EQ(Infer("embedding", {w, T("i64[2, 3, 4]"), I(0), B(false), B(false)}),
            "f32[2, 3, 4, 384]");
  EXPECT_EQ(Infer("embedding", {w, T("b8[2]")}),
            "error: embedding: indices must be integral, got b8[2]");
  EXPECT_EQ(Infer("embedding", {w, T("f32[2]")}),
            "error: embedding: indices must be integral, got f32[2]");
  EXPECT_EQ(Infer("embedding", {T("f32[10]"), T("i64[2]")}),
            "error: embedding: weight must have rank 2, got f32[10]");
}

class ConvTest : public ShapeTest {
 protected:
  std::string Conv(absl::string_view x, absl::string_view w, Arg bias,
                   std::initializer_list<int64_t> stride, std::initializer_list<int64_t> padding,
                   std::initializer_list<int64_t> dilation, bool transposed,
                   std::initializer_list<int64_t> output_padding, int64_t groups) {
    return Infer("convolution", {T(x), T(w), bias, L(stride), L(padding), L(dilation),
                                 B(transposed), L(output_padding), I(groups)});
  }
};

TEST_F(ConvTest, Conv1d) {
  EXPECT_EQ(Conv("f32[2, 4, 10]", "f32[6, 2, 3]", None(), {2}, {1}, {2}, false, {0}, 2),
            "f32[2, 6, 4]");
  EXPECT_EQ(Conv("f32[1, 80, 3000]", "f32[384, 80, 3]", T("f32[384]"), {1}, {1}, {1}, false,
                 {0}, 1),
            "f32[1, 384, 3000]");
  EXPECT_EQ(Conv("f32[1, 384, 3000]", "f32[384, 384, 3]", None(), {2}, {1}, {1}, false, {0}, 1),
            "f32[1, 384, 1500]");
}

TEST_F(ConvTest, Conv2dAndConv3d) {
  EXPECT_EQ(Conv("f32[1, 3, 10, 12]", "f32[8, 3, 3, 3]", None(), {2, 1}, {1, 0}, {1, 2}, false,
                 {0, 0}, 1),
            "f32[1, 8, 5, 8]");
  // One entry stands for every spatial dim.
  EXPECT_EQ(Conv("f32[1, 3, 10, 12]", "f32[8, 3, 3, 3]", None(), {1}, {1}, {1}, false, {0}, 1),
            "f32[1, 8, 10, 12]");
  EXPECT_EQ(Conv("f32[1, 2, 5, 6, 7]", "f32[4, 2, 3, 3, 3]", None(), {1}, {0}, {1}, false,
                 {0, 0, 0}, 1),
            "f32[1, 4, 3, 4, 5]");
}

TEST_F(ConvTest, Transposed) {
  EXPECT_EQ(Conv("f32[1, 4, 10, 12]", "f32[4, 3, 3, 3]", None(), {2, 2}, {1, 1}, {1, 1}, true,
                 {1, 0}, 2),
            "f32[1, 6, 20, 23]");
  EXPECT_EQ(Conv("f32[1, 4, 5]", "f32[4, 3, 3]", None(), {3}, {1}, {1}, true, {2}, 1),
            "f32[1, 3, 15]");
  EXPECT_EQ(Conv("f32[1, 4, 5]", "f32[4, 3, 3]", T("f32[3]"), {1}, {0}, {1}, true, {}, 1),
            "f32[1, 3, 7]");
}

TEST_F(ConvTest, SymbolicDims) {
  EXPECT_EQ(Conv("f32[s0, 4, 10]", "f32[6, 4, 3]", None(), {1}, {0}, {1}, false, {0}, 1),
            "f32[s0, 6, 8]");
  // A symbolic spatial size gives a derived symbol, the same every time, so
  // the verifier's re-inference agrees with the builder's.
  EXPECT_EQ(Conv("f32[1, 4, s1]", "f32[6, 4, 3]", None(), {1}, {0}, {1}, false, {0}, 1),
            "f32[1, 6, conv_s1_0]");
  EXPECT_EQ(Conv("f32[1, 4, s1]", "f32[6, 4, 3]", None(), {1}, {0}, {1}, false, {0}, 1),
            "f32[1, 6, conv_s1_0]");
}

TEST_F(ConvTest, Errors) {
  EXPECT_EQ(Conv("f32[4, 10]", "f32[6, 4, 3]", None(), {1}, {0}, {1}, false, {0}, 1),
            "error: convolution: input f32[4, 10] and weight f32[6, 4, 3] must both have rank "
            ">= 3 and equal ranks");
  EXPECT_EQ(Conv("f32[1, 4, 10]", "f32[6, 3, 3]", None(), {1}, {0}, {1}, false, {0}, 1),
            "error: convolution: input channels 4 != weight f32[6, 3, 3] in-channels x groups 1");
  EXPECT_EQ(Conv("f32[1, 3, 10, 12]", "f32[8, 3, 3, 3]", None(), {1, 1, 1}, {0}, {1}, false,
                 {0}, 1),
            "error: convolution: stride, padding, dilation and output_padding need one entry "
            "per spatial dim");
  EXPECT_EQ(Conv("f32[1, 4, 10]", "f32[6, 4, 3]", None(), {1}, {0}, {1}, false, {0}, 0),
            "error: convolution: groups must be >= 1");
  // The kernel does not fit the input: torch refuses; so must graft, also
  // when C++'s truncating division would have rounded the size up to 1.
  EXPECT_EQ(Conv("f32[1, 3, 4]", "f32[2, 3, 5]", None(), {2}, {0}, {1}, false, {0}, 1),
            "error: convolution: output size 0 is not positive");
  EXPECT_EQ(Conv("f32[1, 3, 2]", "f32[2, 3, 5]", None(), {1}, {0}, {1}, false, {0}, 1),
            "error: convolution: output size -2 is not positive");
}

// What used to crash (division by zero, out-of-bounds reads) or pass
// silently.
TEST_F(ConvTest, InvalidParameters) {
  EXPECT_EQ(Conv("f32[1, 4, 5]", "f32[4, 4, 3]", None(), {0}, {1}, {1}, false, {0}, 1),
            "error: convolution: stride must be >= 1, got [0]");
  EXPECT_EQ(Conv("f32[1, 4, 5]", "f32[4, 4, 3]", None(), {1}, {-1}, {1}, false, {0}, 1),
            "error: convolution: padding must be >= 0, got [-1]");
  EXPECT_EQ(Conv("f32[1, 4, 5, 5]", "f32[4, 4, 3, 3]", None(), {1}, {0}, {1, 0}, false, {0}, 1),
            "error: convolution: dilation must be >= 1, got [1, 0]");
  EXPECT_EQ(Conv("f32[1, 2, 5, 5, 5]", "f32[2, 3, 3, 3, 3]", None(), {2}, {0}, {1}, true,
                 {1, 1}, 1),
            "error: convolution: stride, padding, dilation and output_padding need one entry "
            "per spatial dim");
  // Empty lists are never "one for all" (only output_padding may be empty).
  EXPECT_EQ(Conv("f32[1, 4, 5]", "f32[4, 4, 3]", None(), {1}, {}, {1}, false, {}, 1),
            "error: convolution: stride, padding, dilation and output_padding need one entry "
            "per spatial dim");
  EXPECT_EQ(Conv("f32[1, 4, 5]", "f32[4, 4, 3]", None(), {}, {0}, {1}, false, {0}, 1),
            "error: convolution: stride, padding, dilation and output_padding need one entry "
            "per spatial dim");
  EXPECT_EQ(Conv("f32[1, 4, 5]", "f32[4, 3, 3]", None(), {3}, {1}, {1}, true, {3}, 1),
            "error: convolution: output_padding [3] must be smaller than stride or dilation");
  EXPECT_EQ(Conv("f32[1, 4, 5]", "f32[5, 3, 3]", None(), {1}, {1}, {1}, true, {0}, 1),
            "error: convolution: input channels 4 != weight f32[5, 3, 3] dim 0 (5)");
  EXPECT_EQ(Conv("f32[2, 6, 9]", "f32[4, 3, 3]", T("f32[5]"), {1}, {0}, {1}, false, {0}, 2),
            "error: convolution: bias f32[5] does not match the 4 output channels");
  EXPECT_EQ(Conv("f32[2, 6, 9]", "f32[4, 3, 3]", T("f32[1, 4]"), {1}, {0}, {1}, false, {0}, 2),
            "error: convolution: bias f32[1, 4] does not match the 4 output channels");
  EXPECT_EQ(Conv("f32[1, 6, 5]", "f32[4, 2, 3]", None(), {1}, {0}, {1}, false, {0}, 3),
            "error: convolution: weight f32[4, 2, 3] out-channels are not divisible by groups 3");
}

// Every size formula is checked: a product or sum past int64 is an error
// naming the op and the quantity, never a wrapped size (a negative one used
// to become a symbol id and crash when printed).
TEST_F(ConvTest, OverflowIsAnError) {
  const int64_t big = int64_t{1} << 62;
  // Transposed: out channels = weight dim 1 x groups (3 x 2^62 wrapped
  // negative).
  EXPECT_EQ(Conv("f32[1, 4, 5]", "f32[4, 3, 3]", None(), {1}, {0}, {1}, true, {}, big),
            "error: convolution: the output channel count (weight f32[4, 3, 3] dim 1 x groups "
            "4611686018427387904) overflows int64");
  // 4 x (2^62 + 1) wraps to 4, which used to pass the in-channels check.
  EXPECT_EQ(Conv("f32[1, 4, 5]", "f32[0, 4, 3]", None(), {1}, {0}, {1}, false, {0}, big + 1),
            "error: convolution: input channels 4 != weight f32[0, 4, 3] in-channels x groups "
            "4611686018427387905");
  // The output-size formula, term by term: 2 x padding, dilation x (k - 1),
  // (in - 1) x stride.
  EXPECT_EQ(Conv("f32[1, 4, 5]", "f32[4, 4, 3]", None(), {1}, {big}, {1}, false, {0}, 1),
            "error: convolution: the output size of spatial dim 0 (input 5, kernel 3, stride 1, "
            "padding 4611686018427387904, dilation 1) overflows int64");
  EXPECT_EQ(Conv("f32[1, 4, 5, 5]", "f32[4, 4, 3, 3]", None(), {1}, {0}, {1, big}, false, {0}, 1),
            "error: convolution: the output size of spatial dim 1 (input 5, kernel 3, stride 1, "
            "padding 0, dilation 4611686018427387904) overflows int64");
  EXPECT_EQ(Conv("f32[1, 4, 5]", "f32[4, 3, 3]", None(), {big}, {0}, {1}, true, {}, 1),
            "error: convolution: the output size of spatial dim 0 (input 5, kernel 3, stride "
            "4611686018427387904, padding 0, dilation 1) overflows int64");
  EXPECT_EQ(Conv("f32[1, 4, 5]", "f32[4, 3, 3]", None(), {1}, {big}, {1}, true, {}, 1),
            "error: convolution: the output size of spatial dim 0 (input 5, kernel 3, stride 1, "
            "padding 4611686018427387904, dilation 1) overflows int64");
  EXPECT_EQ(Conv("f32[1, 4, 9223372036854775807]", "f32[4, 4, 1]", None(), {1}, {1}, {1}, false,
                 {0}, 1),
            "error: convolution: the output size of spatial dim 0 (input 9223372036854775807, "
            "kernel 1, stride 1, padding 1, dilation 1) overflows int64");
  // Large values whose results fit are fine.
  EXPECT_EQ(Conv("f32[1, 4, 9223372036854775807]", "f32[4, 4, 1]", None(), {1}, {0}, {1}, false,
                 {0}, 1),
            "f32[1, 4, 9223372036854775807]");
  EXPECT_EQ(Conv("f32[1, 4, 5]", "f32[4, 4, 3]", None(), {big}, {big / 2}, {1}, false, {0}, 1),
            "f32[1, 4, 2]");
}

// A static input whose element count overflows cannot be viewed as anything
// (it used to pass unchecked when no -1 was given).
TEST_F(ShapeTest, ViewOfAnInputWhoseElementCountOverflows) {
  Value* x = T("f32[4611686018427387904, 4]");
  EXPECT_EQ(Infer("view_copy", {x, L({1})}),
            "error: view_copy: the element count of input f32[4611686018427387904, 4] "
            "overflows int64");
  EXPECT_EQ(Infer("view_copy", {x, L({-1})}),
            "error: view_copy: the element count of input f32[4611686018427387904, 4] "
            "overflows int64");
  EXPECT_EQ(Infer("view_copy", {T("f32[4611686018427387903, 2]"), L({-1})}),
            "f32[9223372036854775806]");
}

TEST_F(ShapeTest, OpCallFillsTrailingDefaults) {
  Value* x = T("f32[2]");
  Arg args[] = {x, x};
  OpCall call(ops::add(), args);
  EXPECT_EQ(call.name(), "add");
  EXPECT_EQ(call.arg(0), Arg(x));
  EXPECT_EQ(call.arg(2), Arg(Literal::Int(1)));  // alpha's default
  EXPECT_TRUE(call.arg(3).is_null());             // past the schema
  Arg lin[] = {x, x};
  OpCall linear(ops::linear(), lin);
  EXPECT_TRUE(linear.is_none(2));  // an optional tensor left out is None
  EXPECT_FALSE(linear.is_none(0));
}

}  // namespace
}  // namespace graft
