"""crossings.py: separation by repetitions, and crossings on synthetic curves with known answers."""
from __future__ import annotations

import math

import pytest

from ipcatlas_analysis.crossings import (A, B, RANGES, SINGLE, TIE, U_TEST, Crossing, compare_sizes, find_crossings,
                                         separate, weakest_method)

SIZES = [1, 2, 4, 8, 16, 32, 64, 128]


def reps(value: float, n: int = 5, spread: float = 0.01) -> list[float]:
    """n repetitions around value, within +-spread (relative)."""
    return [value * (1 + spread * (2 * i / (n - 1) - 1)) for i in range(n)] if n > 1 else [value]


def curve(values: list[float], n: int = 5) -> list[list[float]]:
    return [reps(v, n) for v in values]


@pytest.mark.parametrize(("a", "b", "expected"), [
    (reps(100), reps(200), (A, U_TEST)),
    (reps(200), reps(100), (B, U_TEST)),
    (reps(100, spread=0.3), reps(105, spread=0.3), (TIE, U_TEST)),  # overlapping noise: not separated
    ([1.0, 2.0], [3.0, 4.0], (A, RANGES)),
    ([1.0, 3.5], [3.0, 4.0], (TIE, RANGES)),  # ranges overlap
    ([1.0], [2.0], (A, SINGLE)),
    ([2.0], [2.0], (TIE, SINGLE)),
])
def test_separate_lower_is_better(a: list[float], b: list[float], expected: tuple[str, str]) -> None:
    assert separate(a, b, lower_is_better=True) == expected


def test_separate_higher_is_better() -> None:
    assert separate(reps(9e9), reps(3e9), lower_is_better=False) == (A, U_TEST)


def test_u_test_needs_four_repetitions_per_side() -> None:
    # 3 + 3 cannot reach p < 0.05, so 3 repetitions use the range rule instead.
    assert separate(reps(1, 3), reps(2, 3), True)[1] == RANGES
    assert separate(reps(1, 4), reps(2, 5), True)[1] == U_TEST


def test_no_crossing() -> None:
    compared = compare_sizes(SIZES, curve([1] * 8), curve([2] * 8), True)
    assert {c.winner for c in compared} == {A}
    assert find_crossings(compared) == []


def test_one_crossing_with_an_undecided_interval() -> None:
    # A costs 100 + 10 s, B costs 200 + s: they cross at s = 100/9 = 11.1; at 8 and 16
    # the noise (+-30 %) hides the difference, so the interval is 4..32.
    a = [100 + 10 * s for s in SIZES]
    b = [200 + s for s in SIZES]
    noisy = [16, 8]
    a_reps = [reps(v, 5, 0.3 if s in noisy else 0.01) for v, s in zip(a, SIZES)]
    b_reps = [reps(v, 5, 0.3 if s in noisy else 0.01) for v, s in zip(b, SIZES)]
    compared = compare_sizes(SIZES, a_reps, b_reps, True)
    assert [c.winner for c in compared] == [A, A, A, TIE, TIE, B, B, B]
    (crossing,) = find_crossings(compared)
    assert (crossing.before, crossing.after, crossing.low, crossing.high) == (A, B, 4, 32)
    assert 8 < crossing.estimate < 16  # the medians cross at 11.1
    fraction = math.log(180 / 208) / (math.log(180 / 208) - math.log(260 / 216))
    assert crossing.estimate == pytest.approx(2 ** (3 + fraction))


def test_several_crossings_are_all_found() -> None:
    a = [1, 3, 3, 1, 1, 3, 1, 1]
    compared = compare_sizes(SIZES, curve(a), curve([2] * 8), True)
    found = find_crossings(compared)
    assert [(c.before, c.after, c.low, c.high) for c in found] == [
        (A, B, 1, 2), (B, A, 4, 8), (A, B, 16, 32), (B, A, 32, 64)]


def test_all_ties_give_no_crossing() -> None:
    compared = compare_sizes(SIZES, curve([1] * 8), curve([1] * 8), True)
    assert {c.winner for c in compared} == {TIE}
    assert find_crossings(compared) == []


def test_estimate_falls_back_to_the_middle_when_medians_never_cross() -> None:
    compared = compare_sizes([4, 8, 16], [[1.0], [2.0], [3.0]], [[2.0], [2.0], [2.0]], True)
    assert find_crossings(compared) == [Crossing(A, B, 4, 16, 8.0)]  # 8 is a tie at exactly 1


def test_weakest_method() -> None:
    compared = compare_sizes([1, 2], [reps(1), [1.0]], [reps(2), [2.0]], True)
    assert weakest_method(compared) == SINGLE
    assert weakest_method([]) == ""
