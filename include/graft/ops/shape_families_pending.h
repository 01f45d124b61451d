// Stand-ins for the shape-function families the generated op table names
// but graft::shape does not have yet (they are being written on the
// `shapes` branch). Each is "no shape function": a rule may match these ops
// but not build them. Delete this file when that branch lands; a name
// defined twice there is the reminder.
#ifndef GRAFT_OPS_SHAPE_FAMILIES_PENDING_H_
#define GRAFT_OPS_SHAPE_FAMILIES_PENDING_H_

#include "graft/ir/op.h"

namespace graft {
namespace shape {

inline constexpr ShapeFn UnaryFloat = nullptr;
inline constexpr ShapeFn UnaryBool = nullptr;
inline constexpr ShapeFn Comparison = nullptr;
inline constexpr ShapeFn Where = nullptr;
inline constexpr ShapeFn Reduction = nullptr;
inline constexpr ShapeFn ArgReduction = nullptr;
inline constexpr ShapeFn Squeeze = nullptr;
inline constexpr ShapeFn Unsqueeze = nullptr;
inline constexpr ShapeFn Slice = nullptr;
inline constexpr ShapeFn Select = nullptr;
inline constexpr ShapeFn Cat = nullptr;
inline constexpr ShapeFn Quantize = nullptr;
inline constexpr ShapeFn Dequantize = nullptr;

}  // namespace shape
}  // namespace graft

#endif  // GRAFT_OPS_SHAPE_FAMILIES_PENDING_H_
