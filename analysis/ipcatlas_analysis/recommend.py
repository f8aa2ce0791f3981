"""Settings for Open MPI, MPICH, UCX and libfabric from measured crossovers.

Each runtime switches from a double copy through shared memory to a single
copy with process_vm_readv/writev at one size. The ping-pong crossover of
the single copy over the double copy, per placement, is the measured value
for that switch. Which mechanisms measure those is read from the runs'
descriptors (TRANSPORTS: `shm`, `cma-read` and `cma-write` today), never
from a list of mechanism names. Every setting carries its meaning and the
measurement behind it, so a user can judge it.

Parameter facts (names, defaults, direction of the comparison):
- Open MPI 5 btl/sm (`btl_vader_*` in 4.x): `btl_sm_eager_limit` (default 4096)
  is the largest message sent eagerly through shared buffers;
  `btl_sm_max_send_size` (default 32K) is the fragment size of larger
  messages on the copy-in/copy-out path. Single copy comes from the smsc
  framework in 5.x (`--mca smsc cma`), `btl_vader_single_copy_mechanism` in
  4.x; ob1 pulls large messages (RGET), i.e. the receiver reads: process_vm_readv.
- MPICH ch4: `MPIR_CVAR_CH4_IPC_CMA_P2P_THRESHOLD` (default 16384): messages
  of at least this size use CMA single copy (the receiver reads: process_vm_readv).
- UCX: `UCX_RNDV_THRESH=intra:SIZE` switches intra-node messages to
  rendezvous, whose zero-copy transport is `cma` when `UCX_TLS` includes it;
  `UCX_RNDV_SCHEME` get_zcopy (receiver reads) or put_zcopy (sender writes).
- libfabric shm provider: messages up to 4096 bytes go inline or through
  inject buffers (a double copy); larger ones use CMA when available, else
  SAR (segmentation through shared bounce buffers, a double copy).
  `FI_SHM_DISABLE_CMA=1` forces SAR. The 4096 switch is not tunable.

An undecided crossover (too few blocks, blocks that disagree, or repetitions
that separate at no size) never becomes a number: the setting says
"undecided" and why. Where the host was in two states, every setting is given
per state.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import pandas as pd

from .cache_view import HOT, cache_of, caches
from .crossings import A
from .descriptors import LEGACY, Descriptors
from .load import OK, SKIPPED
from .states import MIXED, ONE_STATE, STATE, with_states
from .thresholds import (ALWAYS, CROSSOVER, NEVER, NOT_SEPARATED, UNDECIDED, Crossover, crossovers_between, describe,
                         format_margin, undecided, win_window)
from .units import format_size, json_safe

# What the runtimes' transports are, as (api, moves, copies) of a mechanism's descriptor (None:
# any). The copy-in/copy-out path is a double copy through shared memory; Open MPI's smsc/cma,
# MPICH's CMA and UCX's cma call process_vm_readv (the receiver pulls: ob1 RGET, get_zcopy)
# or process_vm_writev (the sender pushes: put_zcopy).
TRANSPORTS = {"double_copy": ("shared memory", None, 2), "pull": ("process_vm_readv", "pull", None),
              "push": ("process_vm_writev", "push", None)}
SCENARIO = "pingpong"
LIBFABRIC_INJECT = 4096
PLATEAU = 0.9  # max_send_size: the smallest size reaching this share of the double copy's peak bandwidth
UNDECIDED_VALUE = "undecided"
# The one setting from the double copy's bandwidth alone, not from a crossover of two mechanisms.
MAX_SEND_SIZE = "btl_sm_max_send_size (4.x: btl_vader_max_send_size)"


@dataclass(frozen=True)
class Setting:
    """One recommended value, what it means and the measurement that justifies it."""

    placement: str
    wait: str
    library: str
    parameter: str
    value: str
    meaning: str
    evidence: str
    state: str = ONE_STATE  # the host's canary state the setting holds in ("" where one)
    cache: str = HOT  # hot: buffers reused at every message; cold: rotated (cache_view.py)


@dataclass(frozen=True)
class Transports:
    """The mechanisms that measure the runtimes' transports (None: no run describes one)."""

    double_copy: str | None
    pull: str | None
    push: str | None


def transports(descriptors: Descriptors = LEGACY) -> Transports:
    """The mechanisms of TRANSPORTS, found by their descriptors."""
    return Transports(**{role: descriptors.find(*facts) for role, facts in TRANSPORTS.items()})


@dataclass(frozen=True)
class Evidence:
    """What one (placement, wait, cache, state) ping-pong group measured."""

    placement: str
    wait: str
    cache: str
    state: str
    transports: Transports
    pull: Crossover | None  # the pull single copy over the double copy
    push: Crossover | None  # the push single copy over the double copy
    push_over_pull: Crossover | None  # push over pull (UCX's rendezvous scheme)
    plateau: Plateau | None  # the double copy: smallest size at PLATEAU of its peak bandwidth
    cma_unavailable: str  # the skip message when the pull mechanism never ran, else ""


@dataclass(frozen=True)
class Plateau:
    """Where the double copy's ping-pong bandwidth reaches PLATEAU of its peak: over the medians, and the
    range over single repetitions (which says whether the size is a property of the
    mechanism or of the moment the host measured it in)."""

    size: int
    lowest: int
    highest: int
    repetitions: int

    @property
    def settled(self) -> bool:
        return self.repetitions >= 2 and self.highest <= 2 * self.lowest


def single_copy_wins(c: Crossover | None) -> bool:
    """Whether the single-copy mechanism beats the double copy from some measured size: for good,
    or over a range after which the double copy wins again (runtimes have no upper limit for
    single copy, so the switch still pays below that range's end; the evidence says what it
    costs above)."""
    return c is not None and ((c.kind in (CROSSOVER, ALWAYS) and c.size is not None) or win_window(c) is not None)


def switch_size(c: Crossover) -> int:
    """The size from which to switch: the crossover's upper end, the first win for "always",
    or the start of the range it wins."""
    window = win_window(c)
    if window is not None:
        return window[0]
    assert c.size is not None
    return c.size


def eager_limit(c: Crossover) -> int:
    """The largest measured size below the switch ("up to this size" parameters)."""
    window = win_window(c)
    below = window_below(c) if window is not None else c.below
    return below if below is not None else max(1, switch_size(c) - 1)


def window_below(c: Crossover) -> int | None:
    """For a win window, the low end of the crossing into it (the last size the baseline won before it)."""
    wins = [x for x in c.crossings if x.after == A]
    return wins[-1].low if wins else None


def evidence_text(c: Crossover | None) -> str:
    """"cma-read beats shm from 16K (undecided 4K–16K (≈ 12K), 1.4x at 16K; 5 repetitions, u-test)"."""
    if c is None:
        return "not measured"
    detail = f"{c.challenger} vs {c.baseline}: {describe(c)}"
    if win_window(c) is not None:
        detail += ("; no runtime has an upper limit for single copy, so messages above that range "
                   "pay for the switch")
    if c.kind == CROSSOVER:
        detail += f", undecided {undecided(c)}, {format_margin(c.margin)} at {format_size(c.size or 0)}"
    if c.paired:
        return f"{detail}; {c.pairs} block(s) paired, {c.method}"
    return f"{detail}; {c.repetitions} repetition(s), {c.method}"


def undecided_reason(c: Crossover | None) -> str:
    """Why a crossover decides nothing ("" when it decides, or was not measured)."""
    if c is None or c.kind not in (UNDECIDED, NOT_SEPARATED):
        return ""
    return c.reason or f"{c.challenger} vs {c.baseline}: the repetitions separate them at no size"


def undecided_settings(e: Evidence, library: str, parameters: Sequence[str], reason: str) -> list[Setting]:
    """No number where the data decides nothing: each parameter says so, and why."""
    return [_setting(e, library, parameter, UNDECIDED_VALUE, "not set from this run: the crossover behind it is "
                     "undecided", reason) for parameter in parameters]


def open_mpi(e: Evidence) -> list[Setting]:
    """btl_sm_eager_limit, btl_sm_max_send_size and the smsc single-copy choice."""
    settings = []
    if undecided_reason(e.pull):
        settings += undecided_settings(e, "Open MPI", ["btl_sm_eager_limit (4.x: btl_vader_eager_limit)",
                                                       "smsc (4.x: btl_vader_single_copy_mechanism)"],
                                       undecided_reason(e.pull))
    elif single_copy_wins(e.pull):
        assert e.pull is not None
        limit = eager_limit(e.pull)
        settings.append(_setting(e, "Open MPI", "btl_sm_eager_limit (4.x: btl_vader_eager_limit)", str(limit),
                                 "messages up to this size are copied through shared memory eagerly; larger ones "
                                 "go through the single-copy path (ob1 RGET with smsc/cma)", evidence_text(e.pull)))
        settings.append(_setting(e, "Open MPI", "smsc (4.x: btl_vader_single_copy_mechanism)", "cma",
                                 "the single-copy component: `--mca smsc cma`", evidence_text(e.pull)))
    else:
        settings.append(_setting(e, "Open MPI", "smsc (4.x: btl_vader_single_copy_mechanism)",
                                 "^cma (4.x: none)", "no single copy: every message takes the copy-in/copy-out path",
                                 e.cma_unavailable or evidence_text(e.pull)))
    if e.plateau is not None:
        settings.append(max_send_size(e, e.plateau))
    return settings


def max_send_size(e: Evidence, plateau: Plateau) -> Setting:
    """btl_sm_max_send_size from the bandwidth plateau; undecided when single repetitions put it
    more than a factor 2 apart (on a VM whose host changes state the plateau moves with it)."""
    parameter = MAX_SEND_SIZE
    meaning = "fragment size of messages above the eager limit on the copy-in/copy-out path (matters when there " \
              "is no single copy)"
    if not plateau.settled:
        why = ("one repetition cannot show it is stable" if plateau.repetitions < 2 else
               f"single repetitions put it anywhere from {format_size(plateau.lowest)} to "
               f"{format_size(plateau.highest)}")
        return _setting(e, "Open MPI", parameter, UNDECIDED_VALUE, meaning,
                        f"where {e.transports.double_copy} reaches {PLATEAU:.0%} of its peak ping-pong bandwidth is "
                        f"not settled: {why}")
    return _setting(e, "Open MPI", parameter, str(plateau.size), meaning,
                    f"{e.transports.double_copy} reaches {PLATEAU:.0%} of its peak ping-pong bandwidth at "
                    f"{format_size(plateau.size)} "
                    f"({format_size(plateau.lowest)}–{format_size(plateau.highest)} over {plateau.repetitions} "
                    "repetitions); larger fragments gain little")


def mpich(e: Evidence) -> list[Setting]:
    """MPIR_CVAR_CH4_IPC_CMA_P2P_THRESHOLD (or CMA off)."""
    if undecided_reason(e.pull):
        return undecided_settings(e, "MPICH", ["MPIR_CVAR_CH4_IPC_CMA_P2P_THRESHOLD"], undecided_reason(e.pull))
    if single_copy_wins(e.pull):
        assert e.pull is not None
        return [_setting(e, "MPICH", "MPIR_CVAR_CH4_IPC_CMA_P2P_THRESHOLD", str(switch_size(e.pull)),
                         "messages of at least this size use the CMA single copy (ch4 IPC, receiver reads)",
                         evidence_text(e.pull))]
    return [_setting(e, "MPICH", "MPIR_CVAR_CH4_CMA_ENABLE", "0", "CMA single copy off: shared-memory copies only",
                     e.cma_unavailable or evidence_text(e.pull))]


def ucx(e: Evidence) -> list[Setting]:
    """UCX_RNDV_THRESH=intra:..., UCX_TLS with or without cma, UCX_RNDV_SCHEME."""
    # The threshold is the earlier of two switches: one undecided switch leaves it undecided.
    reason = "; ".join(r for r in (undecided_reason(e.pull), undecided_reason(e.push)) if r)
    if reason:
        return undecided_settings(e, "UCX", ["UCX_RNDV_THRESH", "UCX_TLS"], reason)
    if not single_copy_wins(e.pull) and not single_copy_wins(e.push):
        return [_setting(e, "UCX", "UCX_TLS", "^cma", "leave cma out; intra-node rendezvous then copies "
                         "through shared memory", e.cma_unavailable or evidence_text(e.pull))]
    threshold = min(switch_size(c) for c in (e.pull, e.push) if c is not None and single_copy_wins(c))
    scheme = rendezvous_scheme(e.push_over_pull, threshold)
    push_first = scheme == "put_zcopy" or not single_copy_wins(e.pull)
    best = e.push if push_first else e.pull
    assert best is not None
    settings = [
        _setting(e, "UCX", "UCX_RNDV_THRESH", f"intra:{switch_size(best)}",
                 "intra-node messages of this size and above use rendezvous (zero copy through cma)",
                 evidence_text(best)),
        _setting(e, "UCX", "UCX_TLS", "self,sm (the sm alias includes cma; or list it: self,posix,cma)",
                 "transports to use; cma carries the rendezvous zero copy", evidence_text(best)),
    ]
    if e.push_over_pull is not None:  # needs both the pull and the push mechanism measured
        settings.append(_setting(e, "UCX", "UCX_RNDV_SCHEME", scheme,
                                 f"get_zcopy: the receiver reads ({e.transports.pull}); put_zcopy: the sender "
                                 f"writes ({e.transports.push}); auto: UCX chooses", evidence_text(e.push_over_pull)))
    return settings


def rendezvous_scheme(push_over_pull: Crossover | None, threshold: int) -> str:
    """put_zcopy where the push single copy beats the pull one from the rendezvous threshold on,
    get_zcopy where the pull one is never beaten for good, else auto (the two trade places inside the
    rendezvous range, or cannot be told apart)."""
    if push_over_pull is None:
        return "auto"
    if push_over_pull.kind in (CROSSOVER, ALWAYS) and switch_size(push_over_pull) <= threshold:
        return "put_zcopy"
    return "get_zcopy" if push_over_pull.kind == NEVER and win_window(push_over_pull) is None else "auto"


def libfabric(e: Evidence) -> list[Setting]:
    """Which shm provider protocol the sizes above its fixed 4096-byte switch favour."""
    c = e.pull
    if undecided_reason(c):
        return undecided_settings(e, "libfabric shm", ["FI_SHM_DISABLE_CMA"], undecided_reason(c))
    if single_copy_wins(c):
        assert c is not None
        size = switch_size(c)
        if size <= LIBFABRIC_INJECT * 2:
            note = "CMA is faster from about the provider's own 4096-byte switch"
        else:
            note = (f"between 4K and {format_size(size)} the provider's CMA path is slower than a double copy "
                    "(SAR); no variable moves the 4096-byte switch, so keep CMA if most large messages are "
                    f"{format_size(size)} or more")
        return [_setting(e, "libfabric shm", "FI_SHM_DISABLE_CMA", "unset (CMA on)",
                         f"messages above 4096 bytes use CMA: {note}", evidence_text(c))]
    return [_setting(e, "libfabric shm", "FI_SHM_DISABLE_CMA", "1",
                     "messages above 4096 bytes use SAR (double copy through shared bounce buffers) instead of CMA",
                     e.cma_unavailable or evidence_text(c))]


def recommend(rows: pd.DataFrame, alpha: float = 0.05, descriptors: Descriptors = LEGACY) -> list[Setting]:
    """Settings for every (placement, wait) group of the ping-pong crossovers against the double
    copy (whatever mechanism the other tables compare with)."""
    settings: list[Setting] = []
    for e in gather_evidence(rows, alpha, descriptors):
        settings += open_mpi(e) + mpich(e) + ucx(e) + libfabric(e)
    return settings


def gather_evidence(rows: pd.DataFrame, alpha: float, descriptors: Descriptors = LEGACY) -> list[Evidence]:
    """One Evidence per (placement, wait, cache, canary state) where the double copy was measured in
    ping-pong."""
    evidence: list[Evidence] = []
    chosen = transports(descriptors)
    if chosen.double_copy is None:
        return evidence
    rows = with_states(rows).assign(cache=caches)
    # Evidence.pull, .push and .push_over_pull, in that order: (challenger, baseline).
    pairs = ((chosen.pull, chosen.double_copy), (chosen.push, chosen.double_copy), (chosen.push, chosen.pull))
    measured = [c for a, b in pairs if a and b for c in crossovers_between(rows, a, b, alpha, descriptors)]
    double = rows[(rows["scenario"] == SCENARIO) & (rows["mechanism"] == chosen.double_copy)
                  & (rows["status"] == OK) & (rows[STATE] != MIXED)]
    for (placement, wait, cache, state), _ in double.groupby(["placement", "wait", "cache", STATE], sort=True):
        def pick(pair: tuple[str | None, str | None]) -> Crossover | None:
            return next((c for c in measured
                         if (c.scenario, c.placement, c.wait, cache_of(c.variant), c.state, c.challenger, c.baseline)
                         == (SCENARIO, placement, wait, cache, state, *pair)), None)
        pull, push, push_over_pull = (pick(pair) for pair in pairs)
        group = rows[(rows["placement"] == placement) & (rows["wait"] == wait) & (rows["cache"] == cache)]
        evidence.append(Evidence(placement, wait, cache, state, chosen, pull, push, push_over_pull,
                                 bandwidth_plateau(group[group[STATE] == state], chosen.double_copy),
                                 unavailable_reason(group, chosen.pull)))
    return evidence


def bandwidth_plateau(rows: pd.DataFrame, mechanism: str) -> Plateau | None:
    """The smallest size at which the mechanism's median ping-pong bandwidth reaches PLATEAU of
    its peak, and the same over each repetition alone (rows: one group)."""
    mine = rows[(rows["scenario"] == SCENARIO) & (rows["mechanism"] == mechanism) & (rows["status"] == OK)]
    if "bytes_per_second" not in mine or mine["bytes_per_second"].isna().all():
        return None
    size = plateau_size(mine.groupby("size")["bytes_per_second"].median())
    if size is None:
        return None
    singles = [s for _, one in mine.groupby("repetition")
               if (s := plateau_size(one.set_index("size")["bytes_per_second"]))]
    return Plateau(size, min(singles, default=size), max(singles, default=size), len(singles))


def plateau_size(bandwidth: pd.Series) -> int | None:
    """The smallest size (the index) whose bandwidth reaches PLATEAU of the largest."""
    bandwidth = bandwidth.dropna().sort_index()
    reached = bandwidth[bandwidth >= PLATEAU * bandwidth.max()]
    return int(reached.index[0]) if len(reached) else None


def unavailable_reason(rows: pd.DataFrame, mechanism: str | None) -> str:
    """Why the (pull) mechanism did not run in this group ("" when it ran; rows: one group)."""
    mine = rows[rows["mechanism"] == mechanism]
    if mine.empty or (mine["status"] == OK).any():
        return ""
    skipped = mine[mine["status"] == SKIPPED]
    reason = skipped["message"].iloc[0] if len(skipped) else mine["message"].iloc[0]
    return f"{mechanism} could not run here: {reason}"


def to_records(settings: Sequence[Setting]) -> list[dict[str, object]]:
    """Settings as plain dicts for JSON."""
    return [json_safe(asdict(s)) for s in settings]


def _setting(e: Evidence, library: str, parameter: str, value: str, meaning: str, evidence: str) -> Setting:
    return Setting(e.placement, e.wait, library, parameter, value, meaning, evidence, e.state, e.cache)
