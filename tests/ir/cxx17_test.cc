// The core library (every header under include/graft/ except interop/) is
// C++17: this TU is built with -std=c++17 -pedantic-errors and the headers
// on a plain -I path (not -isystem, which would silence their warnings), so
// a C++20 construct or a GNU extension in any of them fails the build.
// all_core_headers.inc is generated from //:graft's headers (BUILD), so a
// new header is covered without being listed here.
#include "tests/ir/all_core_headers.inc"

#include "gtest/gtest.h"

static_assert(__cplusplus == 201703L, "the core headers must build as C++17");

namespace graft {
namespace {

TEST(Cxx17Test, CoreHeadersCompileAsCxx17) {
  // More than the IR alone: ir/ (11), ops/ (3) and the rewriting layers.
  EXPECT_GE(GRAFT_CORE_HEADER_COUNT, 14);
  // Something from each layer is usable from this TU.
  Graph g;
  Value* x = g.AddInput(TensorType::Get(DType::kFloat32, {2}), "x");
  g.AddOutput(x);
  EXPECT_TRUE(Verify(g).ok());
  EXPECT_EQ(Print(g), "graph @main(\n    %x: f32[2]) {\n  return %x\n}\n");
}

}  // namespace
}  // namespace graft
