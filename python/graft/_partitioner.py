"""What a partitioner said, or implies, about the nodes it left out.

ExecuTorch has no API that returns a partitioner's refusals. XNNPACK's configs
state them through executorch.exir.backend.utils.WhyNoPartition, which logs
the node and the reason at DEBUG level (gemm_configs.py: "Expected weight to
be a static param", xnnpack_config.py: "invalid dtype", ...); `Refusals`
collects those records while a lowering runs. A configuration-based
partitioner (XNNPACK's) also implies a reason for an op it has no config for
at all: `unsupported_reason`. Both read ExecuTorch internals, kept here
(graft/_compat.py checks that ExecuTorch is a version they were read from).
"""

import logging
from typing import Dict, List, Optional

from executorch.exir.backend.canonical_partitioners.config_partitioner import format_target_name
from executorch.exir.backend.utils import WhyNoPartition


class Refusals(logging.Filter):
    """A context manager collecting WhyNoPartition records from ExecuTorch's
    loggers: `reasons[node_name]` is the list of reasons given, in order.

    WhyNoPartition logs at DEBUG, which ExecuTorch's loggers normally drop,
    so each logger under `executorch` is set to DEBUG for the duration and
    given this filter, which keeps the records and passes on only those the
    logger would have emitted anyway: the user's logging output is unchanged.
    (A logger's filters see only records logged to that logger, hence one
    per logger; loggers are created when their modules are imported, which
    happens before partitioning, when the partitioner is built.)
    """

    def __init__(self, root: str = "executorch"):
        super().__init__()
        self.root = root
        self.reasons: Dict[str, List[str]] = {}
        self._levels = {}  # logger -> its own level, restored on exit
        self._thresholds = {}  # logger name -> the level it emitted from before

    def __enter__(self) -> "Refusals":
        existing = dict(logging.getLogger().manager.loggerDict)  # includes placeholders
        loggers = [lg for n, lg in existing.items() if isinstance(lg, logging.Logger)
                   and (n == self.root or n.startswith(self.root + "."))]
        for logger in loggers:  # all read before any is changed: children inherit
            self._levels[logger] = logger.level
            self._thresholds[logger.name] = logger.getEffectiveLevel()
        for logger in loggers:
            logger.setLevel(logging.DEBUG)
            logger.addFilter(self)
        return self

    def __exit__(self, *exc) -> None:
        for logger, level in self._levels.items():
            logger.removeFilter(self)
            logger.setLevel(level)
        self._levels, self._thresholds = {}, {}

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.msg
        if isinstance(msg, WhyNoPartition) and msg.node is not None:
            reasons = self.reasons.setdefault(msg.node.name, [])
            if msg.reason not in reasons:
                reasons.append(msg.reason)
        return record.levelno >= self._thresholds.get(record.name, logging.WARNING)


def unsupported_reason(partitioner, node) -> Optional[str]:
    """'XnnpackPartitioner has no config for aten.native_layer_norm.default'
    when `partitioner` is configuration-based and has none for `node`'s op."""
    configs = getattr(partitioner, "target_partitioner_configs", None)
    if not isinstance(configs, dict):
        return None
    name = getattr(node.target, "__name__", None)
    if not isinstance(name, str) or format_target_name(name) in configs:
        return None
    return f"{type(partitioner).__name__} has no config for {format_target_name(name)}"
