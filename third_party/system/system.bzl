"""`system_libs`: Debian's C++ libraries (absl, gtest, gmock, benchmark,
nlohmann-json) as Bazel targets, so the build needs nothing from the network.

Headers are symlinked into the repository (declared inputs, so sandboxed
compiles see them and Bazel notices upgrades); libraries are linked with -l
from the default search path. tools/setup.sh installs the packages.
"""

# Debian package for each header directory, for the error message.
_HEADERS = {
    "absl": "libabsl-dev",
    "benchmark": "libbenchmark-dev",
    "gmock": "libgmock-dev",
    "gtest": "libgtest-dev",
    "nlohmann": "nlohmann-json3-dev",
}

# absl components graft may use; pkg-config resolves their link order.
_ABSL_MODULES = [
    "absl_flat_hash_map",
    "absl_flat_hash_set",
    "absl_inlined_vector",
    "absl_span",
    "absl_status",
    "absl_statusor",
    "absl_str_format",
    "absl_strings",
    "absl_synchronization",
    "absl_time",
    "absl_hash",
    "absl_cord",
]

def _run(ctx, args):
    res = ctx.execute(args)
    return res.stdout.strip() if res.return_code == 0 else None

def _multiarch_libdir(ctx):
    triplet = _run(ctx, ["gcc", "-print-multiarch"]) or _run(ctx, ["dpkg-architecture", "-qDEB_HOST_MULTIARCH"])
    for d in (["/usr/lib/" + triplet] if triplet else []) + ["/usr/lib64", "/usr/lib"]:
        if ctx.path(d).exists:
            return d
    fail("system_libs: cannot find the system library directory")

def _absl_linkopts(ctx, libdir):
    if ctx.which("pkg-config"):
        out = _run(ctx, ["pkg-config", "--libs"] + _ABSL_MODULES)
        if out:
            return [f for f in out.split(" ") if f]

    # No pkg-config: link every absl shared library (order does not matter
    # for shared objects).
    libs = sorted([f.basename for f in ctx.path(libdir).readdir() if f.basename.startswith("libabsl_") and f.basename.endswith(".so")])
    return ["-Wl,--push-state,--no-as-needed"] + ["-l" + l[3:-3] for l in libs] + ["-Wl,--pop-state"]

def _system_libs_impl(ctx):
    libdir = _multiarch_libdir(ctx)
    missing = [pkg for d, pkg in _HEADERS.items() if not ctx.path("/usr/include/" + d).exists]
    if missing:
        fail("system_libs: missing Debian packages %s; run tools/setup.sh" % " ".join(missing))
    for d in _HEADERS:
        ctx.symlink("/usr/include/" + d, "include/" + d)
    ctx.template("BUILD.bazel", ctx.attr._build_tpl, {
        "%{absl_linkopts}": repr(_absl_linkopts(ctx, libdir)),
        "%{libdir}": libdir,
    })
    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)

system_libs = repository_rule(
    implementation = _system_libs_impl,
    attrs = {"_build_tpl": attr.label(default = Label("//third_party/system:BUILD.system.tpl"))},
    local = True,
)
