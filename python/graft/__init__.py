"""graft: graph rewrite rules for PyTorch/ExecuTorch programs.

graft's C++ engine runs in this process (graft._graft). This package holds
the rule sets and the text-form entry point; graft.export rewrites the
ExportedProgram torch.export returns (before quantization), graft.executorch
is the ExecuTorch pass.

    import graft
    rules = graft.parse_rules("rule r:\\n  mm(x, transpose(const W)) -> linear(x, W)\\n")
    text, stats = graft.rewrite_text(open("model.graft").read(), rules)
"""

import functools
import os
from typing import Iterable, Optional, Sequence, Tuple, Union

from graft._graft import GraftError, Rules, load_rules, parse_rules
from graft.stats import RewriteStats, RuleStats

__all__ = [
    "GraftError",
    "RewriteStats",
    "RuleStats",
    "Rules",
    "catalogue",
    "load_rules",
    "parse_rules",
    "rewrite_text",
    "rules_from",
]

# The built-in catalogue (the checkout's patterns/, installed with the package).
CATALOGUE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "patterns")


@functools.lru_cache(maxsize=None)
def catalogue() -> Rules:
    """graft's built-in rule catalogue, compiled once per process."""
    return load_rules([CATALOGUE_DIR])


def rules_from(rules: Union[None, Rules, Sequence[Union[str, os.PathLike]]]) -> Rules:
    """A rule set: the catalogue for None, a Rules as it is, else .rules
    files and directories."""
    if rules is None:
        return catalogue()
    if isinstance(rules, Rules):
        return rules
    if isinstance(rules, (str, os.PathLike)):
        rules = [rules]
    return load_rules([os.fspath(r) for r in rules])


def rewrite_text(
    text: str,
    rules: Union[None, Rules, Sequence[str]] = None,
    only: Optional[Iterable[str]] = None,
    disable: Optional[Iterable[str]] = None,
    verify_each: bool = False,
    filename: str = "<input>",
) -> Tuple[str, RewriteStats]:
    """Rewrites a graph in graft's text form; (the result printed, stats)."""
    from graft import _graft

    out, stats = _graft.rewrite_text(
        text, rules_from(rules), list(only or ()), list(disable or ()), verify_each, filename)
    return out, RewriteStats.from_driver(stats)
