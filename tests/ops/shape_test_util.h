// What the shape-function tests share: inputs written as graft types, and
// inferred result types read back as text.
#ifndef GRAFT_TESTS_OPS_SHAPE_TEST_UTIL_H_
#define GRAFT_TESTS_OPS_SHAPE_TEST_UTIL_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "graft/ir/graph.h"
#include "graft/ir/op_call.h"
#include "graft/ir/parser.h"

namespace graft {
namespace testing_util {

// A new input of `g` of type `type`, written as in graft's text: "f32[s0, 3]".
inline Value* TypedInput(Graph& g, absl::string_view type) {
  TokenCursor in(type, "type");
  auto t = ParseType(in);
  EXPECT_TRUE(t.ok()) << t.status();
  return g.AddInput(t.ok() ? *t : TensorType());
}

// The result types joined by ", ", or "error: <message>".
inline std::string TypesOrError(const absl::StatusOr<TypeList>& types) {
  if (!types.ok()) return absl::StrCat("error: ", types.status().message());
  return absl::StrJoin(*types, ", ",
                       [](std::string* out, TensorType t) { out->append(t.ToString()); });
}

}  // namespace testing_util
}  // namespace graft

#endif  // GRAFT_TESTS_OPS_SHAPE_TEST_UTIL_H_
