"""graft's layers: the one table of what each part of include/graft/ is and
what it may include.

Each layer is a set of headers under include/graft/ and the layers directly
below it; a layer may include headers of those and of everything they may
include, never above or beside. BUILD makes one cc_library per layer from
this table (`graft_layers`), and //tests/layering:layering_test checks every
header's #include lines against it, so a backward include fails the build's
tests with the file, the line and the rule it breaks. Keep the values plain
literals: the test reads this file as Python.
"""

GRAFT_LAYERS = {
    # The graph: types, literals, op schemas and the registry that names
    # them, nodes and values, the text form, the verifier, the builder.
    "ir": {"hdrs": ["ir/*.h"], "deps": []},
    # The op catalogue: schemas and shape functions registered into
    # graft::Ops().
    "ops": {"hdrs": ["ops/*.h", "ops/shape/*.h"], "deps": ["ir"]},
    # Patterns and the state of one match.
    "match": {"hdrs": ["match/*.h"], "deps": ["ops"]},
    # Rules (pattern, constraints, replacement) and the Rewriter they use.
    "rewrite": {"hdrs": ["rewrite/*.h"], "deps": ["match"]},
    # The fixpoint driver over a RuleSet.
    "driver": {"hdrs": ["driver/*.h"], "deps": ["rewrite"]},
    # The rule-file language: parser, compiler to Rules, loader, test cases.
    "rules": {"hdrs": ["rules/*.h"], "deps": ["driver"]},
    # What the interops share: where an imported node came from.
    "interop": {"hdrs": ["interop/provenance.h"], "deps": ["ir"]},
    # ExecuTorch's serialized programs (JSON and zip); adds nlohmann-json.
    "interop_exir": {"hdrs": ["interop/exir_*.h"], "deps": ["ops", "interop"]},
    # TorchScript modules; adds libtorch (C++20).
    "interop_torchscript": {"hdrs": ["interop/torchscript.h", "interop/torchscript/*.h"], "deps": ["ops", "interop"]},
    # graft-opt --prove: rules checked on random instances run through
    # libtorch (C++20 through interop_torchscript).
    "prove": {"hdrs": ["prove/*.h"], "deps": ["rules", "interop_torchscript"]},
}

# What each layer adds from outside graft: the Bazel targets, and the
# include prefixes they provide (the layering test allows those prefixes in
# the layer and the layers above it).
GRAFT_LAYER_EXTERNAL_DEPS = {
    "ir": {"@system//:absl": ["absl/"]},
    "interop_exir": {"@system//:nlohmann_json": ["nlohmann/"]},
    "interop_torchscript": {"@libtorch": ["torch/", "ATen/", "c10/", "caffe2/"]},
}

# The layers `//:graft`, the umbrella target, bundles: the core, C++17,
# without interop's extra dependencies.
GRAFT_CORE_LAYERS = ["ir", "ops", "match", "rewrite", "driver", "rules"]

def graft_layers(visibility):
    """One cc_library per layer of GRAFT_LAYERS, named after it."""
    for name, layer in GRAFT_LAYERS.items():
        native.cc_library(
            name = name,
            hdrs = native.glob(["include/graft/" + h for h in layer["hdrs"]]),
            includes = ["include"],
            visibility = visibility,
            deps = [":" + d for d in layer["deps"]] + GRAFT_LAYER_EXTERNAL_DEPS.get(name, {}).keys(),
        )
