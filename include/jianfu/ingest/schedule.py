"""Who reads and who validates each file of an ingest on two cores (pipeline._check_all).

Three processes share the work. The *reader* is forked first and reads the checker's files, then
more files, while this process loads GX (about 1.4-1.9 s), until this process says stop; the
*checker* is forked once GX is loaded and validates and stages its files, while this process
reads what the reader did not, and validates and stages the rest.

Validating costs a fixed part per kind and per process — GX's run of the kind's suite and the
stored result, about as much as validating 10 MB of form counts — so a kind validated in both
processes pays it twice. A province month is mostly form counts (40 of its 49 MB), cheap to
validate per MB, while a work-group MB costs four times as much: giving each process whole kinds
(the checker work groups and inspections, this process form counts) makes both finish together
and pays each suite once. When the kinds cannot be balanced that way (one kind only, or kinds of
similar size), every kind is split by bytes instead, as `split` does. `plan` estimates every
choice and takes the quickest.

The costs below are seconds of one core of the 2-core machine the benchmark runs on; only their
ratios matter, and a wrong estimate costs time, never correctness: every file is read, validated
and staged exactly once whichever plan is chosen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: How long this process takes to load GX, its contexts and the suites while the reader runs on
#: the other core (measured 1.35-1.9 s): what the reader may read in the meantime.
LOAD_SECONDS = 1.65
#: Reading a file (decoding, finding the header, parsing, normalising): per file, plus per MB.
READ_SECONDS_PER_FILE = 0.002
#: Handing a table the reader read over to this process (an Arrow IPC file): per file, plus per MB.
HANDOVER_SECONDS_PER_FILE = 0.0008
HANDOVER_SECONDS_PER_MB = 0.002
#: Validating a kind in one process: its suite run and stored result, plus per MB of its files.
SUITE_SECONDS = 0.15
#: Staging a file that passed: per file (most of it), plus per MB.
STAGE_SECONDS_PER_FILE = 0.0007


@dataclass(frozen=True)
class KindCost:
    """Seconds per MB of CSV of one kind: its rows' width and its suite differ a lot (a work-group
    MB takes four times a form-count MB to validate: fewer, wider rows and more expectations)."""

    read: float
    check: float


#: Measured on the benchmark's province month (bench/); other kinds cost as DEFAULT_COST.
KIND_COSTS = {
    "form_counts": KindCost(read=0.015, check=0.015),
    "work_groups": KindCost(read=0.033, check=0.065),
    "inspections": KindCost(read=0.020, check=0.045),
}
DEFAULT_COST = KindCost(read=0.03, check=0.05)
#: The part of every kind the reader reads when kinds are split (this process reads the rest).
SPLIT_READER_SHARE = 0.7
#: A file's fixed cost in `split`'s balance, in bytes (a typical county file is ~100 KB).
SPLIT_FILE_BYTES = 100_000


@dataclass
class Plan:
    """`checker`: read by the reader process, validated and staged by the checker. `kept`
    (`reader` less `checker`), then `here`: validated and staged by this process; the reader
    reads them too, in that order, until GX is loaded here (pipeline._check_all), and this process
    reads the rest. The estimate is of `reader` as planned."""

    reader: list
    checker: list
    here: list
    how: str
    estimate: float

    @property
    def kept(self) -> list:
        taken = {id(item) for item in self.checker}
        return [item for item in self.reader if id(item) not in taken]


def split(items: Sequence, there: float = 0.5, size=lambda item: item.size, kind=lambda item: item.kind
          ) -> tuple[list, list]:
    """Two shares, the second with about `there` of the files of every kind and of their bytes:
    reading costs per file as much as per byte. Within each kind, the largest file goes to the
    share furthest below its target."""
    shares: tuple[list, list] = ([], [])
    by_kind: dict[str | None, list] = {}
    for item in items:
        by_kind.setdefault(kind(item), []).append(item)
    goal = (1 - there, there)
    for group in by_kind.values():
        weight = [0.0, 0.0]
        for item in sorted(group, key=lambda i: -(size(i) or 0)):
            cost = (size(item) or 0) + SPLIT_FILE_BYTES
            side = min((0, 1), key=lambda i: ((weight[i] + cost) / goal[i] if goal[i] else float("inf"), i))
            shares[side].append(item)
            weight[side] += cost
    return shares


def _mb(size) -> float:
    return (size or 0) / 2**20


def _read(items: Sequence, size, kind) -> float:
    return sum(READ_SECONDS_PER_FILE + _mb(size(i)) * KIND_COSTS.get(kind(i), DEFAULT_COST).read for i in items)


def _read_and_hand_over(items: Sequence, size, kind) -> float:
    return _read(items, size, kind) + sum(HANDOVER_SECONDS_PER_FILE + _mb(size(i)) * HANDOVER_SECONDS_PER_MB
                                          for i in items)


def _check(items: Sequence, size, kind) -> float:
    kinds = {kind(i) for i in items if kind(i) is not None}
    return len(kinds) * SUITE_SECONDS + sum(
        STAGE_SECONDS_PER_FILE + _mb(size(i)) * KIND_COSTS.get(kind(i), DEFAULT_COST).check for i in items)


def plan(items: Sequence, size=lambda item: item.size, kind=lambda item: item.kind) -> Plan:
    """The quickest, by the estimates above, of splitting every kind and of giving the checker
    whole kinds (every choice of them); the reader reads the checker's files, then, while GX is
    still loading by the estimate, files of this process's kinds too. `size` and `kind` give an
    item's bytes and its kind (None when unknown)."""
    candidates = [_split_plan(items, size, kind)]
    groups: dict[str | None, list] = {}
    for item in items:
        groups.setdefault(kind(item), []).append(item)
    known = [k for k in groups if k is not None]
    for mask in range(1, 2 ** len(known) - 1):  # every proper subset of the kinds for the checker
        checker = [i for n, k in enumerate(known) if mask >> n & 1 for i in groups[k]]
        here = [i for n, k in enumerate(known) if not mask >> n & 1 for i in groups[k]] + groups.get(None, [])
        candidates.append(_whole_kinds_plan(checker, here, size, kind))
    return min(candidates, key=lambda p: p.estimate)


def _estimate(reader: list, checker: list, here: list, kept: list, size, kind) -> float:
    stage_one = max(LOAD_SECONDS, _read_and_hand_over(reader, size, kind))
    stage_two = max(_check(checker, size, kind), _read(here, size, kind) + _check(here + kept, size, kind))
    return stage_one + stage_two


def _split_plan(items: Sequence, size, kind) -> Plan:
    here, there = split(items, SPLIT_READER_SHARE, size, kind)
    return Plan(there, there, here, "every kind split", _estimate(there, there, here, [], size, kind))


def _whole_kinds_plan(checker: list, here: list, size, kind) -> Plan:
    reader = list(checker)
    budget = LOAD_SECONDS - _read_and_hand_over(reader, size, kind)
    kept = []
    for item in sorted(here, key=lambda i: -(size(i) or 0)):
        cost = _read_and_hand_over([item], size, kind)
        if cost <= budget and kind(item) is not None:
            kept.append(item)
            budget -= cost
    taken = {id(i) for i in kept}
    unread = [i for i in here if id(i) not in taken]
    return Plan(reader + kept, checker, unread, "whole kinds",
                _estimate(reader + kept, checker, unread, kept, size, kind))
