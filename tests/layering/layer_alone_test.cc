// Compiles one layer's headers and those of the layers below it, with only
// that layer's target as a dependency (see BUILD): a header that includes a
// layer its target does not depend on is not in the sandbox, and this TU
// fails to build.
#include GRAFT_LAYER_HEADERS

#include "gtest/gtest.h"

TEST(LayerAloneTest, HeadersBuildFromTheLayerTargetAlone) {
  // The generated list is not empty: the layer and the ones below it.
  EXPECT_GE(GRAFT_CORE_HEADER_COUNT, 1);
}
