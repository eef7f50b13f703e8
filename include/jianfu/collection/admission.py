"""The admission check (准入, SPEC.md section 10): does a proposed form collect what others already do?

A department proposing a new form sends a CSV or XLSX of `dept_code, form_name, frequency,
data_items` (or the Chinese headers 下发部门代码 / 部门, 报表名称, 填报频次, 指标清单). Each proposal is
compared with every form filled in the 12 months up to the latest period of the warehouse, with the
similarity of SPEC.md section 8 (Jaccard of normalised data_items when both list items, else 1 when
the normalised names are equal, else 0). Matches >= `admission_review_min` (0.3) are listed best
first with the number of units that filled the form at least once in the window; the verdict is
`reuse` when one reaches `form_similarity_min` (0.6), `review` when one reaches 0.3, else `admit`.

`admit` is a promise that nothing in use overlaps, so the check refuses to judge when it cannot keep
it: with no form counts in the window, or when a row names a department that is not in
departments.csv, a frequency it does not know or no form name (the whole file is refused, each such
row named: a verdict on half a list would be read as a verdict on all of it).

The file is read by the same reader as county submissions (jianfu.ingest.read.open_sheet: UTF-8 or
GB18030 CSV, XLSX with title rows above the header); names and items are normalised by the flags'
normaliser (jianfu.flags.normalize.norm_name), so the check and FORM_DUPLICATE_ACROSS_DEPTS agree.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..config import ConfigError, JianfuError, Settings, load_rules
from ..escape import neutralise_formula
from ..flags.normalize import nfkc_code, norm_name
from ..ingest.headers import header_key
from ..ingest.read import open_sheet
from ..problems import RejectFile
from ..reference import Reference
from ..schema import FREQUENCY, split_list
from ..warehouse.views import connect

REUSE, REVIEW, ADMIT = "reuse", "review", "admit"
CSV_COLUMNS = ("proposed_form", "verdict", "dept_code", "form_id", "form_name", "similarity", "units_filling")
#: Rows named in a refusal before "and N more": the message stays one readable line.
NAMED_ROWS = 10
MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 10_000
WINDOW_MONTHS = 12

#: Canonical column -> accepted header spellings (compared by ingest.headers.header_key).
COLUMNS: dict[str, tuple[str, ...]] = {
    "dept_code": ("dept_code", "下发部门代码", "部门代码", "部门", "下发部门"),
    "form_name": ("form_name", "报表名称", "报表名", "表名"),
    "frequency": ("frequency", "填报频次", "频次", "填报频率"),
    "data_items": ("data_items", "指标清单", "指标", "数据项"),
}
_HEADER = {header_key(alias): name for name, spellings in COLUMNS.items() for alias in spellings}
_FREQUENCY = {header_key(k): k for k in FREQUENCY} | {header_key(v): k for k, v in FREQUENCY.items()}


@dataclass(frozen=True)
class ExistingForm:
    dept_code: str
    form_id: str
    form_name: str
    data_items: frozenset[str]  # normalised
    units_filling: int


@dataclass
class Match:
    dept_code: str
    form_id: str
    form_name: str
    similarity: float
    units_filling: int


@dataclass
class Proposal:
    row: int  # row in the proposer's file
    dept_code: str | None
    form_name: str
    frequency: str | None
    data_items: list[str]
    verdict: str = ADMIT
    matches: list[Match] = field(default_factory=list)


def item_set(text: str | None) -> frozenset[str]:
    """data_items split as in SPEC 4.1 and normalised as in SPEC 8 (blanks dropped)."""
    return frozenset(n for n in (norm_name(i) for i in split_list(text)) if n)


def similarity(name_a: str, items_a: frozenset[str], name_b: str, items_b: frozenset[str]) -> float:
    """SPEC.md section 8: Jaccard of items when both have some, else equal normalised names."""
    if items_a and items_b:
        return len(items_a & items_b) / len(items_a | items_b)
    return 1.0 if norm_name(name_a) and norm_name(name_a) == norm_name(name_b) else 0.0


class NoJudgement(JianfuError):
    """The check cannot judge (no forms to compare with, or rows it cannot read): exit 1, no verdict."""


@dataclass
class ProposalFile:
    """The proposals of a file and which of its header cells were read as which column."""

    proposals: list[Proposal]
    recognised: dict[str, str]  # canonical column -> header text as sent

    def describe_columns(self) -> str:
        found = ", ".join(f"{text} -> {name}" for name, text in self.recognised.items())
        missing = [name for name in COLUMNS if name not in self.recognised]
        return f"columns recognised: {found}" + (f"; not found: {', '.join(missing)}" if missing else "")


@dataclass
class AdmissionResult:
    source: str
    window: tuple[str, str] | None  # (first period, latest period) compared
    forms_compared: int
    reuse_min: float
    review_min: float
    proposals: list[Proposal]
    columns: str = ""  # which header cells were read as which column

    def render(self, fmt: str = "table") -> str:
        if fmt == "csv":
            return self.to_csv()
        if fmt == "json":
            return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)
        if fmt == "table":
            return self.to_table()
        raise ConfigError(f"unknown format {fmt!r}: use table, csv or json")

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "window": list(self.window) if self.window else None,
            "forms_compared": self.forms_compared,
            "thresholds": {"reuse": self.reuse_min, "review": self.review_min},
            "columns": self.columns,
            "proposals": [asdict(p) for p in self.proposals],
        }

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for p in self.proposals:
            rows = [[m.dept_code, m.form_id, m.form_name, f"{m.similarity:.3f}", m.units_filling]
                    for m in p.matches] or [["", "", "", "", ""]]
            for row in rows:
                writer.writerow([neutralise_formula(v) for v in [p.form_name, p.verdict, *row]])
        return out.getvalue().rstrip("\n")

    def to_table(self) -> str:
        window = f"{self.window[0]}..{self.window[1]}" if self.window else "-"
        head = (f"admission check of {self.source}: {len(self.proposals)} proposed form(s) against "
                f"{self.forms_compared} existing form(s) filled {window}")
        lines = [head, self.columns,
                 f"verdict: reuse (similarity >= {self.reuse_min:g}) / review (>= {self.review_min:g}) / admit", ""]
        verdict_zh = {REUSE: "复用已有报表", REVIEW: "需审查", ADMIT: "准予新设"}
        for p in self.proposals:
            who = f" ({p.dept_code})" if p.dept_code else ""
            lines.append(f"{p.form_name}{who}: {p.verdict.upper()} {verdict_zh[p.verdict]}")
            if not p.matches:
                lines.append("    no existing form collects the same items")
            for m in p.matches:
                lines.append(f"    {m.similarity:.3f}  {m.dept_code}:{m.form_id} {m.form_name}"
                             f"  ({m.units_filling} unit(s) filling)")
        return "\n".join(lines)


# ------------------------------------------------------------------------------ reading the proposal
def read_proposals(path: Path, reference: Reference) -> ProposalFile:
    """Proposed forms of a CSV/XLSX file; a one-line error when it cannot be used or judged whole."""
    try:
        sheet = open_sheet(path, MAX_BYTES, MAX_ROWS)
    except RejectFile as exc:
        raise ConfigError(f"{path}: {exc.problem.message_en}") from None
    header_index, positions = None, {}
    for i, cells in enumerate(sheet.head):
        found = {}
        for pos, cell in enumerate(cells):
            name = _HEADER.get(header_key(cell))
            if name and name not in found:
                found[name] = pos
        if "form_name" in found:
            header_index, positions = i, found
            break
    if header_index is None:
        raise ConfigError(f"{path}: no header row with form_name (报表名称) in the first "
                          f"{len(sheet.head)} rows; expected dept_code (部门), form_name (报表名称), "
                          "frequency (填报频次), data_items (指标清单)")
    header_cells = sheet.head[header_index]
    recognised = {name: str(header_cells[pos]).strip() for name, pos in sorted(positions.items(), key=lambda kv: kv[1])}
    body = sheet.body(header_index)

    def column(name: str) -> list[str | None]:
        if name not in positions or positions[name] >= len(body.cells):
            return [None] * len(body.rows)
        return [v.strip() if isinstance(v, str) and v.strip() else None for v in body.cells[positions[name]].to_pylist()]

    names, depts, freqs, items = (column(c) for c in ("form_name", "dept_code", "frequency", "data_items"))
    proposals, problems = [], []
    for n, row in enumerate(body.rows.tolist()):
        if not any((names[n], depts[n], freqs[n], items[n])):
            continue  # blank row
        dept = nfkc_code(depts[n]) if depts[n] else None
        freq = _FREQUENCY.get(header_key(freqs[n])) if freqs[n] else None
        wrong = []
        if not names[n]:
            wrong.append("form_name (报表名称) is empty")
        if dept is None:
            wrong.append("the department (部门) is empty")
        elif dept not in reference.departments:
            wrong.append(f"department {dept} is not in departments.csv")
        if freqs[n] is None:
            wrong.append("frequency (填报频次) is empty")
        elif freq is None:
            wrong.append(f"frequency {freqs[n]!r} is not one of {'/'.join(FREQUENCY)} ({'/'.join(FREQUENCY.values())})")
        if wrong:
            problems.append(f"row {row}: {', '.join(wrong)}")
            continue
        proposals.append(Proposal(row=row, dept_code=dept, form_name=names[n], frequency=freq,
                                  data_items=split_list(items[n])))
    if problems:
        more = f"; and {len(problems) - NAMED_ROWS} more row(s)" if len(problems) > NAMED_ROWS else ""
        raise NoJudgement(f"{path}: refused whole, nothing judged (拟新增报表清单有误，未作判断): "
                          + "; ".join(problems[:NAMED_ROWS]) + more)
    if not proposals:
        raise ConfigError(f"{path}: no proposed form below the header row")
    return ProposalFile(proposals, recognised)


# ------------------------------------------------------------------------------ existing forms
def _shift(period: str, months: int) -> str:
    index = int(period[:4]) * 12 + int(period[5:7]) - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def existing_forms(settings: Settings) -> tuple[tuple[str, str] | None, list[ExistingForm]]:
    """Forms filled in the 12 months up to the latest period of form_counts, one per dept x form_id.

    A form's name and items are those of its latest period that lists any; units_filling counts
    distinct units with fill_count >= 1 in the window.
    """
    con = connect(settings.warehouse, tables=["form_counts"])
    try:
        latest = con.execute("SELECT max(period) FROM form_counts").fetchone()[0]
        if latest is None:
            return None, []
        first = _shift(latest, -(WINDOW_MONTHS - 1))
        rows = con.execute(
            """SELECT dept_code, form_id,
                      arg_max(form_name, period) AS form_name,
                      arg_max(data_items, period) FILTER (WHERE trim(coalesce(data_items, '')) <> '') AS items,
                      count(DISTINCT unit_code) FILTER (WHERE fill_count >= 1) AS units_filling
               FROM form_counts WHERE period BETWEEN ? AND ?
               GROUP BY dept_code, form_id ORDER BY dept_code, form_id""",
            [first, latest],
        ).fetchall()
    finally:
        con.close()
    return (first, latest), [ExistingForm(d, f, n or "", item_set(i), int(u or 0)) for d, f, n, i, u in rows]


def check_form(settings: Settings, path: Path) -> AdmissionResult:
    """Compare each proposed form of `path` with the forms in use and give its verdict."""
    rules = load_rules(settings.reference)
    reuse_min = float(rules["form_similarity_min"])
    review_min = float(rules["admission_review_min"])
    proposal_file = read_proposals(path, Reference.load(settings.reference))
    proposals = proposal_file.proposals
    window, forms = existing_forms(settings)
    if window is None:
        raise NoJudgement("the warehouse has no form counts to compare with (报表填报统计为空，无法判断): "
                          "ingest and build the counties' form_counts first")
    for proposal in proposals:
        items = frozenset(n for n in (norm_name(i) for i in proposal.data_items) if n)
        matches = []
        for form in forms:
            score = similarity(proposal.form_name, items, form.form_name, form.data_items)
            if score >= review_min:
                matches.append(Match(form.dept_code, form.form_id, form.form_name, round(score, 6),
                                     form.units_filling))
        matches.sort(key=lambda m: (-m.similarity, -m.units_filling, m.dept_code, m.form_id))
        proposal.matches = matches
        best = matches[0].similarity if matches else 0.0
        proposal.verdict = REUSE if best >= reuse_min else REVIEW if best >= review_min else ADMIT
    return AdmissionResult(str(path), window, len(forms), reuse_min, review_min, proposals,
                           proposal_file.describe_columns())
