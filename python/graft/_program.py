"""An ExportedProgram's FX graph handed to graft, and graft's answer applied
back to (a copy of) that graph, in-process.

graft reads programs in ExecuTorch's serialized form: its importer
(graft/interop/exir_json.h) owns the mapping of edge ops onto graft's IR, so
this module writes only the fields that importer reads, straight from the FX
graph (ExecuTorch's own serializer also converts every node's metadata, which
costs 100x more): each node's target, its arguments by schema name, its
results' dtypes and sizes (node.meta["val"]), and each input's kind from the
graph signature (parameter, buffer, constant, user input). A value graft has
no literal for (SymInts, float lists, ...) is written as a kind graft does not
know, which makes its node opaque: kept as it is, never matched.

graft answers with the rewritten graph in the same form. Nodes it kept are
the same FX nodes with all their metadata (source_fn_stack, which
partitioners read, included); their tensor operands are re-pointed where a
rewrite replaced a value. Nodes it created are new FX nodes taking the
metadata of the node they replaced (graft copies the matched root's
"metadata" to its replacement; here that is {"fx": root's name}) and a
meta["val"] computed in the program's own fake mode.
"""

import copy
import json
import operator

import torch

from graft import _compat
from graft._graft import GraftError

_EDGE = "executorch.exir.dialects.edge.ops."
_TORCH = "torch.ops."
# An argument kind graft's importer does not know: the node stays opaque.
_UNMODELLED = {"as_unmodelled": None}
_MEMORY_FORMATS = {
    torch.contiguous_format: 1,
    torch.channels_last: 2,
    torch.channels_last_3d: 3,
    torch.preserve_format: 4,
}
_LAYOUTS = {torch.strided: 7}


def _target_name(target) -> str:
    if isinstance(target, _compat.EdgeOpOverload):
        return _EDGE + str(_compat.aten_of(target))
    if isinstance(target, _compat.OpOverload):
        return _TORCH + str(target)
    return f"{getattr(target, '__module__', '')}.{getattr(target, '__name__', repr(target))}"


def _tensor_meta(val) -> dict:
    dtype = _compat.DTYPE_TO_SERIAL.get(val.dtype, 0)
    sizes = [{"as_int": s} if isinstance(s, int) else {"as_expr": {"expr_str": str(s)}}
             for s in val.shape]
    return {"dtype": dtype, "sizes": sizes}


class Program:
    """The document graft reads for one FX graph, and what is needed to map
    graft's answer back onto it."""

    def __init__(self, ep):
        self.ep = ep
        graph = ep.graph_module.graph
        self.tensor = {}  # tensor name -> FX node holding it (a getitem for a tuple element)
        self.unused = {}  # tensor name -> (FX node, index): a tuple element nobody reads
        self.folded = set()  # getitem nodes written as their producer's results
        self.emitted = {}  # node name -> its JSON node
        tensor_values = {}
        taken = {n.name for n in graph.nodes}

        def add_tensor(name, node, val):
            self.tensor[name] = node
            tensor_values[name] = _tensor_meta(val)

        inputs = []
        for n in graph.nodes:
            if n.op != "placeholder":
                continue
            val = n.meta.get("val")
            if isinstance(val, torch.Tensor):
                add_tensor(n.name, n, val)
                inputs.append({"as_tensor": {"name": n.name}})
            else:
                inputs.append({"as_unmodelled": {"name": n.name}})

        nodes = []
        for n in graph.nodes:
            if n.op != "call_function" or n in self.folded:
                continue
            outputs = self._outputs(n, add_tensor, taken)
            nodes.append(self._node(n, outputs))

        out_node = graph.output_node()
        outputs = []
        for o in out_node.args[0]:
            if isinstance(o, torch.fx.Node) and self._is_tensor(o):
                outputs.append({"as_tensor": {"name": o.name}})
            else:
                outputs.append({"as_none": []})

        self.doc = {
            "graph_module": {
                "graph": {
                    "inputs": inputs,
                    "outputs": outputs,
                    "nodes": nodes,
                    "tensor_values": tensor_values,
                },
                "signature": {"input_specs": self._input_specs(), "output_specs": []},
            }
        }

    def _outputs(self, n, add_tensor, taken):
        """The JSON outputs of call node n; registers the tensors it defines.
        A tuple result is one output per element, named by the getitem node
        that reads it (as ExecuTorch's serializer writes it)."""
        val = n.meta.get("val")
        if isinstance(val, torch.Tensor):
            add_tensor(n.name, n, val)
            return [{"as_tensor": {"name": n.name}}]
        if not isinstance(val, (tuple, list)) or not val or not all(
                isinstance(v, torch.Tensor) for v in val):
            return [{"as_none": []}]
        readers = {}
        for u in n.users:
            if u.op == "call_function" and u.target is operator.getitem and isinstance(u.args[1], int):
                readers.setdefault(u.args[1], u)
        if len(readers) != len(n.users):
            return [{"as_none": []}]  # the tuple itself is used: keep the node whole
        out = []
        for i, v in enumerate(val):
            reader = readers.get(i)
            if reader is not None:
                self.folded.add(reader)
                name = reader.name
                add_tensor(name, reader, v)
            else:
                name = f"{n.name}_graft_unused_{i}"
                while name in taken:
                    name += "_"
                taken.add(name)
                add_tensor(name, None, v)
                self.unused[name] = (n, i)
            out.append({"as_tensor": {"name": name}})
        schema = _compat.schema(n.target)
        returns_list = (schema is not None and len(schema.returns) == 1
                        and isinstance(schema.returns[0].type, torch.ListType))
        return [{"as_tensors": [o["as_tensor"] for o in out]}] if returns_list else out

    def _arg(self, v):
        if isinstance(v, torch.fx.Node):
            return {"as_tensor": {"name": v.name}} if self._is_tensor(v) else _UNMODELLED
        if isinstance(v, bool):
            return {"as_bool": v}
        if isinstance(v, int):
            return {"as_int": v}
        if isinstance(v, float):
            return {"as_float": v}
        if isinstance(v, str):
            return {"as_string": v}
        if v is None:
            return {"as_none": []}
        if isinstance(v, torch.dtype):
            d = _compat.DTYPE_TO_SERIAL.get(v)
            return {"as_scalar_type": d} if d else _UNMODELLED
        if isinstance(v, torch.memory_format) and v in _MEMORY_FORMATS:
            return {"as_memory_format": _MEMORY_FORMATS[v]}
        if isinstance(v, torch.layout) and v in _LAYOUTS:
            return {"as_layout": _LAYOUTS[v]}
        if isinstance(v, torch.device):
            return {"as_device": {"type": v.type, "index": v.index}}
        if isinstance(v, (list, tuple)):
            if all(isinstance(e, int) and not isinstance(e, bool) for e in v):
                return {"as_ints": list(v)}
            if all(isinstance(e, torch.fx.Node) and self._is_tensor(e) for e in v):
                return {"as_tensors": [{"name": e.name} for e in v]}
            if all(e is None or (isinstance(e, torch.fx.Node) and self._is_tensor(e)) for e in v):
                return {"as_optional_tensors": [
                    {"as_none": []} if e is None else {"as_tensor": {"name": e.name}} for e in v]}
        return _UNMODELLED

    def _is_tensor(self, node) -> bool:
        return self.tensor.get(node.name) is node

    def _node(self, n, outputs):
        schema = _compat.schema(n.target)
        params = [a.name for a in schema.arguments] if schema is not None else []
        inputs = []
        for i, a in enumerate(n.args):
            name = params[i] if i < len(params) else f"arg{i}"
            inputs.append({"name": name, "arg": self._arg(a)})
        for k, a in n.kwargs.items():
            inputs.append({"name": k, "arg": self._arg(a)})
        jn = {
            "name": n.name,
            "target": _target_name(n.target),
            "inputs": inputs,
            "outputs": outputs,
            "metadata": {"fx": n.name},
        }
        self.emitted[n.name] = jn
        return jn

    def _input_specs(self):
        kinds = {
            "PARAMETER": ("parameter", "parameter_name"),
            "BUFFER": ("buffer", "buffer_name"),
            "CONSTANT_TENSOR": ("tensor_constant", "tensor_constant_name"),
        }
        specs = []
        for spec in self.ep.graph_signature.input_specs:
            name = getattr(spec.arg, "name", None)
            if name is None or name not in self.tensor:
                continue  # not a tensor input: graft does not read it
            kind = kinds.get(spec.kind.name)
            if kind is not None:
                specs.append({kind[0]: {"arg": {"name": name}, kind[1]: spec.target}})
            else:  # user inputs, and kinds graft has no `const` for (tokens)
                specs.append({"user_input": {"arg": {"as_tensor": {"name": name}}}})
        return specs

    def text(self) -> str:
        return json.dumps(self.doc)

    # ---- graft's answer applied back.

    def apply(self, new_graph: dict):
        """A GraphModule: a copy of the program's graph edited into `new_graph`
        (graft's rewritten graph, in the document's form)."""
        old_gm = self.ep.graph_module
        memo = {}
        graph = copy.deepcopy(old_gm.graph, memo)  # node meta dicts copied, values shared
        gm = torch.fx.GraphModule(old_gm, graph)
        gm.meta.update(old_gm.meta)
        by_name = {n.name: n for n in graph.nodes}
        fake_mode = _compat.fake_mode(gm)
        env = {name: by_name[n.name] for name, n in self.tensor.items() if n is not None}
        kept = set()
        created = []
        placeholders = [n for n in graph.nodes if n.op == "placeholder"]
        cursor = placeholders[-1] if placeholders else None  # graft's nodes go after it, in its order

        def tensor(name):
            node = env.get(name)
            if node is None:
                if name not in self.unused:
                    raise GraftError(f"internal error: graft's answer reads '{name}', which is not defined")
                parent, index = self.unused[name]
                node = self._getitem(graph, by_name[parent.name], index, name, created)
                env[name] = node
            return node

        def place(node):
            nonlocal cursor
            if cursor is None:
                first = next(iter(graph.nodes))
                if first is not node:
                    first.prepend(node)
            elif cursor.next is not node:
                cursor.append(node)
            cursor = node

        for jn in new_graph["nodes"]:
            name = jn["name"]
            before = self.emitted.get(name)
            if before is not None and before["target"] == jn["target"]:
                node = by_name[name]
                if jn["inputs"] != before["inputs"]:
                    self._repoint(node, before["inputs"], jn["inputs"], tensor)
                kept.add(node)
                place(node)
                for o in jn["outputs"]:
                    for t in _tensor_names(o):
                        if env.get(t) is not None and env[t] is not node:
                            kept.add(env[t])
                            place(env[t])
                continue
            node = self._create(graph, jn, tensor, by_name, created)
            place(node)
            self._infer_val(node, fake_mode)
            results = [t for o in jn["outputs"] for t in _tensor_names(o)]
            for i, t in enumerate(results):
                value = node if len(results) == 1 else self._getitem(graph, node, i, t, created)
                if value is not node:
                    place(value)
                # A replacement takes the name of the value it replaces (graft
                # names it after the matched root): every reader of the name
                # now reads the new value.
                replaced = env.get(t)
                if replaced is not None and replaced not in kept:
                    replaced.replace_all_uses_with(value)
                env[t] = value

        out = graph.output_node()
        values = list(out.args[0])
        for i, o in enumerate(new_graph["outputs"]):
            if "as_tensor" in o:
                values[i] = tensor(o["as_tensor"]["name"])
        out.args = (type(out.args[0])(values),)

        # What graft erased: users first.
        for node in reversed(list(graph.nodes)):
            if node.op != "call_function" or node in kept or node in created:
                continue
            if node.name not in self.emitted and node.name not in self.tensor:
                continue  # a node graft never saw
            if node.users:
                raise GraftError(f"internal error: {node.name} was erased by graft but is still used")
            graph.erase_node(node)
        for node in reversed(created):
            if node.target is operator.getitem and not node.users:
                graph.erase_node(node)
        graph.lint()
        gm.recompile()
        return gm, created

    @staticmethod
    def _repoint(node, before, after, tensor):
        """Re-points node's tensor operands where graft renamed them (graft
        changes nothing else in a node it kept)."""
        params = [j["name"] for j in before]
        args = list(node.args)
        kwargs = dict(node.kwargs)
        for i, (b, a) in enumerate(zip(before, after)):
            if b == a:
                continue
            value = _renamed(a["arg"], tensor)
            if i < len(args):
                args[i] = value
            else:
                kwargs[params[i]] = value
        node.args = tuple(args)
        node.kwargs = kwargs

    def _create(self, graph, jn, tensor, by_name, created):
        target_name = jn["target"]
        if target_name.startswith(_EDGE):
            target = _compat.edge_op(target_name[len(_EDGE):])
        elif target_name.startswith(_TORCH):
            ns, name, overload = target_name[len(_TORCH):].split(".")
            target = getattr(getattr(getattr(torch.ops, ns), name), overload)
        else:
            raise GraftError(f"internal error: graft created a node of {target_name}")
        named = {j["name"]: _value(j["arg"], tensor) for j in jn["inputs"]}
        args, kwargs = _positional(target, named)
        with graph.inserting_after(next(iter(graph.nodes))):
            node = graph.create_node("call_function", target, args, kwargs, name=jn["name"])
        root = by_name.get(jn.get("metadata", {}).get("fx", ""))
        if root is not None:
            node.meta = {k: v for k, v in root.meta.items()
                         if k not in ("val", "tensor_meta", "unbacked_bindings")}
        created.append(node)
        return node

    @staticmethod
    def _getitem(graph, parent, index, name, created):
        with graph.inserting_after(parent):
            node = graph.create_node("call_function", operator.getitem, (parent, index), name=name)
        node.meta = dict(parent.meta)
        val = parent.meta.get("val")
        if isinstance(val, (tuple, list)):
            node.meta["val"] = val[index]
        created.append(node)
        return node

    @staticmethod
    def _infer_val(node, fake_mode):
        """node's meta["val"] in the program's own fake mode (symbols included)."""
        if fake_mode is None:
            return

        def val(x):
            return x.meta.get("val") if isinstance(x, torch.fx.Node) else x

        try:
            with fake_mode:
                node.meta["val"] = node.target(*torch.fx.node.map_aggregate(node.args, val),
                                               **torch.fx.node.map_aggregate(node.kwargs, val))
        except Exception as e:  # noqa: BLE001 - torch raises many kinds
            raise GraftError(f"graft created {node.name} = {node.target}, which torch cannot "
                             f"evaluate on its operands: {e}") from e


def _tensor_names(output):
    kind, body = next(iter(output.items()))
    if kind == "as_tensor":
        return [body["name"]]
    if kind == "as_tensors":
        return [t["name"] for t in body]
    return []


def _renamed(arg, tensor):
    """The FX value of a tensor argument graft may have renamed."""
    kind, body = next(iter(arg.items()))
    if kind == "as_tensor":
        return tensor(body["name"])
    if kind == "as_tensors":
        return [tensor(t["name"]) for t in body]
    if kind == "as_optional_tensors":
        return [None if "as_none" in t else tensor(t["as_tensor"]["name"]) for t in body]
    raise GraftError(f"internal error: graft changed a non-tensor argument ({arg})")


def _value(arg, tensor):
    """The Python value of an argument of a node graft created (the kinds
    graft writes: graft/interop/exir_json.h, ArgToJson)."""
    kind, body = next(iter(arg.items()))
    if kind in ("as_tensor", "as_tensors", "as_optional_tensors"):
        return _renamed(arg, tensor)
    if kind == "as_none":
        return None
    if kind in ("as_int", "as_float", "as_bool", "as_string", "as_ints"):
        return body
    if kind == "as_scalar_type":
        return _compat.SERIAL_TO_DTYPE[body]
    if kind == "as_memory_format":
        return {v: k for k, v in _MEMORY_FORMATS.items()}[body]
    if kind == "as_layout":
        return {v: k for k, v in _LAYOUTS.items()}[body]
    if kind == "as_device":
        return torch.device(body["type"], body.get("index"))
    raise GraftError(f"internal error: graft wrote an argument of kind {kind}")


def _positional(target, named):
    """A call spelled as torch.export spells it: every argument that may be
    positional is, up to the last one given (partitioners index node.args,
    e.g. XNNPACK reads a linear's bias as args[2]); keyword-only ones stay
    keywords."""
    params = _compat.schema(target).arguments
    positional = [p for p in params if not p.kwarg_only]
    last = max((i for i, p in enumerate(positional) if p.name in named), default=-1)
    args = []
    for p in positional[: last + 1]:
        if p.name in named:
            args.append(named[p.name])
        elif p.has_default_value():
            args.append(p.default_value)
        else:
            raise GraftError(f"internal error: graft's {target} call lacks argument {p.name}")
    kwargs = {p.name: named[p.name] for p in params if p.kwarg_only and p.name in named}
    return tuple(args), kwargs
