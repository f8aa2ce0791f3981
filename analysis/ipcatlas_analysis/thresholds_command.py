"""`ipcatlas thresholds RUN.json...`: crossover sizes and the runtime settings they justify."""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd

from . import cache_view, node_settings, node_spread, options, recommend
from .cells import problems
from .cli import EXIT_BAD_INPUT, EXIT_FINDING, EXIT_OK, exit_for_failures, one_line
from .cpu_thresholds import cpu_crossovers, cpu_tables
from .crossings import MIN_U_TEST, SINGLE
from .descriptors import descriptors_of
from .mapping_thresholds import mapping_tables, mapping_view
from .mapping_thresholds import to_record as mapping_record
from .inputs import Inputs, add_input_arguments, read_inputs
from .node_identity import DuplicateNodeError
from .node_spread import NodeSpread
from .safe_output import check_file_target, write_text
from .states import STATE, mixed_blocks, state_infos, topology_note, with_states
from .stats import min_pairs
from .tables import Table, to_markdown
from .threshold_result import ThresholdResult
from .thresholds import (UNDECIDED, Crossover, all_pairs, crossovers, describe, fastest_ranges, format_margin,
                         group_title, to_records, undecided)
from .units import format_size, json_safe


EPILOG = f"""\
how to read it:
  "beats shm from 16K": the mechanism is faster than shm at 16K and the repetitions never
  show shm faster at any larger size. "undecided 4K-16K (~12K)": shm still wins at 4K, the
  repetitions cannot separate the two between 4K and 16K, and the median curves cross near
  12K; any threshold in that interval is as good as the data can tell.
  Separation: a two-sided Mann-Whitney U test at --alpha with {MIN_U_TEST}+ repetitions per size,
  non-overlapping min-max ranges with 2-3, and none with 1 (run `ipcatlas run
  --benchmark_repetitions=5` or more; with 1 the tables say "single" and intervals are not
  measured). "fastest from": the size ranges over which each mechanism is the fastest
  (references, such as zerocopy, the floor every mechanism is judged against, and peers are
  left out; which mechanisms are references, and which single copies (listed first), the
  result files' descriptors say).
  Failed and skipped benchmarks never take part; they are listed with their reasons.
  "CPU view (not the time crossover)": where the files declare a CPU metric (cpu_ns: CPU time of
  all ranks, user + system, per message), the size from which each single-copy mechanism costs
  less CPU per message than --baseline, decided per block like the crossovers and undecided (with
  the reason) without blocks. Under --wait spin the CPU includes the spinning; read it under
  --wait block.
  "Moving mappings against copies": for each mechanism that moves page mappings (descriptor
  mapping_page_size: memfd-map 4 KiB, memfd-map-huge 2 MiB), the size from which it beats each
  single-copy mechanism and shm, by the same crossover as above, and one sentence that says it.

examples:
  ipcatlas thresholds results/local/run.json
  ipcatlas thresholds run.json --peer NPopenmpi=np.out --json thresholds.json --markdown thresholds.md

exit status: 0 done; 1 done, but a benchmark in the input failed; 2 bad input, or --json or
--markdown refused (not a regular file) or not writable; 3 internal error (a bug)

one file per node (`srun ... ipcatlas run --out results/cluster/%j/%n.json`; the context's slurm_node,
else host_name, names the node), as soon as two nodes measured the same benchmark: the files must be
of one hardware type (cpu_model, topology, kernel,
mitigations; `ipcatlas nodes` groups them), else exit 2. The tables pool all the nodes (blocks pair only
within a file); the section "Across N nodes of type ..." computes each node on its own and says, per
setting and crossover, how many nodes agree, the range of their own sizes, which nodes differ, and
which contradict the others ("does not hold on every node"). --json adds the key "nodes".

--agree A.json B.json: the two runs' thresholds side by side, like canary state with like: every
separated claim one run makes the other reverses ("contradiction"), every setting that differs
by more than a factor 2 or a crossover that differs ("differs"), and every one decided in one run
only ("undecided in one"). Exit status: 0 the runs agree; 1 a disagreement was found; 2 bad
input (or not exactly two files).
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `ipcatlas thresholds`."""
    parser.epilog = EPILOG
    add_input_arguments(parser)
    parser.add_argument("--baseline", default="shm", metavar="MECHANISM",
                        help="the mechanism the crossover table compares every other one with (default: %(default)s)")
    parser.add_argument("--alpha", type=options.alpha, default=0.05,
                        help="significance level of the U test that separates two mechanisms at a size "
                             "(default: %(default)s)")
    parser.add_argument("--agree", action="store_true",
                        help="compare two independent runs (exactly two RUN.json): list every claim and setting "
                             "they disagree on; exit 1 if there is one")
    parser.add_argument("--markdown", type=options.path, metavar="FILE", help="also write the Markdown to FILE")
    parser.add_argument("--json", type=options.path, metavar="FILE",
                        help="also write JSON to FILE: crossovers against the baseline, every pair, fastest "
                             "ranges, settings and the failed/skipped list")


def run(args: argparse.Namespace) -> int:
    """Print the Markdown; write the files asked for."""
    outputs = [path for path in (args.markdown, args.json) if path is not None]
    for path in outputs:
        check_file_target(path, args.results)
    if args.agree:
        return run_agree(args)
    inputs = read_inputs(args.results, args.peer)
    try:
        result, spread = compute_inputs(inputs, args.baseline, args.alpha)
    except (node_settings.MixedTypesError, DuplicateNodeError) as error:
        return refuse("thresholds", error)
    text = full_markdown(result, spread)
    # Files first: a reader that closes stdout early (`| head`) must not cost them.
    if args.markdown:
        write_text(args.markdown, text + "\n")
    if args.json:
        write_text(args.json, json.dumps(full_record(result, spread, args.results), indent=2) + "\n")
    print(text)
    return exit_for_failures(result.unavailable, "thresholds", "they are left out (see above)")


def compute_inputs(inputs: Inputs, baseline: str, alpha: float) -> tuple[ThresholdResult, NodeSpread | None]:
    """compute() on the inputs; when they are one file per node of a cluster, the type's
    settings (canary states aligned across the nodes) and their spread across the nodes.
    Raises node_settings.MixedTypesError or DuplicateNodeError (see refuse())."""
    runs = node_settings.cluster_nodes(inputs.contexts, inputs.rows)
    rows = inputs.rows if runs is None else node_settings.align_states(inputs.rows, inputs.contexts)
    result = compute(rows, baseline, alpha, inputs.contexts)
    spread = None if runs is None else node_spread.across_nodes(rows, result, runs, baseline, alpha,
                                                                inputs.contexts)
    return result, spread


def full_markdown(result: ThresholdResult, spread: NodeSpread | None) -> str:
    """The Markdown of `thresholds`: the tables, and the nodes' section when there are nodes."""
    if spread is None:
        return markdown(result)
    return markdown(result, [node_spread.headline(spread)]) + "\n" + node_spread.markdown(spread)


def full_record(result: ThresholdResult, spread: NodeSpread | None, results: Sequence[Path]) -> dict[str, Any]:
    """The JSON of `thresholds --json`: the tables, and under "nodes" the nodes' section."""
    return to_json(result, results) | ({} if spread is None else {"nodes": node_spread.to_record(spread)})


def refuse(command: str, error: ValueError) -> int:
    """Files of several hardware types, or two files of one node: exit 2, naming them."""
    print(one_line(f"ipcatlas {command}: error: {error}"), file=sys.stderr)
    for line in getattr(error, "lines", []):
        print("  " + one_line(line), file=sys.stderr)
    return EXIT_BAD_INPUT


def run_agree(args: argparse.Namespace) -> int:
    """--agree: each run computed on its own, then set side by side."""
    from . import agree  # agree.py builds on this module
    if len(args.results) != 2:
        print(f"ipcatlas thresholds: error: --agree compares exactly two runs, got {len(args.results)} files",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    first, second = (read_inputs([path], args.peer) for path in args.results)
    found = agree.disagreements(compute(first.rows, args.baseline, args.alpha, first.contexts),
                                compute(second.rows, args.baseline, args.alpha, second.contexts))
    text = agree.markdown(found, str(args.results[0]), str(args.results[1]))
    if args.markdown:
        write_text(args.markdown, text + "\n")
    if args.json:
        record: dict[str, object] = {"inputs": [str(path) for path in args.results], **agree.to_record(found)}
        write_text(args.json, json.dumps(record, indent=2) + "\n")
    print(text)
    return EXIT_FINDING if found else EXIT_OK


def compute(rows: pd.DataFrame, baseline: str = "shm", alpha: float = 0.05,
            contexts: Mapping[str, Mapping[str, Any]] | None = None) -> ThresholdResult:
    """All threshold results from the rows of load_results (plus peers); `contexts` (file ->
    context) describe the mechanisms and scenarios (descriptors.py) and label the host's states."""
    contexts = contexts or {}
    described = descriptors_of(contexts.values())
    rows = with_states(rows)
    found = crossovers(rows, baseline, alpha, described)
    pairs = all_pairs(rows, alpha, described)
    counts = rows[rows["status"] == "ok"].groupby("name").size()
    double_copy = recommend.transports(described).double_copy
    return ThresholdResult(baseline, alpha, found, pairs, fastest_ranges(rows, alpha, descriptors=described),
                           recommend.recommend(rows, alpha, described), problems(rows),
                           int(counts.min()) if len(counts) else 0, state_infos(rows, contexts),
                           topology_note(list(contexts.values())), mixed_blocks(rows), median_canary(rows),
                           double_copy, cpu_crossovers(rows, baseline, alpha, described),
                           mapping_view(rows, double_copy, alpha, described))


def median_canary(rows: pd.DataFrame) -> float | None:
    """The run's typical canary: what a run that found one state is compared by (agree.py)."""
    if "canary_ns" not in rows.columns:
        return None
    values = rows["canary_ns"].dropna()
    return float(values.median()) if len(values) else None


def decision_lines(result: ThresholdResult) -> list[str]:
    """How the verdicts were reached and how sure they are: the method, the states, what was left out."""
    lines = []
    if result.paired:
        lines.append(f"Decision: paired. A beats B at a size when the blocks agree: the ratios A/B of runs "
                     f"measured in the same block (seconds apart) pass an exact two-sided Wilcoxon signed-rank "
                     f"test (the sign test where two ratios tie) at alpha {result.alpha:g}. That needs "
                     f"{min_pairs(result.alpha)} blocks or more (with n blocks the smallest p is 2/2^n); with "
                     "fewer the verdict is undecided. Margins are the median per-block ratio with an "
                     "order-statistic interval and its exact coverage.")
    if result.unpaired:
        lines.append("Decision: unpaired (file has no blocks): decided as before, over the repetitions "
                     f"(Mann-Whitney U test at alpha {result.alpha:g} with {MIN_U_TEST}+ repetitions); these "
                     "verdicts do not survive a host that changes state between repetitions.")
    if result.excluded_blocks:
        lines.append(f"{result.excluded_blocks} block(s) left out: the canary shows the host changed state inside "
                     "them, so their pairs compare two states.")
    if result.states:
        lines.append("The host was in two states (drift canary); every crossover and setting below is given per "
                     "state:")
        lines += [f"- {info.label}: {info.blocks} block(s) wholly in this state" for info in result.states.values()]
        lines += [result.state_note] if result.state_note else []
    return [line for text in lines for line in (text, "")]


def missing_state_lines(result: ThresholdResult) -> list[str]:
    """A state with no comparison at all still says so: it stays undecided."""
    compared = {c.state for c in result.pairs}
    return [f"{info.label}: no block measured wholly in this state: every verdict and setting undecided "
            "(rerun with --benchmark_repetitions=9 or more)." for state, info in result.states.items()
            if state not in compared] + [""]


def crossover_tables(result: ThresholdResult) -> list[Table]:
    """One table per group: every mechanism against the baseline."""
    groups: dict[str, list[Crossover]] = {}
    for c in result.crossovers:
        title = ", ".join(t for t in (group_title(c.scenario, c.placement, c.wait, c.variant),
                                      result.state_label(c.state)) if t)
        groups.setdefault(title, []).append(c)
    headers = ["mechanism", f"beats {result.baseline} from", "undecided (≈ crossing)", "margin there",
               "changes of winner", "sizes", "repetitions or blocks (method)"]
    tables = [Table(f"Crossovers against {result.baseline}: {title}", headers,
                    [[c.challenger, verdict_text(c), undecided(c), margin_text(c), str(len(c.crossings)),
                      str(c.sizes_compared), evidence_text(c)] for c in found])
              for title, found in groups.items()]
    hot_and_cold = cache_view.side_by_side(result.crossovers)
    return tables + ([hot_and_cold] if hot_and_cold else [])


def verdict_text(c: Crossover) -> str:
    return f"undecided ({c.reason})" if c.kind == UNDECIDED else describe(c)


def margin_text(c: Crossover) -> str:
    """"1.40x", and paired "1.40x (1.21–1.62x, 97%)": the interval and its exact coverage."""
    if c.margin_low is None or c.margin_high is None or c.confidence is None:
        return format_margin(c.margin)
    return f"{format_margin(c.margin)} ({c.margin_low:.2f}–{c.margin_high:.2f}x, {c.confidence:.0%})"


def evidence_text(c: Crossover) -> str:
    """"6 blocks (signed-rank)", or as before "5 (u-test)" (the decision line says unpaired)."""
    if c.paired:
        left_out = f", {c.excluded_blocks} mixed-state left out" if c.excluded_blocks else ""
        return f"{c.pairs} blocks ({c.method}{left_out})"
    return f"{c.repetitions} ({c.method})"


def fastest_tables(result: ThresholdResult) -> list[Table]:
    """One table per group: the size ranges over which each mechanism is the fastest."""
    tables = []
    for key, group in result.fastest.groupby(["scenario", "placement", "wait", "variant", STATE], sort=True):
        rows = [[r.mechanism, format_size(r.from_size), format_size(r.to_size) + (" (largest)" if r.to_largest else ""),
                 str(r.sizes), f"{r.separated} of {r.sizes}", r.metric] for r in group.itertuples()]
        title = ", ".join(t for t in (group_title(*key[:4]), result.state_label(key[4])) if t)
        tables.append(Table(f"Fastest mechanism by size: {title}",
                            ["mechanism", "fastest from", "to", "sizes", "separated from the runner-up", "metric"],
                            rows))
    return tables


def settings_table(result: ThresholdResult) -> Table:
    """The recommended runtime settings with their evidence."""
    measured_cold = any(s.cache == cache_view.COLD for s in result.settings)
    rows = [[s.library, f"`{s.parameter}`", f"`{s.value}`", s.meaning, s.evidence,
             " / ".join(t for t in (s.placement or "any", s.wait or "any", cache_label(s.cache, measured_cold),
                                    result.state_label(s.state)) if t)]
            for s in result.settings]
    return Table(f"Recommended settings (ping-pong crossovers against {result.double_copy or 'the double copy'})",
                 ["library", "parameter", "value", "what it does", "measured", "placement / wait / cache / state"],
                 rows,
                 "Values are message payload sizes in bytes. A setting is as good as the crossover behind it: "
                 "see the undecided interval and the repetitions in the crossover table. An undecided crossover "
                 "gives no number: the value says `undecided` and the measured column says why. A setting from a "
                 "hot cache comes from buffers reused at every message, which production traffic seldom is: where "
                 "a cold row exists, production follows it; where none does, rerun with `--cache hot,cold`.")


def cache_label(cache: str, measured_cold: bool) -> str:
    """"cache hot (buffers reused; no cold run)": a hot-cache setting says so."""
    if cache == cache_view.COLD:
        return "cache cold (for production)"
    return "cache hot (buffers reused)" if measured_cold else "cache hot (buffers reused; no cold run)"


def unavailable_table(result: ThresholdResult) -> Table:
    """Failed and skipped benchmarks, one line per mechanism and reason."""
    sizes: dict[tuple[str, str, str, str], set[int]] = {}
    # Plain Python, not groupby().agg(): pandas casts an aggregate that looks like a number
    # ("64") back to the size column's integer type.
    for bad in result.unavailable.itertuples(index=False):
        found = sizes.setdefault((bad.status, bad.scenario, bad.mechanism, bad.message), set())
        found.update([] if pd.isna(bad.size) else [int(bad.size)])
    rows = [[status, scenario, mechanism, ", ".join(format_size(s) for s in sorted(found)), message]
            for (status, scenario, mechanism, message), found in sorted(sizes.items())]
    return Table("Not measured: failed and skipped", ["status", "scenario", "mechanism", "sizes", "reason"], rows,
                 row_classes=[r[0] for r in rows])


def markdown(result: ThresholdResult, preface: Sequence[str] = ()) -> str:
    """The whole thresholds report as Markdown; `preface`: paragraphs put first (the nodes' verdict)."""
    lines = ["# ipcatlas thresholds", "", *(line for text in preface for line in (text, ""))]
    if result.fewest_repetitions <= 1:
        lines += [f"Warning: some benchmarks have a single repetition, so the tables compare medians ({SINGLE}) "
                  "and cannot say where two mechanisms are too close to tell apart. Rerun with "
                  "`--benchmark_repetitions=5` or more.", ""]
    if not result.crossovers:
        lines += [f"No crossover: {result.baseline} and another mechanism were never both measured ok in one "
                  "group.", ""]
    lines += decision_lines(result)
    lines += missing_state_lines(result) if result.states else []
    tables = [*crossover_tables(result), *mapping_tables(result.mapping, result.state_label),
              *fastest_tables(result), settings_table(result),
              *cpu_tables(result.cpu, result.baseline, result.state_label), unavailable_table(result)]
    return "\n".join(lines) + "\n" + to_markdown(tables)


def to_json(result: ThresholdResult, inputs: Sequence[Path]) -> dict[str, object]:
    """The thresholds as JSON for tools."""
    return {
        "inputs": [str(path) for path in inputs],
        "baseline": result.baseline,
        "alpha": result.alpha,
        "fewest_repetitions": result.fewest_repetitions,
        "decision": decision_record(result),
        "states": [{**asdict(info), "label": info.label} for info in result.states.values()],
        "state_note": result.state_note,
        "excluded_blocks": result.excluded_blocks,
        "crossovers": to_records(result.crossovers),
        "pairs": to_records(result.pairs),
        "fastest": json_safe(result.fastest.to_dict(orient="records")),
        "settings": recommend.to_records(result.settings),
        "cpu_crossovers": to_records(result.cpu),
        "mapping": mapping_record(result.mapping),
        "not_measured": json_safe(result.unavailable.drop(columns=["files"]).to_dict(orient="records")),
    }


def decision_record(result: ThresholdResult) -> dict[str, object]:
    """The method and confidence, for tools: which verdicts are paired and what they need."""
    return {
        "paired": result.paired,
        "paired_method": "exact two-sided Wilcoxon signed-rank test on per-block log ratios (sign test where "
                         "ratios tie); margin: median per-block ratio with an order-statistic interval",
        "min_blocks": min_pairs(result.alpha),
        "unpaired": result.unpaired,
        "unpaired_label": "unpaired (file has no blocks): decided as before (Mann-Whitney U over repetitions)",
        "confidence": 1 - result.alpha,
    }
