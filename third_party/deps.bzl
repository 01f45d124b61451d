"""graft's external C++ dependencies. A workspace that uses @graft//:graft
calls graft_deps() after declaring @graft (and its own rules_cc)."""

load("@bazel_tools//tools/build_defs/repo:utils.bzl", "maybe")
load("//third_party/libtorch:libtorch.bzl", "libtorch")
load("//third_party/system:system.bzl", "system_libs")

def graft_deps():
    maybe(system_libs, name = "system")

    # Only fetched when a target depends on it (interop/torchscript.h users).
    maybe(libtorch, name = "libtorch")
