"""Which files the pilot counties send, in which shape, and when — including the messy ones.

Every county sends form_counts and work_groups for each of the three months and two updates of its
inspection plan. On top of that: corrections that supersede an original, a correction that is
rejected (the original stays in force), a byte-identical copy, files that must be rejected (one per
critical check worth demonstrating), and files accepted with warnings. Each extra version that
carries a would-be flag declares it as a near miss: only versions in force count.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from .divisions import County
from .inspections import Visit, snapshot
from .periods import period_end
from .planted import (
    FORMS,
    GROUPS,
    HUANGMEI,
    HUGUAN,
    INSPECTIONS,
    NANJING,
    NINGYUAN,
    SHANDAN,
    SHANGDANG,
    WUXIANG,
    Case,
    Planter,
)
from .render import Style
from .submissions import Submission

KIND_ZH = {FORMS: "报表填报统计", GROUPS: "政务工作群统计", INSPECTIONS: "督检考计划及执行"}

#: Each pilot county's clerk has habits (SPEC.md section 4 lists what is accepted).
PROFILES: dict[str, Style] = {
    SHANGDANG: Style(encoding="gb18030", header="zh", enums="zh", dates="cn", period="cn", bools=("是", "否"), sep="、"),
    HUGUAN: Style(fmt="xlsx", title_rows=2, header="zh", enums="zh", dates="excel", period="compact",
                  bools=("是", "否"), sep="；"),
    WUXIANG: Style(encoding="utf-8-sig", header="zh_messy", enums="mixed", dates="slash", bools=("Y", "N"), sep="，"),
    NANJING: Style(encoding="utf-8", newline="\n", header="en", enums="en", dates="iso", bools=("yes", "no"), sep=";"),
    HUANGMEI: Style(fmt="xlsx", title_rows=3, header="zh", enums="zh", dates="excel", period="cn",
                    bools=("是", "否"), sep="、"),
    NINGYUAN: Style(encoding="gb18030", header="en_messy", enums="zh", dates="slash", period="compact",
                    bools=("1", "0"), sep="|"),
    SHANDAN: Style(fmt="xlsx", title_rows=1, header="en", enums="en", dates="iso", bools=("true", "false"), sep=";"),
}
#: Inspection plans are kept by another office in some counties, in another tool.
INSPECTION_PROFILES: dict[str, Style] = {
    SHANGDANG: Style(fmt="xlsx", title_rows=2, header="zh", enums="zh", dates="excel", bools=("是", "否"), sep="、"),
    NANJING: Style(encoding="gb18030", header="zh", enums="zh", dates="cn", bools=("是", "否"), sep="，"),
}


@dataclass
class PilotData:
    """In-force rows before files are cut: forms/groups by (county, period), visits by county."""

    counties: dict[str, County]
    periods: list[str]
    year: int
    now: datetime
    seed: int
    forms: dict[tuple[str, str], list[dict]]
    groups: dict[tuple[str, str], list[dict]]
    visits: dict[str, list[Visit]]
    planter: Planter


def next_period(period: str) -> str:
    y, m = int(period[:4]), int(period[5:7])
    return f"{y + m // 12}-{m % 12 + 1:02d}"


class Plan:
    """Builds the list of submissions of the pilot sample."""

    def __init__(self, data: PilotData):
        self.d = data
        self.subs: list[Submission] = []
        self.cases: list[Case] = []

    # --- helpers ---------------------------------------------------------------------------------

    def style(self, county: str, kind: str, period: str, **changes) -> Style:
        base = INSPECTION_PROFILES.get(county, PROFILES[county]) if kind == INSPECTIONS else PROFILES[county]
        rng = random.Random(f"{self.d.seed}/style/{county}/{kind}/{period}")
        blanks = rng.choice((0, 0, 1, 2))
        return replace(base, blank_rows=blanks, **changes)

    def sent(self, county: str, kind: str, period: str) -> datetime:
        """Simulated send time: early in the month after the period, now and then after the due day 5."""
        rng = random.Random(f"{self.d.seed}/sent/{county}/{kind}/{period}")
        first = period_end(period) + timedelta(days=1)
        day = rng.randint(5, 9) if rng.random() < 0.15 else rng.randint(0, 3)
        return datetime(first.year, first.month, first.day, rng.randint(8, 17), rng.randint(0, 59),
                        rng.randint(0, 59), tzinfo=UTC) + timedelta(days=day)

    def name(self, county: str, kind: str, period: str, style: Style, suffix: str = "", asof: date | None = None) -> str:
        cname = self.d.counties[county].name
        if kind == INSPECTIONS:
            return f"{county}_{period}_{cname}{KIND_ZH[kind]}_截至{asof.month}月{asof.day}日{suffix}.{style.ext}"
        return f"{county}_{period}_{cname}{KIND_ZH[kind]}{suffix}.{style.ext}"

    def title(self, county: str, kind: str, period: str) -> str:
        cname = self.d.counties[county].name
        if kind == INSPECTIONS:
            return f"{cname}{period}年度督查检查考核计划及执行情况"
        return f"{cname}{int(period[:4])}年{int(period[5:7])}月{KIND_ZH[kind]}"

    def add(self, kind: str, county: str, period: str, rows: list[dict], *, style: Style | None = None,
            sent: datetime | None = None, suffix: str = "", why: str = "", valid: bool = True,
            asof: date | None = None) -> Submission:
        style = style or self.style(county, kind, period)
        sub = Submission(kind=kind, county=county, period=period,
                         name=self.name(county, kind, period, style, suffix, asof), rows=rows, style=style,
                         sent=sent or self.sent(county, kind, period), why=[why] if why else [], valid=valid,
                         title=self.title(county, kind, period))
        self.subs.append(sub)
        return sub

    def add_raw(self, kind: str, name: str, raw: bytes, sent: datetime, why: str,
                copy_of: Submission | None = None) -> Submission:
        """A file whose bytes are given (junk, empty) or copied from another file; unreadable ones have no
        county or period the ingest could know."""
        sub = Submission(kind=kind, county=copy_of.county if copy_of else "", period=copy_of.period if copy_of else "",
                         name=name, rows=[], style=copy_of.style if copy_of else Style(), sent=sent, why=[why],
                         valid=copy_of is not None, raw=raw, copy_of=copy_of)
        self.subs.append(sub)
        return sub

    def near(self, name: str, rule: str, what: str, sub: Submission, misses: list) -> None:
        self.cases.append(Case(name, rule, what, sub.key, [], misses))
        sub.why.append(name)

    # --- the plan --------------------------------------------------------------------------------

    def build(self) -> tuple[list[Submission], list[Case]]:
        d = self.d
        for county in sorted(d.counties):
            for period in d.periods:
                for kind, store in ((FORMS, d.forms), (GROUPS, d.groups)):
                    self.add(kind, county, period, store[(county, period)], why="monthly submission")
            self.inspection_updates(county)
        for (county, period), rows in sorted(d.forms.items()):  # months before the sample's (planted.py)
            if period not in d.periods:
                self.add(FORMS, county, period, rows, why="an earlier month")
        self.corrections()
        self.rejections()
        self.warnings()
        return self.subs, self.cases

    def find(self, kind: str, county: str, period: str) -> Submission:
        return next(s for s in self.subs if s.key == (kind, county, period) and s.valid and s.raw is None)

    def inspection_updates(self, county: str) -> None:
        """Two updates of the year's plan: after the first month, and after the last (in force)."""
        d = self.d
        year = str(d.year)
        for n, period in enumerate((d.periods[0], d.periods[-1])):
            when = self.sent(county, INSPECTIONS, period)
            asof = when.date()
            rows = snapshot(d.visits[county], asof)
            role = "inspection plan update (superseded by the later one)" if n == 0 else "inspection plan update in force"
            style = self.style(county, INSPECTIONS, year + str(n))
            if county == HUANGMEI and n == 1:
                style = replace(style, note_row=True)
                role += "; 填表人/审核人 note row (warning)"
            self.add(INSPECTIONS, county, year, rows, style=style, sent=when, why=role, asof=asof)

    def corrections(self) -> None:
        d = self.d
        p1, p2, p3 = d.periods
        year = str(d.year)

        # 黄梅县 corrects its first month: the original over-reported a weekly form.
        final = self.find(FORMS, HUANGMEI, p1)
        original_rows = copy.deepcopy(final.rows)
        row = next(r for r in original_rows if r["frequency"] == "weekly")
        row["fill_count"] = 9
        original = self.add(FORMS, HUANGMEI, p1, original_rows, sent=final.sent, why="original, corrected later")
        final.sent = final.sent + timedelta(days=3, hours=2)
        final.name = self.name(HUANGMEI, FORMS, p1, final.style, "_更正")
        final.why = ["correction in force (supersedes the original)"]
        self.near("SUPERSEDED-weekly-9", "FORM_OVER_FREQUENCY",
                  "the superseded original has a weekly form filled 9 times; the correction in force has it right",
                  original, [("FORM_OVER_FREQUENCY", p1, f"{row['unit_code']}|{row['dept_code']}|{row['form_id']}",
                              HUANGMEI)])

        # 南靖县 sends a correction that is rejected (a fill count written 三): the original stays.
        first = self.find(FORMS, NANJING, p2)
        rows = copy.deepcopy(first.rows)
        weekly = next(r for r in rows if r["frequency"] == "weekly")
        weekly["fill_count"] = 7
        next(r for r in rows if r["frequency"] == "monthly")["fill_count"] = "三"
        bad = self.add(FORMS, NANJING, p2, rows, sent=first.sent + timedelta(days=4), suffix="_更正", valid=False,
                       why="rejected correction: fill_count '三' is not a number; the original stays in force")
        self.near("REJECTED-correction", "FORM_OVER_FREQUENCY",
                  "the rejected correction has a weekly form filled 7 times: rejected files count for nothing",
                  bad, [("FORM_OVER_FREQUENCY", p2, f"{weekly['unit_code']}|{weekly['dept_code']}|{weekly['form_id']}",
                         NANJING)])

        # 上党区 re-sends its last month of groups: the first file missed groups and listed a dead one.
        final = self.find(GROUPS, SHANGDANG, p3)
        rows = [r for r in final.rows if not (r["group_id"].endswith("-02") and r["unit_code"][9:] != "000")]
        village = next(r for r in rows if r["unit_code"][9:] != "000")
        zombie = dict(village, group_id="WX-DEAD-01", group_name="原脱贫攻坚队员群",
                      last_active_date=period_end(p3) - timedelta(days=120), messages_30d=0)
        rows.append(zombie)
        original = self.add(GROUPS, SHANGDANG, p3, rows, sent=final.sent, why="original, re-sent later")
        final.sent = final.sent + timedelta(days=5)
        final.name = self.name(SHANGDANG, GROUPS, p3, final.style, "_补报")
        final.why = ["complete re-send in force (supersedes the original)"]
        self.near("SUPERSEDED-zombie", "GROUP_ZOMBIE",
                  "the superseded original lists a group idle for 120 days that the re-send in force dropped",
                  original, [("GROUP_ZOMBIE", p3, f"{zombie['unit_code']}|WX-DEAD-01", SHANGDANG)])

        # 南靖县 sends the same file twice under another name: the second is a duplicate.
        first = self.find(GROUPS, NANJING, p1)
        self.add_raw(GROUPS, first.name.replace(".", " - 副本.", 1), b"", first.sent + timedelta(days=2),
                     f"byte-identical copy of {first.name}", copy_of=first)

        # 宁远县: the first update lists an unplanned visit without its approval; the update in force has it.
        planter = self.d.planter
        target = planter._target(NINGYUAN)
        dept = f"{NINGYUAN}-EMERG"
        visit = planter._visit(NINGYUAN, dept, "EMERG-T31", f"{d.year}年烟花爆竹安全突击检查", target,
                               date(d.year, 1, 20), in_plan=False, approval=f"宁远县督检考报批〔{d.year}〕2号")
        d.visits[NINGYUAN].append(visit)
        u1, u2 = [s for s in self.subs if s.key == (INSPECTIONS, NINGYUAN, year)]
        u2.rows = snapshot(d.visits[NINGYUAN], u2.sent.date())
        u1.rows = snapshot(d.visits[NINGYUAN][:-1] + [replace(visit, approval=None)], u1.sent.date())
        self.near("SUPERSEDED-unplanned", "INSPECTION_UNPLANNED",
                  "the superseded first update has an unplanned visit without approval_ref; the update in force "
                  "carries the approval", u1, [("INSPECTION_UNPLANNED", year, f"{dept}:EMERG-T31|{target}", NINGYUAN)])

        # 武乡县: the first update had a 4th HOUSING item that was dropped from the plan later.
        dept = f"{WUXIANG}-HOUSING"
        extra = planter._visit(WUXIANG, dept, f"HOUSING-Q{d.year}-04", f"{d.year}年建筑施工安全专项检查（第4批）",
                               planter._target(WUXIANG), date(d.year, 1, 20))
        u1, _u2 = [s for s in self.subs if s.key == (INSPECTIONS, WUXIANG, year)]
        u1.rows = snapshot(d.visits[WUXIANG] + [extra], u1.sent.date())
        u1.why.append(f"QUOTA-{dept}")

        # 南靖县 sends a third update with a duplicated row: rejected, the second stays in force.
        _u1, u2 = [s for s in self.subs if s.key == (INSPECTIONS, NANJING, year)]
        dept = f"{NANJING}-EMERG"
        target = planter._target(NANJING)
        unplanned = planter._visit(NANJING, dept, "EMERG-T32", f"{d.year}年液化气站安全检查", target,
                                   date(d.year, 2, 14), in_plan=False)
        asof = u2.sent.date() + timedelta(days=8)
        rows = snapshot(d.visits[NANJING] + [unplanned], asof)
        rows.insert(3, dict(rows[2], planned_date=rows[2]["planned_date"] + timedelta(days=7)))
        bad = self.add(INSPECTIONS, NANJING, year, rows, style=u2.style, sent=u2.sent + timedelta(days=8), valid=False,
                       why="rejected third update: duplicate key (dept_code, item_id, target_unit_code)", asof=asof)
        self.near("REJECTED-update", "INSPECTION_UNPLANNED",
                  "the rejected third update adds an unplanned visit without approval: it counts for nothing",
                  bad, [("INSPECTION_UNPLANNED", year, f"{dept}:EMERG-T32|{target}", NANJING)])

    def rejections(self) -> None:
        """Files that fail a critical check (SPEC.md 6.1); most are followed by a good retry."""
        d = self.d
        p1, p2, p3 = d.periods

        def retry_of(kind: str, county: str, period: str, rows: list[dict], why: str, **style) -> Submission:
            good = self.find(kind, county, period)
            bad = self.add(kind, county, period, rows, style=replace(good.style, **style) if style else good.style,
                           sent=good.sent, valid=False, why=why)
            good.sent = good.sent + timedelta(days=2, hours=1)
            good.name = self.name(county, kind, period, good.style, "_修改后")
            good.why = ["retry in force after a rejected first attempt"]
            return bad

        rows = copy.deepcopy(self.find(FORMS, HUGUAN, p1).rows)
        for r in rows[5:8]:
            r["dept_code"] = f"{HUGUAN}-JTYS"
        retry_of(FORMS, HUGUAN, p1, rows, "rejected: department 140427-JTYS is not in reference")

        rows = copy.deepcopy(self.find(GROUPS, WUXIANG, p2).rows)
        stray = d.counties[HUGUAN].villages[0]
        rows.insert(10, dict(rows[9], unit_code=stray.code, group_id="WX-STRAY-01", group_name=stray.name + "工作群"))
        retry_of(GROUPS, WUXIANG, p2, rows, f"rejected: unit {stray.code} belongs to another county")

        rows = copy.deepcopy(self.find(FORMS, NINGYUAN, p3).rows)
        for r in rows:
            if r["form_id"] == "NATRES-01":
                r["frequency"] = "每两周"
        retry_of(FORMS, NINGYUAN, p3, rows, "rejected: frequency 每两周 is not a known value")

        rows = copy.deepcopy(self.find(GROUPS, HUANGMEI, p2).rows)
        r = rows[4]
        r["created_date"], r["last_active_date"] = r["last_active_date"] + timedelta(days=30), r["created_date"]
        retry_of(GROUPS, HUANGMEI, p2, rows, "rejected: last_active_date before created_date")

        # An empty export, then the real file.
        good = self.find(GROUPS, NINGYUAN, p3)
        self.add_raw(GROUPS, f"{NINGYUAN}_{p3.replace('-', '')}_工作群.csv", b"", good.sent - timedelta(hours=3),
                     "rejected: empty file (0 bytes)")

        # A scanned image saved as .csv.
        rng = random.Random(f"{d.seed}/junk")
        self.add_raw(FORMS, f"{SHANGDANG}_{p3}_报表扫描件.csv",
                     b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(rng.getrandbits(8) for _ in range(3000)),
                     self.sent(SHANGDANG, FORMS, p3) + timedelta(days=1), "rejected: binary junk (a PNG scan) named .csv")

        # Next month's figures sent before the month is over.
        future = next_period(f"{d.now.year}-{d.now.month:02d}")
        rows = [dict(r, period=future) for r in self.find(FORMS, HUANGMEI, p3).rows]
        self.add(FORMS, HUANGMEI, future, rows, sent=d.now - timedelta(days=1), valid=False,
                 why=f"rejected: period {future} is after the month it was received in")

        # 山丹县's last month of groups misses a required column, and was never re-sent.
        rows = d.groups[(SHANDAN, p3)]
        zombie = dict(next(r for r in rows if r["unit_code"][9:] != "000"), group_id="DD-DEAD-01",
                      group_name="旧项目协调群", last_active_date=period_end(p3) - timedelta(days=150), messages_30d=0)
        rows.append(zombie)
        sub = self.find(GROUPS, SHANDAN, p3)
        sub.style = replace(sub.style, drop_columns=("owner_dept_code",))
        sub.valid = False
        sub.why = ["rejected: required column owner_dept_code missing; never re-sent (status board: rejected)"]
        self.near("REJECTED-only", "GROUP_ZOMBIE",
                  "the county's only file for the month is rejected; the zombie group in it counts for nothing",
                  sub, [("GROUP_ZOMBIE", p3, f"{zombie['unit_code']}|DD-DEAD-01", SHANDAN)])

    def warnings(self) -> None:
        """Accepted files that carry a warning of SPEC.md 6.2."""
        d = self.d
        p1, p2, _p3 = d.periods
        sub = self.find(FORMS, NINGYUAN, p2)
        sub.style = replace(sub.style, extra_columns=("备注",))
        sub.why.append("unknown extra column 备注 (warning)")
        sub = self.find(FORMS, NANJING, p1)
        sub.style = replace(sub.style, note_row=True)
        sub.why.append("填表人/审核人 note row at the bottom (warning)")
        sub = self.find(GROUPS, WUXIANG, p1)
        sub.style = replace(sub.style, drop_columns=("messages_30d",))
        sub.why.append("optional column messages_30d absent (warning)")
        sub = self.find(GROUPS, SHANDAN, p2)
        row = next(r for r in sub.rows if r["unit_code"].endswith("000000"))
        row["member_count"] = 2300
        sub.why.append("member_count 2300 > 2000 (warning)")
        sub = self.find(FORMS, HUGUAN, d.periods[2])
        sub.why.append("fill_count 120 > 100 (warning)")
