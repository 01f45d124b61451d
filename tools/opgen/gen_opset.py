#!/usr/bin/env python3
"""Writes include/graft/ops/opset.h, graft's one table of ops.

Reads the op schemas that torch and executorch register and emits one
X-macro, GRAFT_OPSET(X), with an entry X(...) per op (see the header this
script writes). Everything else that
lists ops (the catalogue, graft::ops accessors, the m:: factories, rule-file
names) expands this table. Output is deterministic and sorted by canonical
name.

    python tools/opgen/gen_opset.py > include/graft/ops/opset.h
    python tools/opgen/gen_opset.py --check include/graft/ops/opset.h
"""

import argparse
import difflib
import math
import re
import sys
import warnings

REGENERATE = "python tools/opgen/gen_opset.py > include/graft/ops/opset.h"

# Spellings graft's importers meet outside Core ATen: TorchScript's ATen
# (what torch.jit.trace records) and torch.export's pre-dispatch ATen. Kept
# short: each is an op a rule may plausibly want to name.
IMPORTER_SPELLINGS = [
    "aten::baddbmm.default", "aten::contiguous.default", "aten::conv1d.default",
    "aten::conv2d.default", "aten::dropout.default", "aten::einsum.default",
    "aten::expand.default", "aten::flatten.using_ints", "aten::hardsigmoid.default",
    "aten::hardswish.default", "aten::layer_norm.default", "aten::linear.default",
    "aten::log_softmax.int", "aten::mT.default", "aten::matmul.default",
    "aten::movedim.int", "aten::numpy_T.default", "aten::permute.default",
    "aten::relu6.default", "aten::reshape.default", "aten::scaled_dot_product_attention.default",
    "aten::silu.default", "aten::softmax.int", "aten::swapaxes.default", "aten::t.default",
    "aten::transpose.int", "aten::view.default", "aten::detach.default",
    # The other spellings of a 2-D transpose (graft's `transpose` pattern)
    # and of a cast, as tracing and export write them.
    "aten::adjoint.default", "aten::mH.default", "aten::matrix_H.default",
    "aten::moveaxis.int", "aten::swapdims.default", "aten::to.dtype",
]

# Operands 0 and 1 may swap (when every other argument is at its default).
COMMUTATIVE = {
    "aten::add.Tensor", "aten::mul.Tensor", "aten::maximum.default", "aten::minimum.default",
    "aten::eq.Tensor", "aten::ne.Tensor", "aten::logical_and.default",
    "aten::logical_or.default", "aten::logical_xor.default", "aten::bitwise_and.Tensor",
    "aten::bitwise_or.Tensor", "aten::bitwise_xor.Tensor",
}

# Shape-function families (functions in graft::shape) for ops that the
# pointwise probe below cannot classify. None: graft cannot type the op, so
# a rule may match it but not build it.
FAMILIES = {
    "aten::mm.default": "Mm", "aten::bmm.default": "Bmm", "aten::addmm.default": "Addmm",
    "aten::linear.default": "Linear", "aten::matmul.default": "Matmul",
    "aten::convolution.default": "Convolution",
    "aten::permute.default": "Permute", "aten::permute_copy.default": "Permute",
    "aten::t.default": "T", "aten::t_copy.default": "T",
    "aten::transpose.int": "Transpose", "aten::transpose_copy.int": "Transpose",
    "aten::view.default": "View", "aten::view_copy.default": "View",
    "aten::reshape.default": "View",
    "aten::expand.default": "Expand", "aten::expand_copy.default": "Expand",
    "aten::squeeze.dim": "Squeeze", "aten::squeeze.dims": "Squeeze",
    "aten::squeeze_copy.dim": "Squeeze", "aten::squeeze_copy.dims": "Squeeze",
    "aten::unsqueeze.default": "Unsqueeze", "aten::unsqueeze_copy.default": "Unsqueeze",
    "aten::slice.Tensor": "Slice", "aten::slice_copy.Tensor": "Slice",
    "aten::select.int": "Select", "aten::select_copy.int": "Select",
    "aten::cat.default": "Cat",
    "aten::_softmax.default": "Softmax", "aten::_log_softmax.default": "Softmax",
    "aten::native_layer_norm.default": "NativeLayerNorm",
    "aten::embedding.default": "Embedding",
    "aten::_to_copy.default": "ToCopy", "aten::to.dtype": "ToCopy",
    "aten::clone.default": "SameAsInput", "aten::alias.default": "SameAsInput",
    "aten::alias_copy.default": "SameAsInput", "aten::detach.default": "SameAsInput",
    "aten::contiguous.default": "SameAsInput", "aten::dropout.default": "SameAsInput",
    "aten::fill.Scalar": "SameAsInput", "aten::detach_copy.default": "SameAsInput",
    "aten::hardswish.default": "SameAsInput", "aten::clamp.default": "SameAsInput",
    "dim_order_ops::_clone_dim_order.default": "SameAsInput",
    "dim_order_ops::_to_dim_order_copy.default": "ToCopy",
    "aten::where.self": "Where",
    "aten::sum.dim_IntList": "Reduction", "aten::mean.dim": "Reduction",
    "aten::amax.default": "Reduction", "aten::amin.default": "Reduction",
    "aten::argmax.default": "ArgReduction", "aten::argmin.default": "ArgReduction",
    "quantized_decomposed::quantize_per_tensor.default": "Quantize",
    "quantized_decomposed::quantize_per_tensor.tensor": "Quantize",
    "quantized_decomposed::quantize_per_channel.default": "Quantize",
    "quantized_decomposed::dequantize_per_tensor.default": "Dequantize",
    "quantized_decomposed::dequantize_per_tensor.tensor": "Dequantize",
    "quantized_decomposed::dequantize_per_channel.default": "Dequantize",
    # Divide reads rounding_mode: true division without one, the operands'
    # promoted dtype with "floor" or "trunc".
    "aten::div.Tensor_mode": "Divide", "aten::div.Scalar_mode": "Divide",
}

# Names a short name may not take: the rule language's words (rules/parser.h,
# rules/compiler.h), its literal words and dtype names, graft::match's own
# factories (m::any, m::where, ...), and C++ keywords.
RESERVED = set("""
rule alias include where and benefit allow_duplicate one_use rank dim numel dtype shape
const param buffer input transpose True False None true false inf nan
float half double long int bool u8 i8 i16 i32 i64 f16 f32 f64 c32 c64 c128 b8 qi8 qu8 qi32
bf16 f8e5m2 f8e4m3fn u16 uint8 int8 int16 int32 int64 float16 float32 float64 complex32
complex64 complex128 qint8 quint8 qint32 bfloat16 float8_e5m2 float8_e4m3fn uint16
any lit i ints f none constant bind has_rank has_dtype has_shape computed op list
alignas alignof and_eq asm auto bitand bitor break case catch char class compl concept
continue default delete do else enum explicit export extern for friend goto if inline
mutable namespace new noexcept not not_eq nullptr operator or or_eq private protected
public register return short signed sizeof static struct switch template this throw try
typedef typeid typename union unsigned using virtual void volatile while xor xor_eq
""".split())

# The overload whose op takes the bare short name when a base has several:
# `default`, then ATen's tensor-tensor form `Tensor`; a base with a single
# selected overload gives it the bare name whatever it is called.
PRIMARY_OVERLOADS = ("default", "Tensor")

KINDS = {
    "Tensor": "kTensor", "Tensor?": "kOptionalTensor", "Tensor[]": "kTensorList",
    "Tensor?[]": "kOptionalTensorList",
    "int": "kInt", "SymInt": "kInt", "int[]": "kInts", "SymInt[]": "kInts",
    "float": "kFloat", "float[]": "kFloats", "bool": "kBool", "bool[]": "kBools",
    "Scalar": "kScalar", "str": "kString", "ScalarType": "kDType",
    "Layout": "kAny", "Device": "kAny", "MemoryFormat": "kAny", "Generator": "kAny",
}
MEMORY_FORMATS = {"contiguous_format", "channels_last", "channels_last_3d", "preserve_format"}


def load_torch():
    warnings.filterwarnings("ignore")
    import logging
    logging.disable(logging.WARNING)
    import torch
    import torch.ao.quantization.fx._decomposed  # noqa: F401  registers quantized_decomposed
    from importlib.metadata import version
    from executorch.exir.passes import dim_order_ops_registry  # noqa: F401  dim_order_ops
    return torch, version("executorch")


class Skip(Exception):
    pass


def kind_of(t):
    """(ParamKind, optional) for a torchgen type, or Skip."""
    s = str(t)
    optional = s.endswith("?")
    base = s[:-1] if optional else s
    # int[2] and SymInt[1]: a fixed-size list is still a list.
    if base.endswith("]") and base[base.rindex("[") + 1:-1].isdigit():
        base = base[:base.rindex("[")] + "[]"
    if base not in KINDS:
        raise Skip("parameter type " + s)
    kind = KINDS[base]
    if optional and kind == "kTensor":
        return "kOptionalTensor", False
    if optional and kind in ("kTensorList", "kOptionalTensorList"):
        raise Skip("optional tensor list")
    return kind, optional


def default_of(a, kind):
    """C++ expression of the default literal, or 'nullptr'."""
    d = a.default
    if d is None:
        return "nullptr"
    if d == "None":
        return "Literal::None()"
    if d in ("True", "False"):
        return "Literal::Bool(%s)" % d.lower()
    if kind == "kString":
        return "Literal::String(%s)" % d.replace("'", '"')
    if d in MEMORY_FORMATS:
        return 'Literal::String("torch.%s")' % d
    if d == "strided":
        return 'Literal::String("torch.strided")'
    if d.startswith("["):
        items = [x.strip() for x in d[1:-1].split(",") if x.strip()]
        if kind == "kInts":
            return "Literal::Ints({%s})" % ", ".join(str(int(x)) for x in items)
        raise Skip("list default %s" % d)
    if kind == "kInts":  # `int[2] stride=1`: one value for every element
        n = int(str(a.type).split("[")[1].rstrip("]?"))
        return "Literal::Ints({%s})" % ", ".join([str(int(d))] * n)
    try:
        return "Literal::Int(%d)" % int(d)
    except ValueError:
        pass
    v = float(d)
    if math.isinf(v):
        return "Literal::Float(%sstd::numeric_limits<double>::infinity())" % ("-" if v < 0 else "")
    return "Literal::Float(%r)" % v


def probe_pointwise(torch, op, params):
    """Family of a pointwise op, told by what its meta kernel makes of int32
    inputs: unary ops by whether int32 stays int32, becomes float or bool;
    binary ops (Tensor, Tensor|Scalar) by the result of int32 with int32 and
    of int32 with a float Scalar."""
    required = [p for p in params if p["default"] == "nullptr" and p["kind"] != "kOptionalTensor"]
    kinds = [p["kind"] for p in required]

    def run(*args):
        try:
            return op(*args).dtype
        except Exception:
            return None

    def t(dtype):
        return torch.ones(2, 3, dtype=dtype, device="meta")

    if kinds == ["kTensor"]:
        r = run(t(torch.int32))
        if r is None:
            return "SameAsInput" if run(t(torch.float32)) == torch.float32 else None
        return {torch.int32: "SameAsInput", torch.bool: "UnaryBool"}.get(
            r, "UnaryFloat" if r.is_floating_point else None)
    if len(kinds) == 2 and kinds[0] == "kTensor" and kinds[1] in ("kTensor", "kScalar"):
        second = t(torch.int32) if kinds[1] == "kTensor" else 2
        r1 = run(t(torch.int32), second)
        r2 = run(t(torch.int32), 2.5)
        if r1 is None:
            return None
        if r1 == torch.bool:
            return "Comparison"
        if r1.is_floating_point:
            return "Divide"
        if r2 == torch.int32:
            return "SameAsInput"
        return "Elementwise"
    return None


def collect(torch):
    schemas = {}
    for s in torch._C._jit_get_all_schemas():
        ns = s.name.split("::")[0]
        if ns not in ("aten", "quantized_decomposed", "dim_order_ops"):
            continue
        schemas["%s.%s" % (s.name, s.overload_name or "default")] = s

    def packet(name):
        ns, rest = name.split("::")
        base, overload = rest.split(".")
        return getattr(getattr(getattr(torch.ops, ns), base), overload)

    def is_out(name, s):
        return name.split(".")[-1] == "out" or name.split(".")[-1].endswith("_out") or any(
            a.alias_info is not None and a.alias_info.is_write and a.kwarg_only for a in s.arguments)

    selected = set()
    for name, s in schemas.items():
        if is_out(name, s):
            continue
        if name.startswith("aten::"):
            try:
                if torch.Tag.core in packet(name).tags:
                    selected.add(name)
            except Exception:
                pass
        else:  # every quantized_decomposed and dim_order_ops op
            selected.add(name)
    missing = [n for n in IMPORTER_SPELLINGS if n not in schemas]
    if missing:
        sys.exit("gen_opset: importer spellings without a schema: %s" % missing)
    selected.update(IMPORTER_SPELLINGS)
    # The edge dialect's functional form of every view op: `permute_copy`
    # for permute (ExecuTorch replaces views by their _copy forms).
    for name in list(selected):
        s = schemas[name]
        if any(r.alias_info is not None and not r.alias_info.is_write for r in s.returns):
            base, overload = name.split(".")
            copy = "%s_copy.%s" % (base, overload)
            if copy in schemas:
                selected.add(copy)
    return {n: schemas[n] for n in selected}, packet


def build(torch):
    from torchgen.model import FunctionSchema
    ops, packet = collect(torch)
    entries, skipped = [], []
    for name in sorted(ops):
        s = ops[name]
        try:
            # torchgen reads list defaults as native_functions.yaml writes
            # them, `=[0,1]`; the registered schema prints `=[0, 1]`.
            text = re.sub(r"=\[([^\]]*)\]", lambda m: "=[%s]" % m.group(1).replace(" ", ""),
                          str(s).split("::", 1)[1])
            f = FunctionSchema.parse(text)
            params = []
            for a in f.arguments.flat_all:
                kind, optional = kind_of(a.type)
                params.append({"name": a.name, "kind": kind, "optional": optional,
                               "default": default_of(a, kind)})
        except Skip as e:
            skipped.append("%s (%s)" % (name, e))
            continue
        lists = [p for p in params if p["kind"] in ("kTensorList", "kOptionalTensorList")]
        if len(lists) > 1:
            skipped.append("%s (two tensor lists)" % name)
            continue
        mutates = any(a.alias_info is not None and a.alias_info.is_write for a in s.arguments)
        rets = [str(r.type) for r in s.returns]
        if rets == ["List[Tensor]"]:
            num_results = -1  # a tensor list: as many results as the node has
        elif all(r == "Tensor" for r in rets):
            num_results = len(rets)
        else:
            skipped.append("%s (returns %s)" % (name, ", ".join(rets)))
            continue
        if name in FAMILIES:
            family = FAMILIES[name]
        elif torch.Tag.pointwise in packet(name).tags and not mutates and not lists:
            family = probe_pointwise(torch, packet(name), params)
        else:
            family = None
        entries.append({"name": name, "params": params, "mutates": mutates,
                        "num_results": num_results, "family": family,
                        "commutative": name in COMMUTATIVE})
    assign_short_names(entries)
    return entries, skipped


def assign_short_names(entries):
    by_base = {}
    for e in entries:
        ns, rest = e["name"].split("::")
        base, overload = rest.split(".")
        by_base.setdefault((ns, base), []).append(overload)
    aten_bases = {b for (ns, b) in by_base if ns == "aten"}
    taken = {}
    for e in entries:
        ns, rest = e["name"].split("::")
        base, overload = rest.split(".")
        stem = base
        # Another namespace's op named like an ATen op takes its namespace
        # as a prefix: quantized_decomposed::add is quantized_decomposed_add.
        if ns != "aten" and base in aten_bases:
            stem = "%s_%s" % (ns, base)
        overloads = by_base[(ns, base)]
        primary = next((o for o in PRIMARY_OVERLOADS if o in overloads), None)
        if primary is None and len(overloads) == 1:
            primary = overloads[0]
        bare = overload == primary and stem not in RESERVED
        short = stem if bare else "%s_%s" % (stem, overload)
        if short in RESERVED or "__" in short or short in taken:
            sys.exit("gen_opset: short name %s of %s collides with %s" %
                     (short, e["name"], taken.get(short, "a reserved word")))
        taken[short] = e["name"]
        e["short"] = short


def render(entries, skipped, torch_version, et_version):
    out = []
    w = out.append
    w("// GENERATED by tools/opgen/gen_opset.py from torch %s and executorch %s." %
      (torch_version, et_version))
    w("// Do not edit; regenerate with")
    w("//   %s" % REGENERATE)
    w("// (tests/ops:opset_current_test fails when this file is stale).")
    w("//")
    w("// graft's one table of ops: Core ATen, the edge dialect's _copy forms of its")
    w("// views, quantized_decomposed and dim_order_ops, and the spellings graft's")
    w("// importers meet. One entry per op, sorted by canonical name:")
    w("//")
    w("//   X(short_name, \"ns::name.overload\", shape::Family | nullptr,")
    w("//     num_results (-1: a tensor list), flags, (params...))")
    w("//")
    w("// short_name is the op's one name in rule files and the C++ factory m::short_name;")
    w("// shape::Family is its shape function in graft/ops/shape_functions.h, nullptr")
    w("// where graft cannot type it (a rule may match the op but not build it).")
    w("// flags: kCommutative, kMutates. A param is {name, K::kind, default, optional}.")
    w("// Skipped (%d; graft cannot represent their signatures):" % len(skipped))
    for s in skipped:
        w("//   %s" % s)
    w("#ifndef GRAFT_OPS_OPSET_H_")
    w("#define GRAFT_OPS_OPSET_H_")
    w("")
    w("// clang-format off")
    w("#define GRAFT_OPSET(X) \\")
    for e in entries:
        flags = [f for f, on in (("kCommutative", e["commutative"]), ("kMutates", e["mutates"])) if on]
        params = []
        for p in e["params"]:
            fields = ['"%s"' % p["name"], "K::" + p["kind"]]
            if p["default"] != "nullptr" or p["optional"]:
                fields.append(p["default"])
            if p["optional"]:
                fields.append("true")
            params.append("{%s}" % ", ".join(fields))
        w("  X(%s, \"%s\", %s, %d, %s, \\\n    (%s)) \\" % (
            e["short"], e["name"], "shape::" + e["family"] if e["family"] else "nullptr",
            e["num_results"], " | ".join(flags) or "0", ", ".join(params)))
    w("")
    w("// clang-format on")
    w("")
    w("#endif  // GRAFT_OPS_OPSET_H_")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", metavar="FILE",
                    help="compare with FILE instead of printing; exit 1 with a diff if it differs")
    args = ap.parse_args()
    torch, et_version = load_torch()
    entries, skipped = build(torch)
    text = render(entries, skipped, torch.__version__, et_version)
    if not args.check:
        sys.stdout.write(text)
        return 0
    with open(args.check) as f:
        current = f.read()
    if current == text:
        return 0
    sys.stdout.writelines(difflib.unified_diff(
        current.splitlines(True), text.splitlines(True), args.check, "generated"))
    print("\n%s is stale; regenerate with\n  %s" % (args.check, REGENERATE))
    return 1


if __name__ == "__main__":
    sys.exit(main())
