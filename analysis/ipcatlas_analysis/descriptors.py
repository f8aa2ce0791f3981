"""What the binary that wrote a run knows about its mechanisms and scenarios, read from the
result files' contexts: Python keeps no list of mechanisms of its own.

Every result file's context carries two objects (schema.py checks their shape):

    "mechanisms": {ID: {"api": "process_vm_readv", "moves": "pull", "copies": 1,
                        "single_copy": true, "reference": false,
                        "mapping_page_size": 0, ...}, ...}   every mechanism the binary knows
    "scenarios":  {ID: {"primary_metric": "one_way_ns", "counters": {"one_way_ns": "ns", ...}, ...}}

A new mechanism or scenario therefore needs no change here: thresholds, plots,
recommend and compare ask descriptors_of(contexts). Files written before ipcatlas
recorded descriptors have neither key; for them, and only for them, the answers come
from LEGACY. Fields not read here (summary, permissions, wait_policies, ...) are
left to the contexts' readers (report.html shows them).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .schema import MECHANISMS, NOT_METRICS, SCENARIOS

PRIMARY_KEY = "primary_metric"  # also a plain context field: the run's own scenario declares its time there


@dataclass(frozen=True)
class Mechanism:
    """The facts about one mechanism that the analysis uses ("" or None: the file does not say)."""

    api: str = ""  # the kernel interface: "shared memory", "process_vm_readv", "vmsplice", ...
    moves: str = ""  # whose call copies the payload: "pull" (receiver's), "push" (sender's), "both", "none"
    copies: int | None = None  # payload copies the API makes
    single_copy: bool = False  # a single-copy path runtimes switch to above their eager limit
    reference: bool = False  # a floor, not a way to move an arbitrary buffer: never "the fastest"
    mapping_page_size: int = 0  # moves page mappings of this page size per message (0: moves bytes or nothing)


@dataclass(frozen=True)
class Scenario:
    """The facts about one scenario that the analysis uses."""

    primary_metric: str = ""  # the scenario's time ("" where not declared)
    counters: Mapping[str, str] = field(default_factory=dict)  # counter -> unit: "ns", "B/s", "1/s" or "1"
    cpu_metric: str = ""  # CPU time (all ranks, user + system) per message; "" where the file has none


@dataclass(frozen=True)
class Descriptors:
    """The mechanisms and scenarios of one or more runs, and the questions the analysis asks them."""

    mechanisms: Mapping[str, Mechanism]
    scenarios: Mapping[str, Scenario]
    other_primary: str = ""  # the time of a scenario none of them declares ("": unknown)

    def single_copy(self, mechanism: str) -> bool:
        return self.mechanisms.get(mechanism, Mechanism()).single_copy

    def mapping_page_size(self, mechanism: str) -> int:
        """The page size of the mappings the mechanism moves per message; 0 when it moves bytes
        or nothing, or the files (written before ipcatlas recorded it) do not say."""
        return self.mechanisms.get(mechanism, Mechanism()).mapping_page_size

    def reference(self, mechanism: str) -> bool:
        return self.mechanisms.get(mechanism, Mechanism()).reference

    def references(self) -> tuple[str, ...]:
        """Every reference mechanism, sorted."""
        return tuple(sorted(name for name, m in self.mechanisms.items() if m.reference))

    def find(self, api: str, moves: str | None = None, copies: int | None = None) -> str | None:
        """The mechanism whose api is `api` (and which moves and copies as given); the first by
        name when several do, None when none does."""
        return next((name for name, m in sorted(self.mechanisms.items()) if m.api == api
                     and moves in (None, m.moves) and copies in (None, m.copies)), None)

    def primary_metric(self, scenario: str) -> str | None:
        """The scenario's time, as declared; None when nothing says (a bandwidth-only scenario)."""
        declared = self.scenarios.get(scenario, Scenario()).primary_metric
        return declared or self.other_primary or None

    def cpu_metric(self, scenario: str) -> str | None:
        """The scenario's CPU time per message, as declared; None where the files do not declare one
        (files written before ipcatlas measured CPU time)."""
        return self.scenarios.get(scenario, Scenario()).cpu_metric or None

    def unit(self, scenario: str, counter: str) -> str | None:
        """The unit of a counter as the scenario declares it, else as load.py reads names
        (`*_ns` ns, `*bytes_per_second` B/s); None when neither says."""
        declared = self.scenarios.get(scenario, Scenario()).counters.get(counter)
        if declared:
            return declared
        return "ns" if counter.endswith("_ns") else "B/s" if counter.endswith("bytes_per_second") else None


# The descriptors of result files written before ipcatlas recorded them (0.1.x); never extend
# it: newer files carry their own. Used only for a context without "mechanisms" (or "scenarios").
LEGACY = Descriptors(
    mechanisms=MappingProxyType({
        "shm": Mechanism(api="shared memory", moves="both", copies=2),  # the copy-in/copy-out double copy
        "cma-read": Mechanism(api="process_vm_readv", moves="pull", copies=1, single_copy=True),
        "cma-write": Mechanism(api="process_vm_writev", moves="push", copies=1, single_copy=True),
        "vmsplice": Mechanism(single_copy=True),
        "zerocopy": Mechanism(reference=True),
    }),
    scenarios=MappingProxyType({"pingpong": Scenario("one_way_ns"), "stream": Scenario("window_ns")}),
    other_primary="round_ns",  # alltoall, manytoone and onetomany: one round
)


def descriptors_of(contexts: Iterable[Mapping[str, Any]]) -> Descriptors:
    """The descriptors the contexts declare; where two files describe the same mechanism or
    scenario, the first wins. LEGACY fills in for files without descriptors, and stands for
    no context at all (rows read without their files' contexts)."""
    contexts = list(contexts)
    if not contexts:
        return LEGACY
    mechanisms: dict[str, Mechanism] = {}
    scenarios: dict[str, Scenario] = {}
    for context in contexts:
        for name, entry in context.get(MECHANISMS, {}).items():
            mechanisms.setdefault(name, _mechanism(entry))
        for name, entry in context.get(SCENARIOS, {}).items():
            _add_scenario(scenarios, name, _scenario(entry))
        scenario, metric = context.get("scenario"), context.get(PRIMARY_KEY)
        if isinstance(scenario, str) and isinstance(metric, str):
            _add_scenario(scenarios, scenario, _scenario({PRIMARY_KEY: metric}))
    old_mechanisms = any(MECHANISMS not in context for context in contexts)
    old_scenarios = any(SCENARIOS not in context for context in contexts)
    for name, mechanism in LEGACY.mechanisms.items() if old_mechanisms else ():
        mechanisms.setdefault(name, mechanism)
    for name, scenario_facts in LEGACY.scenarios.items() if old_scenarios else ():
        _add_scenario(scenarios, name, scenario_facts)
    return Descriptors(mechanisms, scenarios, LEGACY.other_primary if old_scenarios else "")


def _mechanism(entry: Mapping[str, Any]) -> Mechanism:
    return Mechanism(str(entry.get("api", "")), str(entry.get("moves", "")), entry.get("copies"),
                     entry.get("single_copy") is True, entry.get("reference") is True,
                     _positive_int(entry.get("mapping_page_size")))


def _positive_int(value: Any) -> int:
    """A count the file gives, or 0 where it gives none (or no positive integer)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _scenario(entry: Mapping[str, Any]) -> Scenario:
    """A scenario's facts; a primary metric that measures the host (the canary) is no time of it."""
    metric = str(entry.get(PRIMARY_KEY, ""))
    return Scenario("" if metric in NOT_METRICS else metric, dict(entry.get("counters", {})),
                    str(entry.get("cpu_metric", "")))


def _add_scenario(scenarios: dict[str, Scenario], name: str, facts: Scenario) -> None:
    """Merge field by field: what is already known wins."""
    known = scenarios.get(name, Scenario())
    scenarios[name] = Scenario(known.primary_metric or facts.primary_metric, {**facts.counters, **known.counters},
                               known.cpu_metric or facts.cpu_metric)
