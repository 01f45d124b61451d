// graft/ir/op.h and graft/ops/catalogue.h: op name canonicalization, the
// registry's interning, OpRegistry::Resolve's spellings and the catalogue's schemas.
#include "graft/ops/catalogue.h"

#include <set>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "graft/ir/op_call.h"

namespace graft {
namespace {

using ::testing::HasSubstr;

TEST(CanonicalizeTest, Spellings) {
  EXPECT_EQ(*OpRegistry::Canonicalize("aten::mm.default"), "aten::mm.default");
  EXPECT_EQ(*OpRegistry::Canonicalize("aten::mm"), "aten::mm.default");
  EXPECT_EQ(*OpRegistry::Canonicalize("aten.mm.default"), "aten::mm.default");
  EXPECT_EQ(*OpRegistry::Canonicalize("aten.mm"), "aten::mm.default");
  EXPECT_EQ(*OpRegistry::Canonicalize("aten::add.Tensor"), "aten::add.Tensor");
  EXPECT_EQ(*OpRegistry::Canonicalize("aten.add.Tensor"), "aten::add.Tensor");
  EXPECT_EQ(*OpRegistry::Canonicalize("aten::transpose.int"), "aten::transpose.int");
  EXPECT_EQ(*OpRegistry::Canonicalize("quantized_decomposed::quantize_per_tensor"),
            "quantized_decomposed::quantize_per_tensor.default");
}

TEST(CanonicalizeTest, Errors) {
  auto no_ns = OpRegistry::Canonicalize("mm");
  ASSERT_FALSE(no_ns.ok());
  EXPECT_EQ(no_ns.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(no_ns.status().message(),
            "op name 'mm' has no namespace (expected 'aten::mm')");
  for (const char* bad : {"::mm", "aten::", "aten::.default", "aten::mm.", "aten::mm.a.b",
                          ".mm", "aten..mm", "a.b.c.d", "aten.", "aten::mm::x",
                          // Parts the text form cannot read back (found by
                          // fuzzing exir JSON: the graph printed, then failed
                          // to parse).
                          "aten::permute_copy).default", "aten.permute_copy).default",
                          "aten::mm.def ault", "my-ns::op", "aten::1mm", "aten::mm.2",
                          "aten::m\xc3\xa9", " aten::mm"}) {
    auto r = OpRegistry::Canonicalize(bad);
    ASSERT_FALSE(r.ok()) << bad << " gave " << *r;
    EXPECT_EQ(r.status().message(), absl::StrCat("malformed op name '", bad, "'"));
  }
}

TEST(OpRegistryTest, InternsWithStableDenseIds) {
  OpRegistry r;
  EXPECT_EQ(r.size(), 0u);
  const OpDef* a = *r.Intern("my::a");
  const OpDef* b = *r.Intern("my.b.v2");
  EXPECT_EQ(a->id(), 0u);
  EXPECT_EQ(b->id(), 1u);
  EXPECT_EQ(r.size(), 2u);
  // Every spelling of a name is the same op.
  EXPECT_EQ(*r.Intern("my::a.default"), a);
  EXPECT_EQ(*r.Intern("my.a"), a);
  EXPECT_EQ(*r.Intern("my::b.v2"), b);
  EXPECT_EQ(r.size(), 2u);
  EXPECT_EQ(r.ById(0), a);
  EXPECT_EQ(r.ById(1), b);
  EXPECT_EQ(r.Find("my::a"), a);
  EXPECT_EQ(r.Find("my::c"), nullptr);
  EXPECT_EQ(r.Find("garbage"), nullptr);
  EXPECT_EQ(a->schema(), nullptr);
  EXPECT_FALSE(r.Intern("::").ok());
}

TEST(OpRegistryTest, NameParts) {
  OpRegistry r;
  const OpDef* op = *r.Intern("quantized_decomposed.dequantize_per_tensor.tensor");
  EXPECT_EQ(op->name(), "quantized_decomposed::dequantize_per_tensor.tensor");
  EXPECT_EQ(op->ns(), "quantized_decomposed");
  EXPECT_EQ(op->base_name(), "dequantize_per_tensor");
  EXPECT_EQ(op->overload(), "tensor");
  const OpDef* mm = ops::mm();
  EXPECT_EQ(mm->ns(), "aten");
  EXPECT_EQ(mm->base_name(), "mm");
  EXPECT_EQ(mm->overload(), "default");
}

TEST(OpRegistryTest, RegisteringAnOpaqueOpKeepsItsId) {
  OpRegistry r;
  ASSERT_TRUE(r.Intern("x::first").ok());
  const OpDef* opaque = *r.Intern("x::later");
  uint32_t id = opaque->id();
  ASSERT_EQ(opaque->schema(), nullptr);
  OpSchema schema;
  schema.params = {{"self", ParamKind::kTensor}};
  schema.shape_fn = shape::SameAsInput;
  const OpDef* registered = r.Register("x::later.default", std::move(schema));
  EXPECT_EQ(registered, opaque);
  EXPECT_EQ(registered->id(), id);
  ASSERT_NE(registered->schema(), nullptr);
  EXPECT_EQ(registered->schema()->params.size(), 1u);
  EXPECT_EQ(r.size(), 2u);
}

TEST(OpRegistryTest, NumRequired) {
  EXPECT_EQ(ops::mm()->schema()->num_required(), 2);
  EXPECT_EQ(ops::add()->schema()->num_required(), 2);      // alpha defaults
  EXPECT_EQ(ops::linear()->schema()->num_required(), 2);   // bias is optional
  EXPECT_EQ(ops::addmm()->schema()->num_required(), 3);
  EXPECT_EQ(ops::_to_copy()->schema()->num_required(), 1);
  EXPECT_EQ(ops::_softmax()->schema()->num_required(), 3);
  EXPECT_EQ(ops::native_layer_norm()->schema()->num_required(), 5);
  EXPECT_EQ(ops::convolution()->schema()->num_required(), 9);
  EXPECT_EQ(ops::embedding()->schema()->num_required(), 2);
}

TEST(CatalogueTest, ResolveQualifiedSpellings) {
  const OpDef* mm = ops::mm();
  EXPECT_EQ(*Ops().Resolve("aten.mm.default"), mm);
  EXPECT_EQ(*Ops().Resolve("aten::mm"), mm);
  EXPECT_EQ(*Ops().Resolve("aten::mm.default"), mm);
  EXPECT_EQ(*Ops().Resolve("aten.mm"), mm);
  EXPECT_EQ(*Ops().Resolve("aten.add.Tensor"), ops::add());
  EXPECT_EQ(*Ops().Resolve("aten.permute_copy.default"), ops::permute_copy());
  EXPECT_EQ(*Ops().Resolve("aten::transpose.int"), ops::transpose_int());
  EXPECT_EQ(*Ops().Resolve("aten.transpose_copy.int"), ops::transpose_copy());
}

TEST(CatalogueTest, UnknownShortNameIsAnError) {
  for (const char* name : {"frobnicate", "transpose", "Mm", "add_"}) {
    auto op = Ops().Resolve(name);
    ASSERT_FALSE(op.ok()) << name;
    EXPECT_EQ(op.status().code(), absl::StatusCode::kNotFound);
    EXPECT_EQ(op.status().message(),
              absl::StrCat("unknown op '", name,
                           "' (not in the catalogue; write a qualified name such as 'aten::",
                           name, ".default' for an op outside it)"));
  }
}

TEST(CatalogueTest, MalformedQualifiedNameIsAnError) {
  auto op = Ops().Resolve("aten::mm.a.b");
  ASSERT_FALSE(op.ok());
  EXPECT_EQ(op.status().message(), "malformed op name 'aten::mm.a.b'");
}

TEST(CatalogueTest, OpaqueOpsInternWithStableIds) {
  size_t before = Ops().size();
  auto a = Ops().Resolve("my_backend::fused_gemm.out");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ((*a)->schema(), nullptr);
  EXPECT_EQ((*a)->name(), "my_backend::fused_gemm.out");
  EXPECT_EQ(Ops().size(), before + 1);
  EXPECT_EQ((*a)->id(), before);
  EXPECT_EQ(Ops().ById((*a)->id()), *a);
  // Again, in the other spelling: the same op, no new id.
  auto again = Ops().Resolve("my_backend.fused_gemm.out");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *a);
  EXPECT_EQ(Ops().size(), before + 1);
  // An unknown overload of a catalogue op is its own (opaque) op.
  auto mm_out = Ops().Resolve("aten::mm.out");
  ASSERT_TRUE(mm_out.ok());
  EXPECT_NE(*mm_out, ops::mm());
  EXPECT_EQ((*mm_out)->schema(), nullptr);
}

// Every op of the generated table: registered with a schema, reachable by
// its canonical name, its short name (the ops:: accessor's name), and the
// TorchScript (`aten::mm`) and Python (`aten.mm.default`) spellings.
TEST(CatalogueTest, EveryTableOpResolvesInEverySpelling) {
  struct Entry {
    const char* short_name;
    const char* name;
    const OpDef* accessor;
  };
#define GRAFT_TEST_ENTRY(short_name, name, shape_fn, num_results, flags, params) \
  {#short_name, name, ops::short_name()},
  const Entry table[] = {GRAFT_OPSET(GRAFT_TEST_ENTRY)};
#undef GRAFT_TEST_ENTRY
  std::set<const OpDef*> distinct;
  for (const Entry& e : table) {
    SCOPED_TRACE(e.name);
    const OpDef* op = Ops().Find(e.name);
    ASSERT_NE(op, nullptr);
    ASSERT_NE(op->schema(), nullptr);
    EXPECT_EQ(e.accessor, op);
    EXPECT_EQ(*Ops().Resolve(e.short_name), op);
    EXPECT_EQ(*Ops().Resolve(absl::StrCat(op->ns(), ".", op->base_name(), ".", op->overload())), op);
    if (op->overload() == "default") {
      EXPECT_EQ(*Ops().Resolve(absl::StrCat(op->ns(), "::", op->base_name())), op);
    }
    EXPECT_EQ(Ops().ById(op->id()), op);
    // At most one tensor list, and the schema knows which parameter it is.
    int lists = 0;
    for (size_t i = 0; i < op->schema()->params.size(); ++i) {
      if (IsTensorListParam(op->schema()->params[i].kind)) {
        ++lists;
        EXPECT_EQ(op->schema()->list_param, static_cast<int>(i));
      }
    }
    EXPECT_LE(lists, 1);
    if (lists == 0) {
      EXPECT_EQ(op->schema()->list_param, -1);
    }
    distinct.insert(op);
  }
  EXPECT_EQ(distinct.size(), sizeof(table) / sizeof(table[0]));
  // The table covers Core ATen (189 overloads in torch 2.13), their edge
  // forms and the quantized ops; a much smaller table means a broken
  // generator.
  EXPECT_GT(distinct.size(), 250u);
}

TEST(CatalogueTest, RenamedOpsKeepTheirAtenNames) {
  EXPECT_EQ(ops::transpose_int()->name(), "aten::transpose.int");
  EXPECT_EQ(ops::_softmax()->name(), "aten::_softmax.default");
  EXPECT_EQ(ops::_to_copy()->name(), "aten::_to_copy.default");
  EXPECT_EQ(ops::add_Scalar()->name(), "aten::add.Scalar");
  EXPECT_EQ(ops::where_self()->name(), "aten::where.self");
  EXPECT_EQ(ops::quantize_per_tensor()->name(),
            "quantized_decomposed::quantize_per_tensor.default");
  EXPECT_EQ(ops::quantized_decomposed_add()->name(), "quantized_decomposed::add.default");
  // A rule-language word (`transpose`, `where`) or a matcher name (`any`)
  // is not a short name.
  for (const char* reserved : {"transpose", "where", "any", "alias"})
    EXPECT_FALSE(Ops().Resolve(reserved).ok()) << reserved;
}

TEST(CatalogueTest, ShapeFunctionsWhereTheTableNamesThem) {
  for (const OpDef* op : {ops::mm(), ops::add(), ops::relu(), ops::hardtanh(), ops::silu(),
                          ops::clamp(), ops::view_copy(), ops::_softmax()})
    EXPECT_NE(op->schema()->shape_fn, nullptr) << op->name();
  // An op graft cannot type: matchable, not buildable.
  EXPECT_EQ(ops::nonzero()->schema()->shape_fn, nullptr);
}

TEST(CatalogueTest, MutationAndListsComeFromTheSchemas) {
  EXPECT_TRUE(ops::resize_()->schema()->mutates);
  EXPECT_FALSE(ops::add()->schema()->mutates);
  const OpSchema& cat = *ops::cat()->schema();
  EXPECT_EQ(cat.list_param, 0);
  EXPECT_EQ(cat.params[0].kind, ParamKind::kTensorList);
  EXPECT_EQ(ops::index()->schema()->params[1].kind, ParamKind::kOptionalTensorList);
  EXPECT_EQ(ops::split_with_sizes_copy()->schema()->num_results, OpSchema::kListResults);
  // A run of operands: cat(a, b, c, dim) has the list at 0..2 and dim at 3.
  EXPECT_EQ(cat.ListRun(4).first, 0);
  EXPECT_EQ(cat.ListRun(4).count, 3);
  EXPECT_EQ(cat.ArgIndex(1, 4), 3);
}

TEST(CatalogueTest, CheckArgsIndexesAroundTheListRun) {
  Graph g;
  Value* a = g.AddInput(TensorType::Get(DType::kFloat32, {2, 3}), "a");
  Value* b = g.AddInput(TensorType::Get(DType::kFloat32, {2, 3}), "b");
  EXPECT_TRUE(CheckArgs(ops::cat(), {a, b, Literal::Int(1)}).ok());
  EXPECT_TRUE(CheckArgs(ops::cat(), {a, Literal::Int(0)}).ok());
  // dim is explicit in a node of a list op.
  auto missing = CheckArgs(ops::cat(), {});
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.message()), HasSubstr("non-list arguments"));
  auto bad = CheckArgs(ops::cat(), {a, Literal::Int(1), Literal::Int(0)});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.message(),
            "aten::cat.default argument 1 (tensors element) expects Tensor[], got 1");
  auto not_int = CheckArgs(ops::cat(), {a, b, b});
  ASSERT_FALSE(not_int.ok());
  EXPECT_EQ(not_int.message(), "aten::cat.default argument 2 (dim) expects int, got a tensor");
  // index.Tensor's Tensor?[] takes None elements.
  EXPECT_TRUE(CheckArgs(ops::index(), {a, Literal::None(), b}).ok());
  // OpCall sees parameters: list() is the run, arg(1) the dim after it.
  Arg args[] = {a, b, Literal::Int(1)};
  OpCall call(ops::cat(), args);
  EXPECT_EQ(call.list().size(), 2u);
  EXPECT_EQ(call.int_arg(1), 1);
  EXPECT_TRUE(call.arg(0).is_null());
}

TEST(CatalogueTest, SchemaDetails) {
  EXPECT_TRUE(ops::add()->schema()->commutative);
  EXPECT_TRUE(ops::mul()->schema()->commutative);
  EXPECT_FALSE(ops::sub()->schema()->commutative);
  EXPECT_FALSE(ops::div()->schema()->commutative);
  EXPECT_FALSE(ops::mm()->schema()->commutative);
  EXPECT_EQ(ops::native_layer_norm()->schema()->num_results, 3);
  EXPECT_EQ(ops::mm()->schema()->num_results, 1);
  const OpSchema& addmm = *ops::addmm()->schema();
  ASSERT_EQ(addmm.params.size(), 5u);
  EXPECT_EQ(addmm.params[0].name, "self");
  EXPECT_EQ(addmm.params[1].name, "mat1");
  EXPECT_EQ(addmm.params[2].name, "mat2");
  EXPECT_EQ(addmm.params[3].name, "beta");
  EXPECT_EQ(addmm.params[3].default_value, Literal::Int(1));
  const OpSchema& linear = *ops::linear()->schema();
  ASSERT_EQ(linear.params.size(), 3u);
  EXPECT_EQ(linear.params[2].kind, ParamKind::kOptionalTensor);
  const OpSchema& gelu = *ops::gelu()->schema();
  EXPECT_EQ(gelu.params[1].default_value, Literal::String("none"));
  const OpSchema& embedding = *ops::embedding()->schema();
  EXPECT_EQ(embedding.params[2].default_value, Literal::Int(-1));
  EXPECT_EQ(ParamKindName(ParamKind::kInts), "int[]");
  EXPECT_EQ(ParamKindName(ParamKind::kOptionalTensor), "Tensor?");
}

TEST(CatalogueTest, ArgFits) {
  Param tensor{"self", ParamKind::kTensor};
  Param opt_tensor{"bias", ParamKind::kOptionalTensor};
  Param scalar{"alpha", ParamKind::kScalar, Literal::Int(1)};
  Param flt{"eps", ParamKind::kFloat};
  Param opt_dtype{"dtype", ParamKind::kDType, Literal::None(), true};
  Param any{"layout", ParamKind::kAny, Literal::None(), true};
  Graph g;
  Value* v = g.AddInput(TensorType::Get(DType::kFloat32, {1}));
  EXPECT_TRUE(ArgFits(tensor, v));
  EXPECT_FALSE(ArgFits(tensor, Literal::None()));
  EXPECT_FALSE(ArgFits(tensor, Arg()));
  EXPECT_TRUE(ArgFits(opt_tensor, v));
  EXPECT_TRUE(ArgFits(opt_tensor, Literal::None()));
  EXPECT_FALSE(ArgFits(opt_tensor, Literal::Int(0)));
  EXPECT_TRUE(ArgFits(scalar, Literal::Int(2)));
  EXPECT_TRUE(ArgFits(scalar, Literal::Float(0.5)));
  EXPECT_TRUE(ArgFits(scalar, Literal::Bool(true)));
  EXPECT_FALSE(ArgFits(scalar, Literal::None()));
  EXPECT_FALSE(ArgFits(scalar, v));
  EXPECT_TRUE(ArgFits(flt, Literal::Int(0)));  // Python ints pass for floats
  EXPECT_FALSE(ArgFits(flt, Literal::Bool(false)));
  EXPECT_TRUE(ArgFits(opt_dtype, Literal::OfDType(DType::kFloat16)));
  EXPECT_TRUE(ArgFits(opt_dtype, Literal::None()));
  EXPECT_FALSE(ArgFits(opt_dtype, Literal::String("f16")));
  EXPECT_TRUE(ArgFits(any, Literal::String("cpu")));
  EXPECT_FALSE(ArgFits(any, v));
}

TEST(CatalogueTest, InferTypesOfAnOpaqueOpIsAnError) {
  const OpDef* op = *Ops().Resolve("vendor::thing");
  auto r = InferTypes(op, {});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("vendor::thing.default is not in the catalogue"));
  EXPECT_TRUE(CheckArgs(op, {}).ok());  // nothing to check against
}

}  // namespace
}  // namespace graft
