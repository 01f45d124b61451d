"""An ExportedProgram's FX graph handed to graft, and graft's answer applied
back to (a copy of) that graph, in-process.

graft reads programs in ExecuTorch's serialized form: its importer
(graft/interop/exir_json.h) owns the mapping of edge ops onto graft's IR, so
this module writes only the fields that importer reads, straight from the FX
graph (ExecuTorch's own serializer also converts every node's metadata, which
costs 30x more): each node's target, its arguments by schema name, its
results' dtypes and sizes (node.meta["val"]), and each input's kind from the
graph signature (parameter, buffer, constant, user input). A value graft has
no literal for (SymInts, float lists, ...) is written as a kind graft does not
know, which makes its node opaque: kept as it is, never matched.

graft answers with edits (graft._graft.rewrite_program): the nodes it
created, each with the kept node it precedes and the root it replaced; the
operands it re-pointed; the nodes it erased; the outputs. They are replayed on
a copy of the FX graph. Nodes graft kept stay the same FX nodes with all
their metadata (source_fn_stack, which partitioners read, included). Nodes it
created take the metadata of the node they replaced and a meta["val"]
computed in the program's own fake mode.
"""

import copy
import functools
import json
import operator

import torch

from graft import _compat
from graft._graft import GraftError

# The importer reads `torch.ops.aten.mm.default` as it reads the edge
# dialect's longer spelling of the same op.
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
    if isinstance(target, (_compat.EdgeOpOverload, _compat.OpOverload)):
        return _TORCH + str(_compat.aten_of(target))
    return f"{getattr(target, '__module__', '')}.{getattr(target, '__name__', repr(target))}"


@functools.lru_cache(maxsize=None)
def _param_names(target) -> tuple:
    schema = _compat.schema(target)
    return tuple(a.name for a in schema.arguments) if schema is not None else ()


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
        # graft's new nodes are edge ops in an edge program, ATen ops otherwise.
        self.edge = any(isinstance(n.target, _compat.EdgeOpOverload) for n in graph.nodes)
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
        self.output_slots = []  # graft's outputs (the tensors) -> index in the FX output tuple
        for i, o in enumerate(out_node.args[0]):
            if isinstance(o, torch.fx.Node) and self._is_tensor(o):
                outputs.append({"as_tensor": {"name": o.name}})
                self.output_slots.append(i)
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
        params = _param_names(n.target)
        inputs = []
        for i, a in enumerate(n.args):
            name = params[i] if i < len(params) else f"arg{i}"
            inputs.append({"name": name, "arg": self._arg(a)})
        for k, a in n.kwargs.items():
            inputs.append({"name": k, "arg": self._arg(a)})
        if any(i["arg"] is _UNMODELLED for i in inputs):
            # The node is opaque; graft must still see every tensor it reads
            # (one inside, say, a list of SymInts and tensors), or it could
            # erase that tensor's producer as dead.
            reads = []
            torch.fx.node.map_arg((n.args, n.kwargs), reads.append)
            tensors = [{"name": a.name} for a in reads if self._is_tensor(a)]
            if tensors:
                inputs.append({"name": "graft_reads", "arg": {"as_tensors": tensors}})
        return {"name": n.name, "target": _target_name(n.target), "inputs": inputs,
                "outputs": outputs}

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
        return json.dumps(self.doc, separators=(",", ":"), check_circular=False)

    # ---- graft's answer applied back.

    def apply(self, edits: dict):
        """(A GraphModule: a copy of the program's graph with graft's edits
        (graft._graft.rewrite_program) replayed on it, the FX nodes created)."""
        old_gm = self.ep.graph_module
        graph = copy.deepcopy(old_gm.graph)  # node meta dicts copied, values shared
        by_name = {n.name: n for n in graph.nodes}
        fake_mode = _compat.fake_mode(old_gm)
        created = []
        values = {}  # graft's value name -> FX node in `graph`

        def value(name):
            node = values.get(name)
            if node is not None:
                return node
            original = self.tensor.get(name)
            if original is not None:
                node = by_name[original.name]
            elif name in self.unused:  # a tuple element nobody read before
                parent, index = self.unused[name]
                node = _getitem(graph, by_name[parent.name], index, created)
            else:
                raise GraftError(f"internal error: graft's answer reads '{name}', which is not defined")
            values[name] = node
            return node

        for c in edits["created"]:
            target = _compat.edge_op(c["target"]) if self.edge else _compat.aten_op(c["target"])
            named = {}
            for param, kind, v in c["args"]:
                if kind == "tensor":
                    v = value(v)
                elif kind == "dtype":
                    v = _compat.SERIAL_TO_DTYPE[v]
                named[param] = v
            args, kwargs = _positional(target, named)
            anchor = by_name[c["before"]] if c["before"] is not None else graph.output_node()
            with graph.inserting_before(anchor):
                node = graph.call_function(target, args, kwargs)
            root = by_name.get(c["root"])
            if root is not None:
                node.meta = {k: v for k, v in root.meta.items() if k not in _VALUE_META}
            _infer_val(node, fake_mode)
            created.append(node)
            if len(c["results"]) == 1:
                values[c["results"][0]] = node
            else:
                for i, name in enumerate(c["results"]):
                    values[name] = _getitem(graph, node, i, created)

        for node_name, old, new in edits["repointed"]:
            by_name[node_name].replace_input_with(value(old), value(new))

        out = graph.output_node()
        results = list(out.args[0])
        for i, name in enumerate(edits["outputs"]):
            results[self.output_slots[i]] = value(name)
        out.args = (type(out.args[0])(results),)

        erased = {by_name[name] for name in edits["erased"]}
        erased |= {by_name[g.name] for g in self.folded if g.args[0].name in edits["erased"]}
        for node in reversed(list(graph.nodes)):
            if node in erased:
                if node.users:
                    raise GraftError(f"internal error: graft erased {node.name}, which is still used")
                graph.erase_node(node)
        return _compat.graph_module(old_gm, graph), created


# Meta entries that describe a node's value, not where it came from.
_VALUE_META = ("val", "tensor_meta", "unbacked_bindings")


def _getitem(graph, parent, index, created):
    with graph.inserting_after(parent):
        node = graph.call_function(operator.getitem, (parent, index))
    node.meta = {k: v for k, v in parent.meta.items() if k not in _VALUE_META}
    val = parent.meta.get("val")
    if isinstance(val, (tuple, list)):
        node.meta["val"] = val[index]
    created.append(node)
    return node


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
        raise GraftError(f"graft created {node.target}({', '.join(map(str, node.args))}), which "
                         f"torch cannot evaluate on its operands: {e}") from e


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
