"""Sanitizer flags for the IR and catalogue tests (GCC and Clang both take
them; the runtimes ship with the compiler)."""

SANITIZE_COPTS = [
    "-fsanitize=address,undefined",
    "-fno-sanitize-recover=undefined",
    "-fno-omit-frame-pointer",
    # -O2 with both sanitizers takes minutes per test on two cores; the
    # tests need the checks, not the speed.
    "-O1",
    # GCC's optimizer with the sanitizers floods the log with false positives
    # from absl's containers.
    "-Wno-maybe-uninitialized",
]

SANITIZE_LINKOPTS = ["-fsanitize=address,undefined"]
