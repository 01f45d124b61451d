"""`core_headers_inc`: writes an include line for every header of a library
(its own and its dependencies') under include/graft/, except interop/
unless `interop` is set, so a test TU covers headers added later without
anyone listing them."""

def _core_headers_inc_impl(ctx):
    prefix = "include/graft/"
    headers = sorted([
        h.short_path[len("include/"):]
        for h in ctx.attr.lib[CcInfo].compilation_context.headers.to_list()
        if h.short_path.startswith(prefix) and
           (ctx.attr.interop or not h.short_path.startswith(prefix + "interop/"))
    ])
    if not headers:
        fail("no headers under %s in %s" % (prefix, ctx.attr.lib.label))
    lines = ['#include "%s"' % h for h in headers]
    lines.append("#define GRAFT_CORE_HEADER_COUNT %d" % len(headers))
    ctx.actions.write(ctx.outputs.out, "\n".join(lines) + "\n")

core_headers_inc = rule(
    implementation = _core_headers_inc_impl,
    attrs = {
        "lib": attr.label(providers = [CcInfo]),
        "interop": attr.bool(default = False),
        "out": attr.output(mandatory = True),
    },
)
