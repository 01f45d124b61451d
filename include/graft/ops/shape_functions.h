// Shape and dtype functions of graft's ops, written against ATen's semantics
// (broadcasting and type promotion, -1 in view sizes, matmul's batching
// rules, slicing's clamping), one file per family under graft/ops/shape/.
// This header is the include point; the op table names a function here for
// each op (`graft::shape::Elementwise`).
//
// A shape function sees an OpCall: the op and its arguments, with defaults
// from the schema filled in for trailing arguments the call left out. It
// returns the result types, or an error a person can act on ("mm: operand
// shapes f32[2, 3] and f32[4, 5] do not chain (3 != 4)"). Where torch
// refuses a call, so does its shape function: tests/ops/meta_cases.py
// checks them against torch's meta kernels.
//
// Symbolic dims: two dims are compatible when equal or when either is
// symbolic (torch.export has guarded them); a symbolic dim meeting a static
// one resolves to the static one.
#ifndef GRAFT_OPS_SHAPE_FUNCTIONS_H_
#define GRAFT_OPS_SHAPE_FUNCTIONS_H_

#include "graft/ops/shape/common.h"
#include "graft/ops/shape/conversion.h"
#include "graft/ops/shape/elementwise.h"
#include "graft/ops/shape/layout.h"
#include "graft/ops/shape/linalg.h"
#include "graft/ops/shape/nn.h"
#include "graft/ops/shape/reduction.h"

#endif  // GRAFT_OPS_SHAPE_FUNCTIONS_H_
