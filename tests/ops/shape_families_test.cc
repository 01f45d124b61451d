// The shape-function families that graft's op table assigns beyond the
// hand-written catalogue (unary float/bool results, Scalar overloads,
// comparisons, where, reductions, squeeze/unsqueeze/slice/select/cat,
// quantize/dequantize), called through ops registered here with torch
// 2.13's schemas, so they are tested whichever table is in the tree. The
// expected types are torch's (meta_conformance_test checks thousands more
// calls against its kernels); what this file adds is symbolic dims, the
// error messages, and the cases a generator does not reach.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "graft/ir/op_call.h"
#include "graft/ops/shape_functions.h"
#include "tests/ops/shape_test_util.h"

namespace graft {
namespace {

using K = ParamKind;

class FamilyTest : public ::testing::Test {
 protected:
  FamilyTest() {
    const Literal* none = Literal::None();
    const Literal* no = Literal::Bool(false);
    Param self{"self", K::kTensor};
    Param other{"other", K::kTensor};
    Param scalar{"other", K::kScalar};
    Param alpha{"alpha", K::kScalar, Literal::Int(1)};
    Param keepdim{"keepdim", K::kBool, no};
    Param dtype{"dtype", K::kDType, none, true};
    for (const char* op : {"aten::sigmoid.default", "aten::rsqrt.default"})
      Def(op, {self}, shape::UnaryFloat);
    Def("aten::isnan.default", {self}, shape::UnaryBool);
    Def("aten::neg.default", {self}, shape::SameAsInput);
    Def("aten::hardtanh.default",
        {self, {"min_val", K::kScalar, Literal::Int(-1)}, {"max_val", K::kScalar, Literal::Int(1)}},
        shape::SameAsInput);
    Def("aten::clamp.default",
        {self, {"min", K::kScalar, none, true}, {"max", K::kScalar, none, true}},
        shape::SameAsInput);
    Def("aten::leaky_relu.default", {self, {"negative_slope", K::kScalar, Literal::Float(0.01)}},
        shape::SameAsInput);
    Def("aten::add.Tensor", {self, other, alpha}, shape::Elementwise);
    Def("aten::sub.Tensor", {self, other, alpha}, shape::Elementwise);
    Def("aten::add.Scalar", {self, scalar, alpha}, shape::Elementwise);
    Def("aten::mul.Scalar", {self, scalar}, shape::Elementwise);
    Def("aten::div.Scalar", {self, scalar}, shape::Divide);
    Def("aten::div.Tensor_mode", {self, other, {"rounding_mode", K::kString, nullptr, true}},
        shape::Divide);
    Def("aten::eq.Tensor", {self, other}, shape::Comparison);
    Def("aten::lt.Scalar", {self, scalar}, shape::Comparison);
    Def("aten::where.self", {{"condition", K::kTensor}, self, other}, shape::Where);
    Def("aten::sum.dim_IntList", {self, {"dim", K::kInts, nullptr, true}, keepdim, dtype},
        shape::Reduction);
    Def("aten::mean.dim", {self, {"dim", K::kInts, nullptr, true}, keepdim, dtype},
        shape::Reduction);
    Def("aten::amax.default", {self, {"dim", K::kInts, Literal::Ints({})}, keepdim},
        shape::Reduction);
    Def("aten::argmax.default", {self, {"dim", K::kInt, none, true}, keepdim},
        shape::ArgReduction);
    Def("aten::squeeze.default", {self}, shape::Squeeze);
    Def("aten::squeeze_copy.dim", {self, {"dim", K::kInt}}, shape::Squeeze);
    Def("aten::squeeze_copy.dims", {self, {"dim", K::kInts}}, shape::Squeeze);
    Def("aten::unsqueeze_copy.default", {self, {"dim", K::kInt}}, shape::Unsqueeze);
    Def("aten::slice_copy.Tensor",
        {self, {"dim", K::kInt, Literal::Int(0)}, {"start", K::kInt, none, true},
         {"end", K::kInt, none, true}, {"step", K::kInt, Literal::Int(1)}},
        shape::Slice);
    Def("aten::select_copy.int", {self, {"dim", K::kInt}, {"index", K::kInt}}, shape::Select);
    Def("aten::_softmax.default", {self, {"dim", K::kInt}, {"half_to_float", K::kBool}},
        shape::Softmax);
    Def("aten::_log_softmax.default", {self, {"dim", K::kInt}, {"half_to_float", K::kBool}},
        shape::Softmax);
    std::vector<Param> qparams = {{"input", K::kTensor}, {"scale", K::kFloat},
                                  {"zero_point", K::kInt}, {"quant_min", K::kInt},
                                  {"quant_max", K::kInt}, {"dtype", K::kDType}};
    Def("quantized_decomposed::quantize_per_tensor.default", qparams, shape::Quantize);
    qparams.push_back({"out_dtype", K::kDType, none, true});
    Def("quantized_decomposed::dequantize_per_tensor.default", qparams, shape::Dequantize);
    Def("quantized_decomposed::quantize_per_channel.default",
        {{"input", K::kTensor}, {"scales", K::kTensor}, {"zero_points", K::kTensor},
         {"axis", K::kInt}, {"quant_min", K::kInt}, {"quant_max", K::kInt},
         {"dtype", K::kDType}},
        shape::Quantize);
  }

  void Def(absl::string_view name, std::vector<Param> params, ShapeFn fn) {
    OpSchema schema;
    schema.params = std::move(params);
    schema.shape_fn = fn;
    ops_.Register(name, std::move(schema));
  }

  // A graph input of type `type`, written as in graft's text: "f32[s0, 3]".
  Value* T(absl::string_view type) { return testing_util::TypedInput(g_, type); }

  // The inferred result types joined by ", ", or "error: <message>".
  std::string Infer(absl::string_view op, std::vector<Arg> args) {
    const OpDef* def = ops_.Find(op);
    if (!def) return absl::StrCat("no op ", op);
    return testing_util::TypesOrError(InferTypes(def, args));
  }

  // Cat through OpCall directly, with cat's schema: its tensor list is a
  // run of operands before the dim.
  std::string Cat(std::vector<Arg> args) {
    const OpDef* def = ops_.Find("aten::cat.default");
    if (!def) {
      Def("aten::cat.default",
          {{"tensors", ParamKind::kTensorList}, {"dim", ParamKind::kInt, Literal::Int(0)}},
          shape::Cat);
      def = ops_.Find("aten::cat.default");
    }
    return testing_util::TypesOrError(shape::Cat(OpCall(def, args)));
  }

  static const Literal* L(std::initializer_list<int64_t> v) { return Literal::Ints(v); }
  static const Literal* I(int64_t v) { return Literal::Int(v); }
  static const Literal* F(double v) { return Literal::Float(v); }
  static const Literal* B(bool v) { return Literal::Bool(v); }
  static const Literal* S(absl::string_view v) { return Literal::String(v); }
  static const Literal* D(DType d) { return Literal::OfDType(d); }
  static const Literal* None() { return Literal::None(); }

  OpRegistry ops_;
  Graph g_;
};

// ---- Unary.

TEST_F(FamilyTest, UnaryFloatPromotesIntegersToTheDefaultFloat) {
  EXPECT_EQ(Infer("aten::sigmoid", {T("i64[2, 3]")}), "f32[2, 3]");
  EXPECT_EQ(Infer("aten::sigmoid", {T("b8[]")}), "f32[]");
  EXPECT_EQ(Infer("aten::rsqrt", {T("f16[s0, 4]")}), "f16[s0, 4]");
  EXPECT_EQ(Infer("aten::rsqrt", {T("f64[0]")}), "f64[0]");
  EXPECT_EQ(Infer("aten::sigmoid", {T("?")}), "?");
}

TEST_F(FamilyTest, UnaryBool) {
  EXPECT_EQ(Infer("aten::isnan", {T("f16[s0, 2]")}), "b8[s0, 2]");
  EXPECT_EQ(Infer("aten::isnan", {T("i32[]")}), "b8[]");
}

TEST_F(FamilyTest, SameAsInputRefusesWhatTheKernelsRefuse) {
  EXPECT_EQ(Infer("aten::neg", {T("i8[2]")}), "i8[2]");
  EXPECT_EQ(Infer("aten::neg", {T("b8[2]")}), "error: neg: does not take bool input b8[2]");
  EXPECT_EQ(Infer("aten::hardtanh", {T("b8[2]")}),
            "error: hardtanh: does not take bool input b8[2]");
  EXPECT_EQ(Infer("aten::hardtanh", {T("u8[2]")}),
            "error: hardtanh: min_val -1 is negative for the unsigned u8[2]");
  EXPECT_EQ(Infer("aten::hardtanh", {T("u8[2]"), I(0), I(6)}), "u8[2]");
  EXPECT_EQ(Infer("aten::hardtanh", {T("i8[2]")}), "i8[2]");
  EXPECT_EQ(Infer("aten::leaky_relu", {T("i32[2]")}),
            "error: leaky_relu: does not take int32 input i32[2]");
  EXPECT_EQ(Infer("aten::leaky_relu", {T("bf16[2]")}), "bf16[2]");
}

// clamp's Scalar bounds promote as a binary op's second operand does.
TEST_F(FamilyTest, ClampBoundsPromote) {
  EXPECT_EQ(Infer("aten::clamp", {T("i32[2]"), F(0.5)}), "f32[2]");
  EXPECT_EQ(Infer("aten::clamp", {T("i32[2]"), I(0), I(7)}), "i32[2]");
  EXPECT_EQ(Infer("aten::clamp", {T("b8[2]"), None(), I(1)}), "i64[2]");
  EXPECT_EQ(Infer("aten::clamp", {T("f16[s0]"), I(-1), F(2.5)}), "f16[s0]");
  EXPECT_EQ(Infer("aten::clamp", {T("f32[2]")}), "error: clamp: needs min or max");
  EXPECT_EQ(Infer("aten::clamp", {T("f32[2]"), None(), None()}), "error: clamp: needs min or max");
}

// ---- Binary: Scalar overloads, alpha, division modes, comparisons, where.

// A Python scalar decides the dtype only when its category is higher than
// the tensors', and then gives the default dtype (f32) or i64.
TEST_F(FamilyTest, ScalarOperandsPromoteOnlyAcrossCategories) {
  EXPECT_EQ(Infer("aten::add.Scalar", {T("i32[2]"), F(2.5)}), "f32[2]");
  EXPECT_EQ(Infer("aten::add.Scalar", {T("f16[2]"), F(2.5)}), "f16[2]");
  EXPECT_EQ(Infer("aten::add.Scalar", {T("b8[2]"), I(2)}), "i64[2]");
  EXPECT_EQ(Infer("aten::add.Scalar", {T("u8[2]"), I(300)}), "u8[2]");
  EXPECT_EQ(Infer("aten::add.Scalar", {T("u8[2]"), B(true)}), "u8[2]");
  EXPECT_EQ(Infer("aten::add.Scalar", {T("i32[]"), I(2)}), "i32[]");
  EXPECT_EQ(Infer("aten::mul.Scalar", {T("i64[]"), F(1.5)}), "f32[]");
  EXPECT_EQ(Infer("aten::mul.Scalar", {T("bf16[s0]"), I(3)}), "bf16[s0]");
  EXPECT_EQ(Infer("aten::mul.Scalar", {T("f32[2]"), S("x")}),
            "error: aten::mul.Scalar argument 1 (other) expects Scalar, got \"x\"");
}

TEST_F(FamilyTest, AlphaAndBoolSubtraction) {
  EXPECT_EQ(Infer("aten::add.Tensor", {T("i32[2]"), T("i32[2]"), F(0.5)}),
            "error: add: alpha 0.5 is not an integer, and the result is i32");
  EXPECT_EQ(Infer("aten::add.Tensor", {T("i32[2]"), T("f32[2]"), F(0.5)}), "f32[2]");
  EXPECT_EQ(Infer("aten::add.Tensor", {T("i32[2]"), T("i32[2]"), I(2)}), "i32[2]");
  EXPECT_EQ(Infer("aten::sub.Tensor", {T("b8[2]"), T("b8[2]")}),
            "error: sub: bool subtraction is not supported (use logical_xor)");
  EXPECT_EQ(Infer("aten::sub.Tensor", {T("b8[2]"), T("i32[2]")}), "i32[2]");
}

TEST_F(FamilyTest, DivisionModes) {
  EXPECT_EQ(Infer("aten::div.Scalar", {T("i64[2]"), I(2)}), "f32[2]");
  EXPECT_EQ(Infer("aten::div.Scalar", {T("f16[2]"), I(2)}), "f16[2]");
  EXPECT_EQ(Infer("aten::div.Tensor_mode", {T("i32[2, 1]"), T("i32[3]"), S("floor")}),
            "i32[2, 3]");
  EXPECT_EQ(Infer("aten::div.Tensor_mode", {T("i32[2]"), T("i32[2]"), None()}), "f32[2]");
  EXPECT_EQ(Infer("aten::div.Tensor_mode", {T("b8[2]"), T("b8[2]"), S("trunc")}), "b8[2]");
  EXPECT_EQ(Infer("aten::div.Tensor_mode", {T("b8[2]"), T("b8[2]"), S("floor")}),
            "error: div: bool has no floor division");
}

TEST_F(FamilyTest, Comparison) {
  EXPECT_EQ(Infer("aten::eq.Tensor", {T("f32[2, 1]"), T("i64[3]")}), "b8[2, 3]");
  EXPECT_EQ(Infer("aten::eq.Tensor", {T("f32[s0, 1]"), T("f32[3]")}), "b8[s0, 3]");
  EXPECT_EQ(Infer("aten::lt.Scalar", {T("i32[2]"), F(0.5)}), "b8[2]");
  EXPECT_EQ(Infer("aten::eq.Tensor", {T("f32[2]"), T("f32[3]")}),
            "error: eq: shapes [2] and [3] do not broadcast");
}

TEST_F(FamilyTest, Where) {
  EXPECT_EQ(Infer("aten::where.self", {T("b8[2, 1]"), T("f32[3]"), T("i64[]")}), "f32[2, 3]");
  // The 0-dim f64 outranks the i32 tensor by category.
  EXPECT_EQ(Infer("aten::where.self", {T("b8[]"), T("i32[2]"), T("f64[]")}), "f64[2]");
  EXPECT_EQ(Infer("aten::where.self", {T("b8[4, 1, 1]"), T("f16[s0, 1]"), T("f16[1, 5]")}),
            "f16[4, s0, 5]");
  EXPECT_EQ(Infer("aten::where.self", {T("u8[2]"), T("f32[2]"), T("f32[2]")}),
            "error: where: condition must be bool, got u8[2]");
  EXPECT_EQ(Infer("aten::where.self", {T("b8[3]"), T("f32[2]"), T("f32[2]")}),
            "error: where: shapes [3] and [2] do not broadcast");
}

// ---- Reductions.

TEST_F(FamilyTest, SumAndMean) {
  EXPECT_EQ(Infer("aten::sum.dim_IntList", {T("i32[2, 3]"), L({1})}), "i64[2]");
  EXPECT_EQ(Infer("aten::sum.dim_IntList", {T("b8[2, 3]"), None(), B(true)}), "i64[1, 1]");
  EXPECT_EQ(Infer("aten::sum.dim_IntList", {T("f16[2, 3]"), L({}), B(false)}), "f16[]");
  EXPECT_EQ(Infer("aten::sum.dim_IntList", {T("i32[2, 3]"), L({0}), B(false), D(DType::kInt32)}),
            "i32[3]");
  EXPECT_EQ(Infer("aten::sum.dim_IntList", {T("f32[s0, 4]"), L({-1})}), "f32[s0]");
  EXPECT_EQ(Infer("aten::sum.dim_IntList", {T("f32[]"), L({0})}), "f32[]");
  EXPECT_EQ(Infer("aten::sum.dim_IntList", {T("f32[0, 3]"), L({0})}), "f32[3]");
  EXPECT_EQ(Infer("aten::mean.dim", {T("f16[2, 3, 4]"), L({0, -1}), B(true)}), "f16[1, 3, 1]");
  EXPECT_EQ(Infer("aten::mean.dim", {T("i64[2, 3]"), L({0}), B(false), D(DType::kFloat32)}),
            "f32[3]");
  EXPECT_EQ(Infer("aten::mean.dim", {T("i64[2, 3]"), L({0})}),
            "error: mean: needs a floating-point input, got i64");
  EXPECT_EQ(Infer("aten::mean.dim", {T("f32[2, 3]"), L({0}), B(false), D(DType::kInt64)}),
            "error: mean: needs a floating-point dtype argument, got i64");
  EXPECT_EQ(Infer("aten::sum.dim_IntList", {T("f32[2, 3]"), L({1, -1})}),
            "error: sum: dim 1 appears twice in [1, -1]");
  EXPECT_EQ(Infer("aten::sum.dim_IntList", {T("f32[2, 3]"), L({2})}),
            "error: sum: dim 2 out of range for rank 2");
}

TEST_F(FamilyTest, AmaxNeedsNonEmptyReducedDims) {
  EXPECT_EQ(Infer("aten::amax", {T("f32[2, 3]")}), "f32[]");
  EXPECT_EQ(Infer("aten::amax", {T("i8[2, 3]"), L({1}), B(true)}), "i8[2, 1]");
  EXPECT_EQ(Infer("aten::amax", {T("f32[2, 0]"), L({0})}), "f32[0]");
  EXPECT_EQ(Infer("aten::amax", {T("f32[2, 0]"), L({1})}),
            "error: amax: cannot reduce dim 1 of size 0 of f32[2, 0] (there is no identity)");
  EXPECT_EQ(Infer("aten::amax", {T("f32[s0, 0]"), L({0})}), "f32[0]");
}

TEST_F(FamilyTest, Argmax) {
  EXPECT_EQ(Infer("aten::argmax", {T("f32[2, 3]")}), "i64[]");
  EXPECT_EQ(Infer("aten::argmax", {T("f32[2, 3]"), None(), B(true)}), "i64[1, 1]");
  EXPECT_EQ(Infer("aten::argmax", {T("f16[2, 3]"), I(-1)}), "i64[2]");
  EXPECT_EQ(Infer("aten::argmax", {T("f16[2, s0]"), I(0), B(true)}), "i64[1, s0]");
  EXPECT_EQ(Infer("aten::argmax", {T("f32[]"), I(0), B(true)}), "i64[]");
  EXPECT_EQ(Infer("aten::argmax", {T("f32[s0, 3]")}), "i64[]");
  EXPECT_EQ(Infer("aten::argmax", {T("f32[0, 3]")}),
            "error: argmax: needs a dim for the empty input f32[0, 3]");
  EXPECT_EQ(Infer("aten::argmax", {T("f32[0, 3]"), I(1)}), "i64[0]");
  EXPECT_EQ(Infer("aten::argmax", {T("f32[0, 3]"), I(0)}),
            "error: argmax: cannot reduce dim 0 of size 0 of f32[0, 3] (there is no identity)");
}

TEST_F(FamilyTest, SoftmaxHalfToFloat) {
  EXPECT_EQ(Infer("aten::_softmax", {T("bf16[2, 3]"), I(1), B(true)}), "f32[2, 3]");
  EXPECT_EQ(Infer("aten::_log_softmax", {T("f16[2, 3]"), I(1), B(true)}), "f32[2, 3]");
  EXPECT_EQ(Infer("aten::_log_softmax", {T("bf16[2, 3]"), I(1), B(true)}),
            "error: _log_softmax: half_to_float needs an f16 input, got bf16[2, 3]");
  EXPECT_EQ(Infer("aten::_softmax", {T("f32[2, 3]"), I(1), B(true)}),
            "error: _softmax: half_to_float needs an f16 or bf16 input, got f32[2, 3]");
}

// ---- Squeeze, unsqueeze, slice, select.

TEST_F(FamilyTest, Squeeze) {
  Value* x = T("f32[1, 2, 1]");
  EXPECT_EQ(Infer("aten::squeeze_copy.dim", {x, I(0)}), "f32[2, 1]");
  EXPECT_EQ(Infer("aten::squeeze_copy.dim", {x, I(1)}), "f32[1, 2, 1]");
  EXPECT_EQ(Infer("aten::squeeze_copy.dims", {x, L({0, -1})}), "f32[2]");
  EXPECT_EQ(Infer("aten::squeeze_copy.dims", {x, L({})}), "f32[1, 2, 1]");
  EXPECT_EQ(Infer("aten::squeeze.default", {x}), "f32[2]");
  EXPECT_EQ(Infer("aten::squeeze.default", {T("f32[]")}), "f32[]");
  EXPECT_EQ(Infer("aten::squeeze_copy.dim", {T("f32[]"), I(-1)}), "f32[]");
  // A symbolic dim is never 1 (torch.export specializes 0 and 1).
  EXPECT_EQ(Infer("aten::squeeze_copy.dims", {T("f32[s0, 1]"), L({0, 1})}), "f32[s0]");
  EXPECT_EQ(Infer("aten::squeeze_copy.dims", {x, L({0, -3})}),
            "error: squeeze_copy: dim 0 appears twice in [0, -3]");
  EXPECT_EQ(Infer("aten::squeeze_copy.dim", {x, I(3)}),
            "error: squeeze_copy: dim 3 out of range for rank 3");
}

TEST_F(FamilyTest, Unsqueeze) {
  Value* x = T("f32[2, s0]");
  EXPECT_EQ(Infer("aten::unsqueeze_copy", {x, I(0)}), "f32[1, 2, s0]");
  EXPECT_EQ(Infer("aten::unsqueeze_copy", {x, I(2)}), "f32[2, s0, 1]");
  EXPECT_EQ(Infer("aten::unsqueeze_copy", {x, I(-1)}), "f32[2, s0, 1]");
  EXPECT_EQ(Infer("aten::unsqueeze_copy", {x, I(-3)}), "f32[1, 2, s0]");
  EXPECT_EQ(Infer("aten::unsqueeze_copy", {T("i8[]"), I(0)}), "i8[1]");
  EXPECT_EQ(Infer("aten::unsqueeze_copy", {x, I(3)}),
            "error: unsqueeze_copy: dim 3 out of range for inserting into rank 2");
  EXPECT_EQ(Infer("aten::unsqueeze_copy", {x, I(-4)}),
            "error: unsqueeze_copy: dim -4 out of range for inserting into rank 2");
}

TEST_F(FamilyTest, SliceClampsLikePython) {
  Value* x = T("f32[10, 4]");
  EXPECT_EQ(Infer("aten::slice_copy.Tensor", {x, I(0), I(2), I(8), I(3)}), "f32[2, 4]");
  EXPECT_EQ(Infer("aten::slice_copy.Tensor", {x, I(0), I(-3)}), "f32[3, 4]");
  EXPECT_EQ(Infer("aten::slice_copy.Tensor", {x, I(-1), None(), I(-1)}), "f32[10, 3]");
  EXPECT_EQ(Infer("aten::slice_copy.Tensor", {x, I(0), I(-100), I(100)}), "f32[10, 4]");
  EXPECT_EQ(Infer("aten::slice_copy.Tensor", {x, I(0), I(5), I(2)}), "f32[0, 4]");
  EXPECT_EQ(Infer("aten::slice_copy.Tensor", {x, I(0), I(100)}), "f32[0, 4]");
  EXPECT_EQ(Infer("aten::slice_copy.Tensor", {x, I(1), I(0), I(INT64_MAX), I(3)}), "f32[10, 2]");
  EXPECT_EQ(Infer("aten::slice_copy.Tensor", {x}), "f32[10, 4]");
  EXPECT_EQ(Infer("aten::slice_copy.Tensor", {x, I(0), I(INT64_MIN), I(INT64_MIN)}), "f32[0, 4]");
  EXPECT_EQ(Infer("aten::slice_copy.Tensor", {x, I(0), I(0), I(10), I(0)}),
            "error: slice_copy: step must be positive, got 0");
  EXPECT_EQ(Infer("aten::slice_copy.Tensor", {x, I(2)}), "error: slice_copy: dim 2 out of range for rank 2");
  EXPECT_EQ(Infer("aten::slice_copy.Tensor", {T("f32[]")}), "error: slice_copy: cannot slice a 0-dim tensor");
}

// A slice of a symbolic dim keeps the symbol when it takes the whole dim,
// else gets a symbol named after what it is computed from: the same each
// time (the verifier re-infers it), different for different slices.
TEST_F(FamilyTest, SliceOfASymbolicDim) {
  Value* x = T("f32[s0, 4]");
  EXPECT_EQ(Infer("aten::slice_copy.Tensor", {x, I(0), I(0), None(), I(1)}), "f32[s0, 4]");
  EXPECT_EQ(Infer("aten::slice_copy.Tensor", {x, I(0), I(1)}),
            "f32[slice_s0_1_9223372036854775807_1, 4]");
  EXPECT_EQ(Infer("aten::slice_copy.Tensor", {x, I(0), I(-2), I(INT64_MIN), I(2)}),
            "f32[slice_s0_m2_m9223372036854775808_2, 4]");
  EXPECT_EQ(Infer("aten::slice_copy.Tensor", {x, I(1), I(1), I(3)}), "f32[s0, 2]");
}

TEST_F(FamilyTest, Select) {
  Value* x = T("f32[2, 3, s0]");
  EXPECT_EQ(Infer("aten::select_copy.int", {x, I(1), I(-1)}), "f32[2, s0]");
  EXPECT_EQ(Infer("aten::select_copy.int", {x, I(-1), I(100)}), "f32[2, 3]");
  EXPECT_EQ(Infer("aten::select_copy.int", {T("i64[5]"), I(0), I(4)}), "i64[]");
  EXPECT_EQ(Infer("aten::select_copy.int", {x, I(1), I(3)}),
            "error: select_copy: index 3 out of range for dim 1 of f32[2, 3, s0]");
  EXPECT_EQ(Infer("aten::select_copy.int", {x, I(0), I(-3)}),
            "error: select_copy: index -3 out of range for dim 0 of f32[2, 3, s0]");
  EXPECT_EQ(Infer("aten::select_copy.int", {T("f32[]"), I(0), I(0)}),
            "error: select_copy: cannot select from a 0-dim tensor");
}

// ---- cat: the tensors are operands 0 .. n-2, the dim is the last argument.

TEST_F(FamilyTest, Cat) {
  EXPECT_EQ(Cat({T("f32[2, 3]"), T("f32[4, 3]"), I(0)}), "f32[6, 3]");
  EXPECT_EQ(Cat({T("f32[2, 3]"), T("i64[2, 1]"), I(-1)}), "f32[2, 4]");
  EXPECT_EQ(Cat({T("u8[2]"), T("i8[3]"), T("b8[1]"), I(0)}), "i16[6]");
  EXPECT_EQ(Cat({T("f32[2, 3]"), I(1)}), "f32[2, 3]");
  // A 1-D empty tensor is skipped whatever the others' rank (torch's legacy
  // rule); it still takes part in the dtype.
  EXPECT_EQ(Cat({T("f16[0]"), T("f32[2, 3]"), I(1)}), "f32[2, 3]");
  EXPECT_EQ(Cat({T("i32[0]"), T("i32[0]"), I(0)}), "i32[0]");
  EXPECT_EQ(Cat({T("f32[s0, 3]"), T("f32[2, s1]"), I(0)}), "f32[cat_s0_2, 3]");
  EXPECT_EQ(Cat({T("f32[2, s0]"), T("f32[2, s1]"), T("f32[2, 1]"), I(1)}),
            "f32[2, cat_cat_s0_s1_1]");
  EXPECT_EQ(Cat({T("f32[2, 3]"), T("f32[2, 4]"), I(0)}),
            "error: cat: tensors f32[2, 3] and f32[2, 4] (argument 1) differ in dim 1");
  EXPECT_EQ(Cat({T("f32[2, 3]"), T("f32[3]"), I(0)}),
            "error: cat: tensors f32[2, 3] and f32[3] (argument 1) differ in rank");
  EXPECT_EQ(Cat({T("f32[2]"), T("f32[]"), I(0)}),
            "error: cat: cannot concatenate the 0-dim tensor f32[] (argument 1)");
  EXPECT_EQ(Cat({T("f32[2, 3]"), I(2)}), "error: cat: dim 2 out of range for rank 2");
  EXPECT_EQ(Cat({I(0)}), "error: cat: needs a non-empty list of tensors");
  EXPECT_EQ(Cat({}), "error: cat: needs a non-empty list of tensors");
  EXPECT_EQ(Cat({T("f32[2]"), T("f32[2]"), T("f32[2]")}), "error: cat: the dim must be an int");
  EXPECT_EQ(Cat({T("f32[2]"), I(0), I(0)}), "error: cat: argument 1 is not a tensor");
  EXPECT_EQ(Cat({T("f32[9223372036854775807]"), T("f32[1]"), I(0)}),
            "error: cat: the size of the concatenated dim 0 overflows int64");
}

// ---- quantize / dequantize.

TEST_F(FamilyTest, QuantizeAndDequantize) {
  const Literal* scale = F(0.1);
  EXPECT_EQ(Infer("quantized_decomposed::quantize_per_tensor",
                  {T("f32[2, s0]"), scale, I(0), I(-128), I(127), D(DType::kInt8)}),
            "i8[2, s0]");
  EXPECT_EQ(Infer("quantized_decomposed::quantize_per_tensor",
                  {T("bf16[2]"), scale, I(0), I(0), I(255), D(DType::kUInt8)}),
            "u8[2]");
  EXPECT_EQ(Infer("quantized_decomposed::quantize_per_tensor",
                  {T("f64[2]"), scale, I(0), I(0), I(255), D(DType::kUInt8)}),
            "error: quantize_per_tensor: input must be f32, f16 or bf16, got f64[2]");
  EXPECT_EQ(Infer("quantized_decomposed::dequantize_per_tensor",
                  {T("i8[2, 3]"), scale, I(0), I(-128), I(127), D(DType::kInt8)}),
            "f32[2, 3]");
  EXPECT_EQ(Infer("quantized_decomposed::dequantize_per_tensor",
                  {T("i8[2, 3]"), scale, I(0), I(-128), I(127), D(DType::kInt8),
                   D(DType::kFloat16)}),
            "f16[2, 3]");
  EXPECT_EQ(Infer("quantized_decomposed::dequantize_per_tensor",
                  {T("u8[2]"), scale, I(0), I(-128), I(127), D(DType::kInt8)}),
            "error: dequantize_per_tensor: input u8[2] does not have the quantized dtype i8");
  Value* scales = T("f32[3]");
  Value* zeros = T("i64[3]");
  EXPECT_EQ(Infer("quantized_decomposed::quantize_per_channel",
                  {T("f32[2, 3]"), scales, zeros, I(-1), I(-128), I(127), D(DType::kInt8)}),
            "i8[2, 3]");
  EXPECT_EQ(Infer("quantized_decomposed::quantize_per_channel",
                  {T("f32[2, 3]"), scales, zeros, I(2), I(-128), I(127), D(DType::kInt8)}),
            "error: quantize_per_channel: dim 2 out of range for rank 2");
}

// A family assigned to an op whose parameters are not the ones it reads
// (an op table's mistake) gives an error naming the argument, never a
// crash.
TEST_F(FamilyTest, AFamilyOnAnOpOfAnotherSignatureIsAnError) {
  Def("aten::sum.default", {{"self", K::kTensor}, {"dtype", K::kDType, None(), true}},
      shape::Reduction);
  EXPECT_EQ(Infer("aten::sum.default", {T("f32[2]")}),
            "error: sum: argument 2 (?) must be a bool, got nothing");
  EXPECT_EQ(Infer("aten::sum.default", {T("f32[2]"), D(DType::kFloat16)}),
            "error: sum: argument 1 (dtype) must be an int list or None, got f16");
  Def("aten::weird_slice.default", {{"self", K::kTensor}, {"dim", K::kString}},
      shape::Slice);
  EXPECT_EQ(Infer("aten::weird_slice.default", {T("f32[2]"), S("x")}),
            "error: weird_slice: argument 1 (dim) must be an int, got \"x\"");
  Def("aten::weird_softmax.default", {{"self", K::kTensor}, {"dim", K::kInt}}, shape::Softmax);
  EXPECT_EQ(Infer("aten::weird_softmax.default", {T("f32[2]"), I(0)}),
            "error: weird_softmax: argument 2 (?) must be a bool, got nothing");
  Def("aten::weird_add.default",
      {{"self", K::kOptionalTensor}, {"other", K::kOptionalTensor}}, shape::Elementwise);
  EXPECT_EQ(Infer("aten::weird_add.default", {None(), None()}),
            "error: weird_add: has no tensor or number operand to take a dtype from");
  Def("aten::weird_squeeze.default", {{"self", K::kTensor}, {"dim", K::kTensor}},
      shape::Squeeze);
  EXPECT_EQ(Infer("aten::weird_squeeze.default", {T("f32[2]"), T("f32[2]")}),
            "error: weird_squeeze: argument 1 (dim) must be an int or an int list, got a tensor");
}

}  // namespace
}  // namespace graft
