"""What `thresholds` computes, apart from the command, so that `--agree` (agree.py) and the
report read it without importing the command module that imports them."""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from . import recommend
from .mapping_thresholds import MappingView
from .states import StateInfo
from .thresholds import Crossover


@dataclass(frozen=True)
class ThresholdResult:
    """Everything thresholds computes, for Markdown, JSON and the report."""

    baseline: str
    alpha: float
    crossovers: list[Crossover]  # every mechanism against the baseline
    pairs: list[Crossover]  # every pair of mechanisms
    fastest: pd.DataFrame  # thresholds.fastest_ranges
    settings: list[recommend.Setting]
    unavailable: pd.DataFrame  # problems(): failed and skipped benchmarks
    fewest_repetitions: int
    states: dict[str, StateInfo] = field(default_factory=dict)  # the host's canary states, where two
    state_note: str = ""  # states.topology_note
    excluded_blocks: int = 0  # blocks left out: the canary changed state inside them
    canary_ns: float | None = None  # the median drift canary over the run (None: not measured)
    double_copy: str | None = None  # the mechanism the settings' crossovers are against (recommend.transports)
    cpu: list[Crossover] = field(default_factory=list)  # the CPU view: single copies vs the baseline (cpu_thresholds)
    mapping: MappingView = field(default_factory=MappingView)  # moving mappings against copies (mapping_thresholds)

    @property
    def paired(self) -> bool:
        return any(c.paired for c in self.pairs)

    @property
    def unpaired(self) -> bool:
        return any(not c.paired and c.verdicts for c in self.pairs)

    def state_label(self, state: str) -> str:
        info = self.states.get(state)
        return "" if not state else info.label if info else f"state {state}"
