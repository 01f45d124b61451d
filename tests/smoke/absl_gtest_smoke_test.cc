// absl (status, str_format, containers, sync, time) and gtest/gmock link
// under C++17 from Debian's packages.
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

static_assert(__cplusplus == 201703L, ".bazelrc should select C++17");

namespace {

absl::StatusOr<int> ParsePositive(int v) {
  if (v <= 0) return absl::InvalidArgumentError(absl::StrFormat("bad %d", v));
  return v;
}

int Sum(absl::Span<const int> xs) {
  int s = 0;
  for (int x : xs) s += x;
  return s;
}

TEST(AbslGtestSmoke, StatusOrAndFormat) {
  ASSERT_TRUE(ParsePositive(3).ok());
  EXPECT_EQ(*ParsePositive(3), 3);
  absl::StatusOr<int> bad = ParsePositive(-1);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), testing::HasSubstr("bad -1"));
}

TEST(AbslGtestSmoke, ContainersSyncTime) {
  absl::flat_hash_map<std::string, int> m = {{"a", 1}, {"b", 2}};
  EXPECT_EQ(m.at("b"), 2);
  absl::InlinedVector<int, 4> v = {1, 2, 3};
  EXPECT_EQ(Sum(v), 6);
  absl::Mutex mu;
  { absl::MutexLock lock(&mu); m["c"] = 3; }
  EXPECT_EQ(m.size(), 3u);
  EXPECT_EQ(absl::ToInt64Milliseconds(absl::Seconds(2)), 2000);
  EXPECT_EQ(absl::StrJoin(std::vector<int>{1, 2}, ","), "1,2");
}

}  // namespace
