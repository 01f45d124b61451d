// Checked int64 arithmetic for numbers a user controls (sizes in shape
// functions, constraint arithmetic, literals and sizes read from files).
// Each returns std::nullopt where the mathematical result does not fit in
// int64 or is undefined (division by zero, INT64_MIN / -1), so a caller
// turns overflow into an error or an "unknown" and never into a wrapped
// value.
#ifndef GRAFT_IR_CHECKED_MATH_H_
#define GRAFT_IR_CHECKED_MATH_H_

#include <cstdint>
#include <limits>
#include <optional>

namespace graft {

inline std::optional<int64_t> CheckedAdd(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

inline std::optional<int64_t> CheckedSub(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r)) return std::nullopt;
  return r;
}

inline std::optional<int64_t> CheckedMul(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

// Truncating division, as C++ and TorchScript's integer `/` on ints.
inline std::optional<int64_t> CheckedDiv(int64_t a, int64_t b) {
  if (b == 0 || (a == std::numeric_limits<int64_t>::min() && b == -1)) return std::nullopt;
  return a / b;
}

// Remainder with the sign of the dividend (C++ `%`).
inline std::optional<int64_t> CheckedMod(int64_t a, int64_t b) {
  if (b == 0) return std::nullopt;
  if (b == -1) return 0;  // INT64_MIN % -1 traps on x86
  return a % b;
}

// Division rounding toward negative infinity (Python's `//`, used by shape
// formulas such as convolution's output size).
inline std::optional<int64_t> CheckedFloorDiv(int64_t a, int64_t b) {
  std::optional<int64_t> q = CheckedDiv(a, b);
  if (!q) return std::nullopt;
  if ((a % b != 0) && ((a < 0) != (b < 0))) return *q - 1;  // *q > INT64_MIN here
  return q;
}

// Chains of checked operations read better with these: each propagates
// nullopt from either operand.
inline std::optional<int64_t> CheckedAdd(std::optional<int64_t> a, std::optional<int64_t> b) {
  return a && b ? CheckedAdd(*a, *b) : std::nullopt;
}
inline std::optional<int64_t> CheckedSub(std::optional<int64_t> a, std::optional<int64_t> b) {
  return a && b ? CheckedSub(*a, *b) : std::nullopt;
}
inline std::optional<int64_t> CheckedMul(std::optional<int64_t> a, std::optional<int64_t> b) {
  return a && b ? CheckedMul(*a, *b) : std::nullopt;
}
inline std::optional<int64_t> CheckedDiv(std::optional<int64_t> a, std::optional<int64_t> b) {
  return a && b ? CheckedDiv(*a, *b) : std::nullopt;
}
inline std::optional<int64_t> CheckedFloorDiv(std::optional<int64_t> a, std::optional<int64_t> b) {
  return a && b ? CheckedFloorDiv(*a, *b) : std::nullopt;
}

}  // namespace graft

#endif  // GRAFT_IR_CHECKED_MATH_H_
