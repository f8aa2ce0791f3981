"""ci/nodes-scale with 100 nodes instead of 1,000: the simulated cluster's 3 slowed nodes are
found, and only they, through the command line (the script's own run is the lead's to make)."""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

from conftest import ANALYSIS_DIR

SCRIPT = ANALYSIS_DIR.parent / "ci" / "nodes_scale.py"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("nodes_scale", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_100_simulated_nodes_give_exactly_the_3_slowed_ones() -> None:
    outcome = load_script().simulate(100)
    assert outcome.status == 1 and len(outcome.slowed) == 3, outcome  # --fail-on-outlier: found some
    assert outcome.found == outcome.slowed and outcome.exact
    assert outcome.peak_mb > 0 and outcome.seconds > 0


def test_the_noise_is_measured_from_the_real_reruns() -> None:
    script = load_script()
    documents = [json.loads((Path(script.NODE_RUNS) / f"run{i}.json").read_text(encoding="utf-8"))
                 for i in range(1, 6)]
    noise = script.measure_noise(documents)
    # Reruns of one host: a few percent to ~15 % per benchmark, much less for the canary.
    assert 0.02 < noise.between < 0.3 and 0.02 < noise.within < 0.3 and noise.canary < noise.between
