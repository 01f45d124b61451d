"""What one run of graft's driver did, as Python objects (the driver's own
record: graft/driver/driver.h, DriverResult and RuleStats)."""

import dataclasses
from typing import Dict, List


@dataclasses.dataclass
class RuleStats:
    tried: int = 0  # candidate roots the rule was tried on
    matched: int = 0  # its pattern matched
    applied: int = 0  # rewrites done
    refused: int = 0  # matched, then refused (constraint, legality, type)
    refusals: Dict[str, int] = dataclasses.field(default_factory=dict)  # reason -> count


@dataclasses.dataclass
class RewriteStats:
    rewrites: int = 0
    converged: bool = True
    applied: Dict[str, int] = dataclasses.field(default_factory=dict)  # rule -> rewrites
    report: str = ""  # the driver's table, for people (graft-opt --stats)
    rules: Dict[str, RuleStats] = dataclasses.field(default_factory=dict)  # in rule-set order
    iterations: int = 0
    # When a cap stopped the driver: the cap's DriverOptions name, the same
    # with its figures, and the rules still firing.
    stopped_by: str = ""
    stop_reason: str = ""
    still_firing: List[str] = dataclasses.field(default_factory=list)

    @classmethod
    def from_driver(cls, d: dict) -> "RewriteStats":
        """From graft._graft's record of a run."""
        rules = {name: RuleStats(**st) for name, st in d["rules"].items()}
        return cls(
            rewrites=d["rewrites"],
            converged=d["converged"],
            applied={name: st.applied for name, st in rules.items()},
            report=d["report"],
            rules=rules,
            iterations=d["iterations"],
            stopped_by=d["stopped_by"],
            stop_reason=d["stop_reason"],
            still_firing=list(d["still_firing"]),
        )

    def __str__(self) -> str:
        fired = ", ".join(f"{r} x{n}" for r, n in self.applied.items() if n) or "nothing"
        return f"graft: {self.rewrites} rewrite(s) ({fired})"
