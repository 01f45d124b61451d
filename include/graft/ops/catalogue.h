// The op catalogue: every op of the generated table graft/ops/opset.h
// (Core ATen, the edge dialect's _copy forms, quantized_decomposed,
// dim_order_ops, and the spellings graft's importers meet), registered into
// the process-wide OpRegistry on first use of graft::Ops(), each under its
// canonical name and its one short name.
//
// Schemas follow the registered torch schemas: parameter order, defaults and
// kinds; keyword-only parameters are positional here, in schema order. Ops
// not in the table stay representable as opaque ops.
//
// Registration builds the schemas from compiled-in aggregates, no schema
// text is parsed at run time.
#ifndef GRAFT_OPS_CATALOGUE_H_
#define GRAFT_OPS_CATALOGUE_H_

#include <limits>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "graft/ir/op.h"
#include "graft/ops/opset.h"
#include "graft/ops/shape_functions.h"

namespace graft {

namespace catalogue_internal {

enum OpFlags : int { kCommutative = 1, kMutates = 2 };

// Strips the parentheses around an opset entry's parameter list.
#define GRAFT_OPSET_PARAMS(...) __VA_ARGS__

inline OpRegistry* NewCatalogueRegistry() {
  using K = ParamKind;
  auto* registry = new OpRegistry;
  auto add = [registry](absl::string_view short_name, absl::string_view name, ShapeFn shape_fn,
                        int num_results, int flags, std::vector<Param> params) {
    OpSchema schema;
    schema.params = std::move(params);
    schema.num_results = num_results;
    schema.commutative = flags & kCommutative;
    schema.mutates = flags & kMutates;
    schema.shape_fn = shape_fn;
    registry->AddAlias(short_name, registry->Register(name, std::move(schema)));
  };
#define GRAFT_REGISTER_OP(short_name, name, shape_fn, num_results, flags, params) \
  add(#short_name, name, shape_fn, num_results, flags, {GRAFT_OPSET_PARAMS params});
  GRAFT_OPSET(GRAFT_REGISTER_OP)
#undef GRAFT_REGISTER_OP
  return registry;
}

}  // namespace catalogue_internal

// The process-wide op registry, with the catalogue registered: op names
// resolve through it (`Ops().Resolve("mm")`), and parsers and builders are
// given it.
inline OpRegistry& Ops() {
  static OpRegistry* registry = catalogue_internal::NewCatalogueRegistry();
  return *registry;
}

// One accessor per catalogue op, named by its short name: `ops::mm()`,
// `ops::_softmax()`, `ops::transpose_int()`. Each resolves once.
namespace ops {
#define GRAFT_OP_ACCESSOR(short_name, name, shape_fn, num_results, flags, params) \
  inline const OpDef* short_name() {                                              \
    static const OpDef* const op = Ops().Find(name);                              \
    return op;                                                                    \
  }
GRAFT_OPSET(GRAFT_OP_ACCESSOR)
#undef GRAFT_OP_ACCESSOR
}  // namespace ops

#undef GRAFT_OPSET_PARAMS

}  // namespace graft

#endif  // GRAFT_OPS_CATALOGUE_H_
