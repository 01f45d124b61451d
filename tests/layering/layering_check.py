"""Checks every header under include/graft/ against the layer table in
layers.bzl: each header belongs to exactly one layer, and includes only
headers of its own layer, of the layers below it, the standard library, and
the external libraries those layers bring in."""

import ast
import fnmatch
import os
import re

_INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^">]+)[">]')


def load_layers(bzl_path):
    """(GRAFT_LAYERS, GRAFT_LAYER_EXTERNAL_DEPS) read from layers.bzl, whose
    tables are plain literals."""
    with open(bzl_path) as f:
        tree = ast.parse(f.read(), bzl_path)
    tables = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            name = getattr(node.targets[0], "id", None)
            if name in ("GRAFT_LAYERS", "GRAFT_LAYER_EXTERNAL_DEPS"):
                tables[name] = ast.literal_eval(node.value)
    return tables["GRAFT_LAYERS"], tables.get("GRAFT_LAYER_EXTERNAL_DEPS", {})


def closure(layers, name):
    """`name` and every layer it may include, transitively."""
    seen, stack = set(), [name]
    while stack:
        layer = stack.pop()
        if layer not in seen:
            seen.add(layer)
            stack.extend(layers[layer]["deps"])
    return seen


def layer_of(layers, rel):
    """The layers whose header globs match `rel` (a path under include/graft/)."""
    return [name for name, layer in layers.items()
            if any(fnmatch.fnmatchcase(rel, g) for g in layer["hdrs"])]


def check(include_root, layers, external):
    """A list of "file:line: message" errors; empty when the tree keeps the
    layering. `include_root` is the directory holding graft/."""
    errors = []
    for name, layer in layers.items():
        for dep in layer["deps"]:
            if dep not in layers:
                errors.append("layers.bzl: layer %s depends on unknown layer %s" % (name, dep))
            elif name in closure(layers, dep):
                errors.append("layers.bzl: layers %s and %s depend on each other" % (name, dep))
    if errors:
        return errors
    graft_root = os.path.join(include_root, "graft")
    headers = []
    for dirpath, _, files in os.walk(graft_root):
        for f in files:
            if f.endswith(".h"):
                headers.append(os.path.relpath(os.path.join(dirpath, f), graft_root))
    for rel in sorted(headers):
        path = "include/graft/" + rel
        owners = layer_of(layers, rel)
        if len(owners) != 1:
            errors.append("%s: in %s; every header belongs to exactly one layer of layers.bzl"
                          % (path, "no layer" if not owners else "layers " + ", ".join(owners)))
            continue
        mine = owners[0]
        allowed = closure(layers, mine)
        prefixes = [p for l in allowed for ps in external.get(l, {}).values() for p in ps]
        with open(os.path.join(graft_root, rel)) as f:
            for lineno, line in enumerate(f, 1):
                m = _INCLUDE.match(line)
                if not m:
                    continue
                target = m.group(2)
                where = "%s:%d: #include %s%s%s" % (path, lineno, m.group(1), target,
                                                    '"' if m.group(1) == '"' else ">")
                if target.startswith("graft/"):
                    trel = target[len("graft/"):]
                    if not os.path.isfile(os.path.join(graft_root, trel)):
                        errors.append("%s: no such header" % where)
                        continue
                    towners = layer_of(layers, trel)
                    if len(towners) == 1 and towners[0] not in allowed:
                        errors.append("%s: layer %s may not include layer %s (it may include: %s)"
                                      % (where, mine, towners[0], ", ".join(sorted(allowed))))
                elif "/" in target or (m.group(1) == '"' and target.endswith((".h", ".hpp"))):
                    # Not the standard library (<vector>, <sys/stat.h> are).
                    if m.group(1) == "<" and re.match(r"^(sys|bits)/", target):
                        continue
                    if not any(target.startswith(p) for p in prefixes):
                        errors.append("%s: layer %s may not include %s (outside graft: only %s)"
                                      % (where, mine, target, ", ".join(sorted(prefixes)) or "the standard library"))
    return errors
