"""SPEC.md section 13 as a pure function: planned visits in, the fewest joint visits out.

Nothing here reads files, clocks or settings: the same rows, `as_of` and shift give the same
proposals, so the rule can be pinned by hand-made plans and checked against a brute-force oracle,
and the console, the bulletin and `jianfu joint` all show the same answer.

Why the greedy is the minimum: each candidate may move within an interval of days (its window), and
a set of candidates can be one visit exactly when their windows share a day. Taking the unassigned
window that ends first and meeting on its last day is the classic interval-stabbing greedy: no
meeting day can cover that window and also cover anything a later day would miss.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

#: The status of a visit still to happen (SPEC.md section 4.3): the only one that can be merged.
PLANNED = "planned"

#: Columns of a proposal row, in order (SPEC.md section 13); `jianfu joint --format csv` prints these.
PROPOSAL_COLUMNS = ("year", "county_code", "target_unit_code", "proposed_date", "lead_dept_code",
                    "departments", "visits", "visits_merged", "visits_saved")


@dataclass(frozen=True)
class PlanRow:
    """The columns of an inspections row (SPEC.md section 4.3) that joint visits depend on."""

    county_code: str
    year: int
    dept_code: str
    item_id: str
    target_unit_code: str
    planned_date: date
    status: str


@dataclass(frozen=True)
class Candidate:
    """A planned visit still ahead, with the days it may move to: [start, end]."""

    row: PlanRow
    start: date
    end: date

    @property
    def label(self) -> str:
        """How SPEC 13 writes a visit in a proposal: `dept:item@planned_date`."""
        return f"{self.row.dept_code}:{self.row.item_id}@{self.row.planned_date.isoformat()}"

    def holds(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class Proposal:
    """One joint visit: two or more candidates of one county x target meeting on one day."""

    year: int
    county_code: str
    target_unit_code: str
    proposed_date: date
    lead_dept_code: str
    members: tuple[Candidate, ...]  # sorted by their label
    window: tuple[date, date]  # the days every member can move to
    lead: Candidate

    @property
    def dept_codes(self) -> tuple[str, ...]:
        return tuple(sorted({m.row.dept_code for m in self.members}))

    @property
    def departments(self) -> int:
        return len(self.dept_codes)

    @property
    def visits(self) -> str:
        return ";".join(m.label for m in self.members)

    @property
    def visits_merged(self) -> int:
        return len(self.members)

    @property
    def visits_saved(self) -> int:
        return len(self.members) - 1

    def row(self) -> dict[str, object]:
        """The SPEC 13 output row (dates as ISO text), keys in PROPOSAL_COLUMNS order."""
        return {"year": self.year, "county_code": self.county_code, "target_unit_code": self.target_unit_code,
                "proposed_date": self.proposed_date.isoformat(), "lead_dept_code": self.lead_dept_code,
                "departments": self.departments, "visits": self.visits, "visits_merged": self.visits_merged,
                "visits_saved": self.visits_saved}


@dataclass(frozen=True)
class Summary:
    """What merging would change: visits planned ahead, proposals, visits left after merging."""

    candidates: int
    proposals: int
    visits_after_merging: int
    year: int | None = None
    as_of: date | None = None
    by_county: dict[str, Summary] = field(default_factory=dict, compare=False, repr=False)

    @property
    def reduction_pct(self) -> float:
        """Share of the visits ahead that merging saves, in percent (one decimal)."""
        if not self.candidates:
            return 0.0
        return round(100 * (self.candidates - self.visits_after_merging) / self.candidates, 1)

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"candidates": self.candidates, "proposals": self.proposals,
                                  "visits_after_merging": self.visits_after_merging,
                                  "reduction_pct": self.reduction_pct}
        if self.year is not None:
            out["year"] = self.year
        if self.as_of is not None:
            out["as_of"] = self.as_of.isoformat()
        return out

    def describe(self) -> str:
        """One line for the office, in Chinese and English."""
        return (f"待查 {self.candidates} 次, 合并后 {self.visits_after_merging} 次 (联合检查建议 {self.proposals} 项, "
                f"减少 {self.reduction_pct}%) | planned visits ahead: {self.candidates}, joint visits proposed: "
                f"{self.proposals}, visits after merging: {self.visits_after_merging}, "
                f"reduction: {self.reduction_pct}%")


def window(planned: date, as_of: date, year: int, shift_days: int) -> tuple[date, date]:
    """The days a visit planned on `planned` may move to (SPEC 13): never into the past, never
    out of its year, at most `shift_days` either way."""
    shift = timedelta(days=shift_days)
    start = max(planned - shift, as_of + timedelta(days=1), date(year, 1, 1))
    end = min(planned + shift, date(year, 12, 31))
    return start, end


def candidates(rows: Iterable[PlanRow], *, year: int, as_of: date, shift_days: int) -> list[Candidate]:
    """The visits of `year` that can still be merged: planned, and planned after `as_of`."""
    return [Candidate(r, *window(r.planned_date, as_of, year, shift_days)) for r in rows
            if r.year == year and r.status == PLANNED and r.planned_date > as_of]


def _greedy_key(c: Candidate) -> tuple:
    # SPEC 13's order; planned_date last only makes a malformed plan (a repeated key) deterministic.
    return (c.end, c.start, c.row.dept_code, c.row.item_id, c.row.planned_date)


def group_visits(cands: Iterable[Candidate]) -> list[list[Candidate]]:
    """The greedy of SPEC 13 for one county x target: every candidate in exactly one group."""
    pending = sorted(cands, key=_greedy_key)
    groups = []
    while pending:
        point = pending[0].end
        groups.append([c for c in pending if c.holds(point)])
        pending = [c for c in pending if not c.holds(point)]
    return groups


def planned_counts(rows: Iterable[PlanRow], year: int) -> dict[str, Counter[str]]:
    """Rows of status planned per county and department in the year's plan (any target, any date):
    the measure of who inspects more often, whom the others join."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for r in rows:
        if r.year == year and r.status == PLANNED:
            counts[r.county_code][r.dept_code] += 1
    return counts


def make_proposal(group: list[Candidate], counts: Counter[str]) -> Proposal:
    """Lead department, lead visit and proposed date of a group of two or more (SPEC 13)."""
    lead_dept = min({c.row.dept_code for c in group}, key=lambda d: (-counts[d], d))
    lead = min((c for c in group if c.row.dept_code == lead_dept), key=lambda c: (c.row.planned_date, c.row.item_id))
    common = (max(c.start for c in group), min(c.end for c in group))
    proposed = min(max(lead.row.planned_date, common[0]), common[1])
    first = group[0].row
    return Proposal(first.year, first.county_code, first.target_unit_code, proposed, lead_dept,
                    tuple(sorted(group, key=lambda c: c.label)), common, lead)


def propose(rows: Iterable[PlanRow], *, year: int, as_of: date, shift_days: int) -> tuple[list[Proposal], Summary]:
    """SPEC 13 over a year's plan rows (any counties): proposals sorted by county, target and date,
    and the summary, overall and per county (`Summary.by_county`)."""
    if shift_days < 0:
        raise ValueError(f"joint_shift_days must be 0 or more, got {shift_days}")
    rows = list(rows)
    counts = planned_counts(rows, year)
    per_target: dict[tuple[str, str], list[Candidate]] = defaultdict(list)
    for c in candidates(rows, year=year, as_of=as_of, shift_days=shift_days):
        per_target[(c.row.county_code, c.row.target_unit_code)].append(c)
    proposals: list[Proposal] = []
    tallies: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # candidates, proposals, visits after
    for (county, _target), cands in sorted(per_target.items()):
        groups = group_visits(cands)
        tally = tallies[county]
        tally[0] += len(cands)
        tally[2] += len(groups)
        for group in groups:
            if len(group) >= 2:
                proposals.append(make_proposal(group, counts[county]))
                tally[1] += 1
    proposals.sort(key=lambda p: (p.county_code, p.target_unit_code, p.proposed_date, p.visits))
    by_county = {county: Summary(*t, year=year, as_of=as_of) for county, t in sorted(tallies.items())}
    return proposals, total(by_county, year=year, as_of=as_of)


def total(by_county: dict[str, Summary], *, year: int, as_of: date) -> Summary:
    """The summary of several counties' summaries (each county is grouped on its own)."""
    parts = list(by_county.values())
    return Summary(sum(s.candidates for s in parts), sum(s.proposals for s in parts),
                   sum(s.visits_after_merging for s in parts), year=year, as_of=as_of,
                   by_county=dict(sorted(by_county.items())))
