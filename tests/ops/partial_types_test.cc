// Every op of the catalogue on partial operand types: InferTypes never
// reaches a shape function with an unknown fact, so no family crashes or
// claims a fact it cannot derive; each result is unknown (or, for an op
// returning a list whose length depends on shapes, a clear error).
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "graft/ir/graph.h"
#include "graft/ir/op_call.h"
#include "graft/ops/catalogue.h"

namespace graft {
namespace {

// A literal of `kind` that CheckArgs accepts (any value: the shape function
// is not to be reached), or nullptr for a bool list, which graft's literals
// cannot spell (op_call.h ArgFits).
const Literal* LiteralOfKind(ParamKind kind) {
  switch (kind) {
    case ParamKind::kInt:
      return Literal::Int(0);
    case ParamKind::kInts:
      return Literal::Ints({0});
    case ParamKind::kFloat:
    case ParamKind::kScalar:
      return Literal::Float(1.0);
    case ParamKind::kFloats:
      return Literal::Ints({1});
    case ParamKind::kBool:
      return Literal::Bool(false);
    case ParamKind::kBools:
      return nullptr;
    case ParamKind::kString:
      return Literal::String("none");
    case ParamKind::kDType:
      return Literal::OfDType(DType::kFloat32);
    default:
      return Literal::None();
  }
}

// The one-of-each partial types: nothing known, dtype only, rank only, a
// known rank with an unknown dim.
std::vector<TensorType> PartialTypes() {
  Dim dims[] = {Dim::Unknown(), 3};
  return {TensorType(), TensorType::OfDType(DType::kFloat32),
          TensorType::Get(std::nullopt, std::vector<Dim>{2, 3}),
          TensorType::Get(DType::kFloat32, dims)};
}

TEST(PartialTypesTest, EveryOpOnPartialOperandsGivesUnknownResults) {
  int checked = 0;
  for (uint32_t id = 0; id < Ops().size(); ++id) {
    const OpDef* op = Ops().ById(id);
    const OpSchema* s = op ? op->schema() : nullptr;
    if (!s || !s->shape_fn) continue;
    for (TensorType partial : PartialTypes()) {
      SCOPED_TRACE(absl::StrCat(op->name(), " on ", partial.ToString()));
      Graph g;
      // Every tensor operand partial; a list gets two of them.
      std::vector<Arg> args;
      bool spellable = true;
      for (const Param& p : s->params) {
        if (IsTensorParam(p.kind)) {
          args.push_back(g.AddInput(partial));
        } else if (IsTensorListParam(p.kind)) {
          args.push_back(g.AddInput(partial));
          args.push_back(g.AddInput(partial));
        } else if (const Literal* l = p.default_value ? p.default_value : LiteralOfKind(p.kind)) {
          args.push_back(l);
        } else {
          spellable = false;
        }
      }
      if (!spellable) continue;
      absl::StatusOr<TypeList> types = InferTypes(op, args);
      if (s->num_results == OpSchema::kListResults) {
        ASSERT_FALSE(types.ok());
        EXPECT_NE(types.status().message().find("depends on its operands' shapes"),
                  std::string::npos)
            << types.status();
        continue;
      }
      ASSERT_TRUE(types.ok()) << types.status();
      ASSERT_EQ(static_cast<int>(types->size()), s->num_results);
      for (TensorType t : *types) EXPECT_EQ(t, TensorType());
      ++checked;
    }
  }
  // The catalogue has hundreds of typed ops; a loop that checked none
  // would pass vacuously.
  EXPECT_GT(checked, 400);
}

}  // namespace
}  // namespace graft
