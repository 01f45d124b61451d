"""Sanitizer flags for the IR and catalogue tests (GCC and Clang both take
them; the runtimes ship with the compiler)."""

SANITIZE_COPTS = [
    "-fsanitize=address,undefined",
    "-fno-sanitize-recover=undefined",
    "-fno-omit-frame-pointer",
]

SANITIZE_LINKOPTS = ["-fsanitize=address,undefined"]
