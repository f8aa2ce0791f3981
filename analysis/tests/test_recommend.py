"""recommend.py: the settings follow the measured crossovers, and say when there is no evidence."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
from conftest import row

from ipcatlas_analysis.load import load_results
from ipcatlas_analysis.recommend import Setting, bandwidth_plateau
from ipcatlas_analysis.thresholds_command import compute, markdown


def settings_of(rows: pd.DataFrame) -> dict[str, Setting]:
    return {s.parameter.split(" ")[0]: s for s in compute(rows).settings}


def made(make_result: Callable[..., Path], times: dict[str, list[float]],
         sizes: tuple[int, ...] = (1024, 4096, 16384, 65536)) -> pd.DataFrame:
    rows = [row(f"pingpong/{m}/size:{s}/ranks:2/placement:l3/wait:spin", one_way_ns=t, bytes_per_second=s / t * 1e9)
            for m, values in times.items() for s, t in zip(sizes, values)]
    return load_results([make_result(rows)])


def test_a_cma_crossover_sets_every_library(inputs: Path) -> None:
    found = settings_of(load_results([inputs / "pingpong_4mech.json"]))
    assert found["btl_sm_eager_limit"].value == "8192"  # the largest measured size shm still takes
    assert found["smsc"].value == "cma"
    assert found["MPIR_CVAR_CH4_IPC_CMA_P2P_THRESHOLD"].value == "16384"
    assert found["UCX_RNDV_THRESH"].value == "intra:16384"
    assert "UCX_RNDV_SCHEME" not in found  # cma-write was not measured: no evidence either way
    assert found["FI_SHM_DISABLE_CMA"].value == "unset (CMA on)"
    assert "between 4K and 16K" in found["FI_SHM_DISABLE_CMA"].meaning
    assert found["MPIR_CVAR_CH4_IPC_CMA_P2P_THRESHOLD"].evidence.startswith("cma-read vs shm: 16K, undecided 8K–16K")
    assert {s.placement for s in found.values()} == {"l3"}


def test_no_single_copy_win_turns_cma_off(make_result: Callable[..., Path]) -> None:
    found = settings_of(made(make_result, {"shm": [1, 2, 3, 4], "cma-read": [5, 6, 7, 8]}))
    assert found["smsc"].value.startswith("^cma")
    assert found["MPIR_CVAR_CH4_CMA_ENABLE"].value == "0"
    assert found["UCX_TLS"].value == "^cma"
    assert found["FI_SHM_DISABLE_CMA"].value == "1"
    assert "btl_sm_eager_limit" not in found


def test_a_skipped_cma_gives_its_reason(make_result: Callable[..., Path]) -> None:
    rows = [row(f"pingpong/shm/size:{s}/placement:l3/wait:spin", one_way_ns=t) for s, t in ((64, 1), (128, 2))]
    rows += [{"name": f"pingpong/cma-read/size:{s}/placement:l3/wait:spin", "ipcatlas_status": "skipped",
              "error_occurred": True, "skip_message": "EPERM: Yama ptrace_scope=1 ...",
              "error_message": "skipped: EPERM"} for s in (64, 128)]
    found = settings_of(load_results([make_result(rows)]))
    assert found["MPIR_CVAR_CH4_CMA_ENABLE"].evidence == "cma-read could not run here: EPERM: Yama ptrace_scope=1 ..."


def test_a_faster_push_picks_put_zcopy(make_result: Callable[..., Path]) -> None:
    found = settings_of(made(make_result, {"shm": [1, 2, 8, 30], "cma-read": [9, 9, 6, 20],
                                           "cma-write": [9, 9, 5, 10]}))
    assert found["UCX_RNDV_SCHEME"].value == "put_zcopy"
    assert found["UCX_RNDV_THRESH"].value == "intra:16384"
    pull_first = settings_of(made(make_result, {"shm": [1, 2, 8, 30], "cma-read": [9, 9, 5, 10],
                                                "cma-write": [9, 9, 6, 20]}))
    assert pull_first["UCX_RNDV_SCHEME"].value == "get_zcopy"
    tie = settings_of(made(make_result, {"shm": [1, 2, 8, 30], "cma-read": [9, 9, 5, 10],
                                         "cma-write": [9, 9, 5, 10]}))
    assert tie["UCX_RNDV_SCHEME"].value == "auto"


def shm_repetitions(make_result: Callable[..., Path], curves: list[list[float]]) -> pd.DataFrame:
    """shm alone, one-way times per size for each repetition."""
    sizes = (1024, 4096, 16384, 65536)
    rows = [row(f"pingpong/shm/size:{s}/ranks:2/placement:l3/wait:spin", repetition_index=k, one_way_ns=t,
                bytes_per_second=s / t * 1e9) for k, times in enumerate(curves) for s, t in zip(sizes, times)]
    return load_results([make_result(rows)])


def test_bandwidth_plateau(make_result: Callable[..., Path]) -> None:
    # bytes/s = size / time: 1 GB/s at 1K, 2 at 4K, 3.9 at 16K, 4 at 64K -> 16K reaches 90 % of 4.
    curve = [1024, 2048, 16384 / 3.9, 16384]
    rows = shm_repetitions(make_result, [curve, curve])
    plateau = bandwidth_plateau(rows, "shm")
    assert plateau is not None and (plateau.size, plateau.lowest, plateau.highest) == (16384, 16384, 16384)
    assert settings_of(rows)["btl_sm_max_send_size"].value == "16384"


def test_a_plateau_the_repetitions_do_not_agree_on_is_undecided(make_result: Callable[..., Path]) -> None:
    # One repetition reaches 90 % at 4K, the other only at 64K: the host, not shm, set the size.
    early, late = [1024, 4096 / 3.95, 16384 / 3.95, 65536 / 4], [1024, 2048, 16384 / 2, 16384]
    found = settings_of(shm_repetitions(make_result, [early, late]))["btl_sm_max_send_size"]
    assert found.value == "undecided" and "from 4K to 64K" in found.evidence
    alone = settings_of(shm_repetitions(make_result, [early]))["btl_sm_max_send_size"]
    assert alone.value == "undecided" and "one repetition" in alone.evidence


def test_a_win_in_the_middle_still_switches_and_says_what_it_costs(make_result: Callable[..., Path]) -> None:
    # cma-read wins at 4K and 16K only; shm is faster again at 64K (a huge cache keeps double copies cheap).
    found = settings_of(made(make_result, {"shm": [1, 9, 20, 30], "cma-read": [5, 6, 10, 40]}))
    assert found["MPIR_CVAR_CH4_IPC_CMA_P2P_THRESHOLD"].value == "4096"
    assert found["btl_sm_eager_limit"].value == "1024"
    assert found["UCX_RNDV_THRESH"].value == "intra:4096"
    evidence = found["MPIR_CVAR_CH4_IPC_CMA_P2P_THRESHOLD"].evidence
    assert evidence.startswith("cma-read vs shm: only 4K–16K (shm again from 64K)")
    assert "messages above that range pay for the switch" in evidence


def test_the_settings_do_not_depend_on_the_baseline_of_the_tables(inputs: Path) -> None:
    # --baseline pipe changes the crossover tables; the settings still measure single copy against the double copy.
    rows = load_results([inputs / "pingpong_4mech.json"])
    assert compute(rows, baseline="pipe").settings == compute(rows).settings
    assert settings_of(rows)["smsc"].value == "cma"


def test_hot_and_cold_give_their_own_settings_side_by_side(make_result: Callable[..., Path]) -> None:
    # Hot: cma-read beats shm from 16K; cold: already from 4K (shm's copies miss the cache).
    sizes = (1024, 4096, 16384, 65536)
    times = {"": {"shm": [1, 2, 3, 8], "cma-read": [5, 6, 2, 4]},
             "/cache:cold": {"shm": [1, 5, 9, 30], "cma-read": [5, 3, 4, 6]}}
    rows = [row(f"pingpong/{m}/size:{s}/ranks:2/placement:l3/wait:spin{cache}", one_way_ns=t,
                bytes_per_second=s / t * 1e9)
            for cache, by_mechanism in times.items() for m, values in by_mechanism.items()
            for s, t in zip(sizes, values)]
    result = compute(load_results([make_result(rows)]))
    cma = {s.cache: s for s in result.settings if s.parameter == "MPIR_CVAR_CH4_IPC_CMA_P2P_THRESHOLD"}
    assert (cma["hot"].value, cma["cold"].value) == ("16384", "4096")
    text = markdown(result)
    assert "hot and cold caches side by side" in text
    assert "| cma-read | pingpong, placement l3, wait spin, ranks:2 | 16K | 4K |" in text
    assert "cache hot (buffers reused) " in text and "cache cold (for production)" in text


def test_a_hot_only_setting_says_no_cold_run(make_result: Callable[..., Path]) -> None:
    result = compute(made(make_result, {"shm": [1, 2, 3, 8], "cma-read": [5, 6, 2, 4]}))
    assert "cache hot (buffers reused; no cold run)" in markdown(result)
    assert "side by side" not in markdown(result)
