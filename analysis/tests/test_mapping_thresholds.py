"""`thresholds`' section "Moving mappings against copies" (mapping_thresholds.py), on crafted
blocked runs whose curves cross at known sizes."""
from __future__ import annotations

import json
from pathlib import Path

from ipcatlas_analysis.descriptors import descriptors_of
from ipcatlas_analysis.load import load_results
from ipcatlas_analysis.mapping_thresholds import TITLE, mapping_view
from ipcatlas_analysis.report import write_report
from ipcatlas_analysis.thresholds import compare_pair, groups
from ipcatlas_analysis.thresholds_command import compute, markdown, to_json

NAME = "pingpong/{m}/size:{s}/ranks:2/placement:l3/wait:spin"
SIZES = (16384, 65536, 262144, 1048576, 4194304)
# One-way time in ns: map-huge pays a fixed 5 us and a quarter of cma-read's per-byte cost, so it
# beats cma-read (and shm) from 64K; map-4k pays more per byte than either, so it never does.
CURVES = {"shm": (100, 1 / 5), "cma-read": (2000, 1 / 10), "map-huge": (5000, 1 / 40), "map-4k": (1000, 1 / 4)}
DESCRIBED = {"shm": {"api": "shared memory", "moves": "both", "copies": 2, "single_copy": False},
             "cma-read": {"api": "process_vm_readv", "moves": "pull", "copies": 1, "single_copy": True},
             "map-huge": {"moves": "none", "copies": 0, "single_copy": False, "mapping_page_size": 2 << 20},
             "map-4k": {"moves": "none", "copies": 0, "single_copy": False, "mapping_page_size": 4096},
             "pipe": {"moves": "both", "copies": 2, "single_copy": False, "mapping_page_size": 0}}


def run_file(path: Path, blocks: int, mechanisms: tuple[str, ...] = tuple(CURVES)) -> Path:
    """`blocks` repetitions, a block per (repetition, size); the host's drift moves a block's runs alike."""
    entries, block = [], 0
    for rep in range(blocks):
        drift = (1 + 2 * (rep % 2)) * (1 + 0.01 * rep)
        for size in SIZES:
            for position, mechanism in enumerate(mechanisms):
                fixed, per_byte = CURVES[mechanism]
                entries.append({"name": NAME.format(m=mechanism, s=size), "run_type": "iteration",
                                "ipcatlas_status": "ok", "repetition_index": rep, "block": block,
                                "block_position": position, "one_way_ns": (fixed + size * per_byte) * drift})
            block += 1
    context = {"placement": "l3", "mechanisms": DESCRIBED,
               "scenarios": {"pingpong": {"primary_metric": "one_way_ns", "counters": {"one_way_ns": "ns"}}}}
    path.write_text(json.dumps({"context": context, "benchmarks": entries}))
    return path


def contexts(path: Path) -> dict[str, dict[str, object]]:
    return {str(path): json.loads(path.read_text())["context"]}


def test_the_descriptors_name_the_page_size_and_older_files_say_0() -> None:
    described = descriptors_of([{"mechanisms": DESCRIBED}])
    assert (described.mapping_page_size("map-huge"), described.mapping_page_size("map-4k")) == (2 << 20, 4096)
    assert described.mapping_page_size("cma-read") == 0  # not declared: moves bytes
    assert descriptors_of([{"host_name": "old"}]).mapping_page_size("zerocopy") == 0  # LEGACY


def test_huge_pages_beat_one_copy_from_64k_and_4k_pages_never_do(tmp_path: Path) -> None:
    path = run_file(tmp_path / "run.json", 6)
    result = compute(load_results([path]), contexts=contexts(path))
    found = {(c.challenger, c.baseline): c for c in result.mapping.crossovers}
    assert set(found) == {(m, b) for m in ("map-huge", "map-4k") for b in ("cma-read", "shm")}
    assert (found[("map-huge", "cma-read")].kind, found[("map-huge", "cma-read")].size) == ("crossover", 65536)
    assert found[("map-huge", "cma-read")].pairs == 6
    assert (found[("map-4k", "cma-read")].kind, found[("map-4k", "shm")].kind) == ("never", "never")
    # The same crossover function as the crossover tables, with the copy as the baseline.
    (group,) = groups(load_results([path]), descriptors_of(contexts(path).values()))
    assert compare_pair(group, "map-huge", "cma-read") == found[("map-huge", "cma-read")]
    text = markdown(result)
    assert f"## {TITLE}: pingpong, placement l3, wait spin, ranks:2" in text
    assert "| map-huge | 2 MiB | one copy (cma-read) | 64K | 16K–64K" in text
    assert "| map-4k | 4 KiB | shm | never (up to 4M) |" in text
    assert ("map-huge (2 MiB pages) beats one copy (cma-read) from 64K and beats shm from 64K." in text)
    assert "map-4k (4 KiB pages) never beats one copy (cma-read) here (up to 4M) and never beats shm here " \
           "(up to 4M)." in text


def test_the_json_has_the_section(tmp_path: Path) -> None:
    path = run_file(tmp_path / "run.json", 6)
    record = json.loads(json.dumps(to_json(compute(load_results([path]), contexts=contexts(path)), [path])))
    mapping = record["mapping"]
    assert mapping["page_sizes"] == {"map-4k": 4096, "map-huge": 2097152}
    assert mapping["single_copies"] == ["cma-read"]
    assert {(c["challenger"], c["baseline"], c["kind"], c["size"]) for c in mapping["crossovers"]} == {
        ("map-huge", "cma-read", "crossover", 65536), ("map-huge", "shm", "crossover", 65536),
        ("map-4k", "cma-read", "never", None), ("map-4k", "shm", "never", None)}
    assert [(s["mechanism"], s["page_size"]) for s in mapping["sentences"]] == [("map-4k", 4096),
                                                                                ("map-huge", 2097152)]
    assert mapping["nothing_to_compare"] == []


def test_too_few_blocks_is_undecided_with_the_reason(tmp_path: Path) -> None:
    path = run_file(tmp_path / "run.json", 4)
    result = compute(load_results([path]), contexts=contexts(path))
    assert {c.kind for c in result.mapping.crossovers} == {"undecided"}
    assert all(c.reason.startswith("too few blocks: 4") for c in result.mapping.crossovers)
    text = markdown(result)
    assert "| map-huge | 2 MiB | one copy (cma-read) | undecided (too few blocks: 4" in text
    assert "map-huge (2 MiB pages) is undecided against one copy (cma-read) (too few blocks: 4" in text


def test_no_section_without_a_mapping_mechanism(tmp_path: Path) -> None:
    path = run_file(tmp_path / "run.json", 6, ("shm", "cma-read"))
    result = compute(load_results([path]), contexts=contexts(path))
    assert result.mapping.page_sizes == {} and result.mapping.crossovers == []
    assert TITLE not in markdown(result)
    assert to_json(result, [path])["mapping"] == {"page_sizes": {}, "single_copies": [], "crossovers": [],
                                                  "sentences": [], "nothing_to_compare": []}


def test_nothing_to_compare_without_a_copy(tmp_path: Path) -> None:
    path = run_file(tmp_path / "run.json", 6, ("map-huge",))
    described = descriptors_of(contexts(path).values())
    view = mapping_view(load_results([path]), "shm", descriptors=described)
    assert (view.crossovers, view.uncompared()) == ([], ["map-huge"])
    text = markdown(compute(load_results([path]), contexts=contexts(path)))
    assert (f"## {TITLE}\n\nmap-huge (2 MiB pages): nothing to compare it with here (no single-copy mechanism "
            "and no shm measured beside it).") in text
    assert "(none)" not in text.split(TITLE)[1].split("##")[0]


def test_the_report_carries_the_section(tmp_path: Path) -> None:
    path = run_file(tmp_path / "run.json", 6)
    write_report([path], tmp_path / "report")
    heading = f"{TITLE}: pingpong, placement l3, wait spin, ranks:2"
    assert f"## {heading}" in (tmp_path / "report" / "thresholds.md").read_text()
    page = (tmp_path / "report" / "report.html").read_text()
    assert f"<h3>{heading}</h3>" in page and "map-4k (4 KiB pages) never beats one copy (cma-read)" in page
    assert json.loads((tmp_path / "report" / "thresholds.json").read_text())["mapping"]["page_sizes"]["map-4k"] == 4096
