"""Chart descriptions shared by the console and the monthly bulletin (SPEC.md sections 16 and 17).

Each function takes plain rows (dicts, as a query returns them) and returns an altair chart: one
Vega-Lite description that the console draws in the browser (with the Vega bundle vl-convert
ships) and the bulletin renders to SVG on the server (`svg`), so a page and its printed twin can
never disagree. Data travels inside the description (an inline named data set, from an Arrow
table): no file, no URL, so a chart needs nothing from the internet to draw.

Labels are Chinese by default; `lang="en"` gives the English switch of the console.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any

import altair as alt
import pyarrow as pa

from .collection.board import LATE, MISSING, PENDING
from .ledger import ACCEPTED, ACCEPTED_WITH_WARNINGS, REJECTED
from .reference import area_name, area_names

Rows = Iterable[Mapping[str, Any]]

#: Fonts tried in order: the CJK fonts Debian ships (fonts-noto-cjk, fonts-wqy-microhei), then any.
FONT = "Noto Sans CJK SC, Noto Sans SC, WenQuanYi Micro Hei, Microsoft YaHei, sans-serif"

#: Board colours: green on time, amber late or warned, red rejected or missing, grey not yet due.
STATUS_COLOURS: dict[str, str] = {
    ACCEPTED: "#2e7d32",
    ACCEPTED_WITH_WARNINGS: "#9ccc65",
    LATE: "#f9a825",
    REJECTED: "#c62828",
    MISSING: "#e57373",
    PENDING: "#bdbdbd",
}
STATUS_LABELS: dict[str, dict[str, str]] = {
    "zh": {ACCEPTED: "按时通过", ACCEPTED_WITH_WARNINGS: "通过(有警告)", LATE: "逾期", REJECTED: "退回",
           MISSING: "未报", PENDING: "未到期"},
    "en": {ACCEPTED: "accepted", ACCEPTED_WITH_WARNINGS: "accepted with warnings", LATE: "late",
           REJECTED: "rejected", MISSING: "missing", PENDING: "pending"},
}
#: quota_usage.status values (SPEC.md section 7) and how they are drawn.
QUOTA_COLOURS: dict[str, str] = {"ok": "#2e7d32", "warning": "#f9a825", "exceeded": "#c62828"}
QUOTA_LABELS: dict[str, dict[str, str]] = {
    "zh": {"ok": "正常", "warning": "接近上限", "exceeded": "超出上限"},
    "en": {"ok": "ok", "warning": "near quota", "exceeded": "over quota"},
}
#: Above this many counties a chart of one mark per county is unreadable (a national board would be
#: metres tall, and altair refuses 5,000 rows): such a chart draws prefecture-level cities instead,
#: or provinces when the cities are as many, each summing its counties (see area_digits).
MAX_COUNTIES_DRAWN = 60
#: A city's or a province's cell on the board takes the most urgent status among its counties.
URGENCY = (MISSING, REJECTED, LATE, ACCEPTED_WITH_WARNINGS, PENDING, ACCEPTED)
KIND_LABELS: dict[str, dict[str, str]] = {
    "zh": {"form_counts": "报表", "work_groups": "工作群", "inspections": "督检考"},
    "en": {"form_counts": "forms", "work_groups": "work groups", "inspections": "inspections"},
}

#: The flag rules of SPEC.md section 8 as the office names them (the code stays beside the name).
RULE_LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "FORM_OVER_FREQUENCY": "报表填报过频", "FORM_DUPLICATE_ACROSS_DEPTS": "跨部门重复报表",
        "UNIT_REPORTING_OVERLOAD": "单位填报过多", "GROUP_ZOMBIE": "僵尸工作群", "GROUP_TEMPORARY_OVERDUE": "临时群逾期未解散",
        "GROUP_DUPLICATE": "重复工作群", "UNIT_GROUP_OVERLOAD": "单位工作群过多",
        "INSPECTION_TARGET_OVERFREQUENT": "同一对象督检考过频", "INSPECTION_UNCOORDINATED": "未统筹的督检考",
        "INSPECTION_UNPLANNED": "计划外未报批", "INSPECTION_REPEATED_TOPIC": "同一主题重复督检考",
        "DEPT_QUOTA_WARNING": "部门事项接近上限", "DEPT_QUOTA_EXCEEDED": "部门事项超出上限",
    },
    "en": {
        "FORM_OVER_FREQUENCY": "form filled too often", "FORM_DUPLICATE_ACROSS_DEPTS": "same form from two departments",
        "UNIT_REPORTING_OVERLOAD": "unit reporting overload", "GROUP_ZOMBIE": "zombie work group",
        "GROUP_TEMPORARY_OVERDUE": "temporary group overdue", "GROUP_DUPLICATE": "duplicate work groups",
        "UNIT_GROUP_OVERLOAD": "too many groups", "INSPECTION_TARGET_OVERFREQUENT": "target inspected too often",
        "INSPECTION_UNCOORDINATED": "visits not combined", "INSPECTION_UNPLANNED": "unplanned, unapproved visit",
        "INSPECTION_REPEATED_TOPIC": "same topic again", "DEPT_QUOTA_WARNING": "near quota",
        "DEPT_QUOTA_EXCEEDED": "over quota",
    },
}


def rule_label(rule: str, lang: str = "zh", *, code: bool = True) -> str:
    """`僵尸工作群 GROUP_ZOMBIE`: the office's name, and (code=True) the code analysts search by."""
    name = RULE_LABELS.get(lang, RULE_LABELS["zh"]).get(rule)
    if not name:
        return rule
    return f"{name} {rule}" if code else name


_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "county": "县(市、区)", "period": "统计期", "status": "状态", "kind": "类别", "rule": "规则",
        "flags": "预警数", "dept": "部门", "used": "已用事项数", "quota": "年度上限", "unit": "单位",
        "value": "数值", "series": "指标", "collection": "报送情况", "flags_by_rule": "各规则预警数",
        "flags_by_county": "各县预警数", "quota_usage": "督检考事项用量与上限",
        "ranking": "乡镇负担排名", "trend": "逐月趋势", "area": {2: "省(区、市)", 4: "市(州)"}, "counties": "各县状态",
        "summed": {2: "（县数较多，按省汇总）", 4: "（县数较多，按市汇总）"},
    },
    "en": {
        "county": "County", "period": "Period", "status": "Status", "kind": "Kind", "rule": "Rule",
        "flags": "Flags", "dept": "Department", "used": "Items used", "quota": "Yearly quota", "unit": "Unit",
        "value": "Value", "series": "Measure", "collection": "Collection", "flags_by_rule": "Flags by rule",
        "flags_by_county": "Flags by county", "quota_usage": "Inspection items used against quota",
        "ranking": "Township burden ranking", "trend": "Month by month", "area": {2: "Province", 4: "City"},
        "counties": "Counties", "summed": {2: " (many counties: summed by province)", 4: " (many counties: summed by city)"},
    },
}


def _t(lang: str, key: str) -> Any:
    return _TEXT.get(lang, _TEXT["zh"])[key]


def _plain(value: Any) -> Any:
    """A JSON-safe value: dates as ISO text, everything else as JSON knows it."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _data(rows: Rows) -> pa.Table | alt.Data:
    """The rows as an Arrow table: altair hands it to Vega-Lite as a named data set in one step,
    where a list of dicts is validated and copied value by value (a province board: 0.4 s)."""
    values = [{k: _plain(v) for k, v in row.items()} for row in rows]
    return pa.Table.from_pylist(values) if values else alt.Data(values=[])


def _base(rows: Rows, title: str) -> alt.Chart:
    return alt.Chart(_data(rows), title=alt.TitleParams(title, anchor="start"))


def _configure(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    # Counts are whole numbers: no 0.2-step ticks on a count axis.
    return (chart.configure(font=FONT).configure_view(stroke=None).configure_axisQuantitative(tickMinStep=1)
            .configure_axis(labelLimit=260).configure_legend(labelLimit=260))


def area_digits(county_codes: Iterable[str]) -> int:
    """How many leading digits of a county code a chart draws one mark per: 6 (each county) for
    at most MAX_COUNTIES_DRAWN counties, else 4 (each prefecture-level city) for at most as many
    cities, else 2 (each province)."""
    codes = set(county_codes)
    for digits in (6, 4):
        if len({c[:digits] for c in codes}) <= MAX_COUNTIES_DRAWN:
            return digits
    return 2


def _place(lang: str, digits: int, title: str) -> tuple[str, str]:
    """The axis name of what a mark is (county, city, province) and the chart's title, which says
    when counties are summed."""
    if digits == 6:
        return _t(lang, "county"), title
    return _t(lang, "area")[digits], title + _t(lang, "summed")[digits]


def _board_by_area(cells: list[Mapping[str, Any]], digits: int, lang: str,
                   area_link: Callable[[str], str] | None) -> list[dict[str, Any]]:
    """One cell per area x kind x period: the most urgent status of its counties, and how many
    counties are in each status (the tooltip)."""
    labels = STATUS_LABELS.get(lang, STATUS_LABELS["zh"])
    counted: dict[tuple[str, str, str], dict[str, int]] = {}
    for c in cells:
        key = (c["county_code"][:digits], c["kind"], c["period"])
        counted.setdefault(key, dict.fromkeys(URGENCY, 0))[c["status"]] += 1
    return [{"county_code": area, "county_name": area_names().get(area, ""), "kind": kind, "period": period,
             "status": next(s for s in URGENCY if found[s]),
             "counties": " · ".join(f"{labels[s]} {n}" for s, n in found.items() if n),
             "href": area_link(area) if area_link else None}
            for (area, kind, period), found in sorted(counted.items())]


def _sum_by_area(rows: list[Mapping[str, Any]], digits: int, keys: tuple[str, ...], value: str) -> list[dict[str, Any]]:
    """`rows` summed per area (the first `digits` of county_code) and `keys`: county_code becomes
    the area's code, county_name and county its name."""
    summed: dict[tuple, float] = {}
    for r in rows:
        key = (r["county_code"][:digits], *(r[k] for k in keys))
        summed[key] = summed.get(key, 0) + (r[value] or 0)
    return [{"county_code": key[0], "county_name": area_names().get(key[0], ""), "county": area_name(key[0]),
             **dict(zip(keys, key[1:], strict=True)), value: total} for key, total in sorted(summed.items())]


def collection_grid(cells: Rows, *, lang: str = "zh",
                    area_link: Callable[[str], str] | None = None) -> alt.TopLevelMixin:
    """The collection board as a coloured grid: county down, period across, one panel per kind.

    `cells`: county_code, county_name, kind, period, status (collection_status rows), and
    optionally href: a link a click on the cell follows (the console's cell page). Counties are
    shown by name with their code, so two counties of one name cannot be confused. Over
    MAX_COUNTIES_DRAWN counties a row is a city or a province (area_digits), coloured by the most
    urgent status among its counties, and `area_link(code)` is where a click on it goes (the
    board of that area).
    """
    cells = list(cells)
    labels = STATUS_LABELS.get(lang, STATUS_LABELS["zh"])
    kinds = KIND_LABELS.get(lang, KIND_LABELS["zh"])
    digits = area_digits(c["county_code"] for c in cells)
    place, title = _place(lang, digits, _t(lang, "collection"))
    if digits < 6:
        cells = _board_by_area(cells, digits, lang, area_link)
    rows = [{"county": f"{c.get('county_name') or ''} {c['county_code']}".strip(), "period": c["period"],
             "kind": kinds.get(c["kind"], c["kind"]), "status": labels.get(c["status"], c["status"]),
             "county_code": c["county_code"], "kind_code": c["kind"], "href": c.get("href"),
             "counties": c.get("counties")} for c in cells]
    colour = alt.Color("status:N", title=_t(lang, "status"),
                       scale=alt.Scale(domain=[labels[s] for s in STATUS_COLOURS],
                                       range=list(STATUS_COLOURS.values())))
    tooltip = [alt.Tooltip("county:N", title=place), alt.Tooltip("kind:N", title=_t(lang, "kind")),
               alt.Tooltip("period:O", title=_t(lang, "period")), alt.Tooltip("status:N", title=_t(lang, "status"))]
    if any(r["counties"] for r in rows):
        tooltip.append(alt.Tooltip("counties:N", title=_t(lang, "counties")))
    chart = alt.Chart(_data(rows)).mark_rect(stroke="white", strokeWidth=1).encode(
        x=alt.X("period:O", title=_t(lang, "period"), axis=alt.Axis(labelAngle=-45)),
        y=alt.Y("county:N", title=None, sort=alt.EncodingSortField("county_code", op="min")),  # by code
        color=colour,
        href=alt.Href("href:N"),
        tooltip=tooltip,
    ).properties(width=alt.Step(30), height=alt.Step(22))
    order = [k for k in kinds.values() if k in {r["kind"] for r in rows}]
    # Kinds side by side, sharing the county axis: a county reads across in one line, and the
    # grid is as tall as its counties, not three times (the bulletin scales it to half a page).
    faceted = chart.facet(column=alt.Column("kind:N", title=None, sort=order,
                                            header=alt.Header(labelFontWeight="bold", labelFontSize=13)),
                          title=alt.TitleParams(title, anchor="start"))
    # Monthly kinds run by month, inspections by year: each panel keeps its own periods.
    faceted = faceted.resolve_scale(x="independent")
    return _configure(faceted)


def flags_by_rule(rows: Rows, *, lang: str = "zh") -> alt.TopLevelMixin:
    """Horizontal bars, one per rule. `rows`: rule, count (and optionally severity)."""
    rows = [{**r, "rule": rule_label(r["rule"], lang, code=False)} for r in rows]
    chart = _base(rows, _t(lang, "flags_by_rule")).mark_bar().encode(
        y=alt.Y("rule:N", title=None, sort="-x"),
        x=alt.X("count:Q", title=_t(lang, "flags")),
        tooltip=[alt.Tooltip("rule:N", title=_t(lang, "rule")), alt.Tooltip("count:Q", title=_t(lang, "flags"))],
    ).properties(width=420)
    return _configure(chart)


def flags_by_county(rows: Rows, *, lang: str = "zh") -> alt.TopLevelMixin:
    """Stacked bars per county, split by rule. `rows`: county_code, county_name, rule, count.
    Over MAX_COUNTIES_DRAWN counties a bar is a city or a province (its counties' flags summed)."""
    rows = list(rows)
    digits = area_digits(r["county_code"] for r in rows)
    place, title = _place(lang, digits, _t(lang, "flags_by_county"))
    if digits < 6:
        rows = _sum_by_area(rows, digits, ("rule",), "count")
    data = [{**r, "county": f"{r.get('county_name') or ''} {r['county_code']}".strip(),
             "rule": rule_label(r["rule"], lang, code=False)} for r in rows]
    chart = _base(data, title).mark_bar().encode(
        y=alt.Y("county:N", title=None, sort="-x"),
        x=alt.X("sum(count):Q", title=_t(lang, "flags")),
        color=alt.Color("rule:N", title=_t(lang, "rule")),
        tooltip=[alt.Tooltip("county:N", title=place), alt.Tooltip("rule:N", title=_t(lang, "rule")),
                 alt.Tooltip("count:Q", title=_t(lang, "flags"))],
    ).properties(width=420)
    return _configure(chart)


def quota_usage(rows: Rows, *, lang: str = "zh") -> alt.TopLevelMixin:
    """Items used (bar, coloured ok / warning / exceeded) against the quota (black tick) per department.

    `rows`: dept_code, dept_name, used, quota, status; drawn top to bottom in their order.
    """
    labels = QUOTA_LABELS.get(lang, QUOTA_LABELS["zh"])
    data = [{**r, "dept": f"{r.get('dept_name') or ''} {r['dept_code']}".strip(),
             "status_label": labels.get(r["status"], r["status"])} for r in rows]
    base = _base(data, _t(lang, "quota_usage"))
    # Bars in the order of the rows: the caller knows what comes first (the console: over quota,
    # then near it, then the fullest).
    y = alt.Y("dept:N", title=None, sort=None)
    tooltip = [alt.Tooltip("dept:N", title=_t(lang, "dept")), alt.Tooltip("used:Q", title=_t(lang, "used")),
               alt.Tooltip("quota:Q", title=_t(lang, "quota")),
               alt.Tooltip("status_label:N", title=_t(lang, "status"))]
    bars = base.mark_bar().encode(
        y=y, x=alt.X("used:Q", title=f"{_t(lang, 'used')} / {_t(lang, 'quota')}"),
        color=alt.Color("status_label:N", title=_t(lang, "status"),
                        scale=alt.Scale(domain=[labels[s] for s in QUOTA_COLOURS],
                                        range=list(QUOTA_COLOURS.values()))),
        tooltip=tooltip)
    ticks = base.mark_tick(color="black", thickness=3, size=18).encode(y=y, x="quota:Q", tooltip=tooltip)
    return _configure(alt.layer(bars, ticks).properties(width=420))


def township_ranking(rows: Rows, *, measure: str = "fills", lang: str = "zh", top: int = 20,
                     measure_title: str | None = None) -> alt.TopLevelMixin:
    """The most burdened townships, longest bar first. `rows`: unit_code, unit_name, and `measure`
    (`measure_title` names it on the axis; default the column name)."""
    ranked = sorted(rows, key=lambda r: (-(r.get(measure) or 0), r["unit_code"]))[:top]
    data = [{**r, "unit": f"{r.get('unit_name') or ''} {r['unit_code']}".strip(), "value": r.get(measure) or 0}
            for r in ranked]
    chart = _base(data, _t(lang, "ranking")).mark_bar(color="#1565c0").encode(
        y=alt.Y("unit:N", title=None, sort="-x"),
        x=alt.X("value:Q", title=measure_title or measure),
        tooltip=[alt.Tooltip("unit:N", title=_t(lang, "unit")), alt.Tooltip("value:Q", title=measure_title or measure)],
    ).properties(width=420)
    return _configure(chart)


def monthly_trend(rows: Rows, *, lang: str = "zh", series_title: str | None = None,
                  value_title: str | None = None) -> alt.TopLevelMixin:
    """Lines over the months. `rows`: period, series (a line's label: a measure, a county), value.

    `series_title` and `value_title` name the legend and the value axis (default 指标 / 数值)."""
    series, value = series_title or _t(lang, "series"), value_title or _t(lang, "value")
    chart = _base(rows, _t(lang, "trend")).mark_line(point=True).encode(
        x=alt.X("period:O", title=_t(lang, "period")),
        y=alt.Y("value:Q", title=value),
        color=alt.Color("series:N", title=series),
        tooltip=[alt.Tooltip("period:O", title=_t(lang, "period")),
                 alt.Tooltip("series:N", title=series), alt.Tooltip("value:Q", title=value)],
    ).properties(width=480, height=220)
    return _configure(chart)


def spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """The Vega-Lite description as a dict (validated by altair against the Vega-Lite schema).

    altair's 5,000-row guard is lifted for the call: the functions above bound their rows
    themselves (areas instead of counties, the top N), and a year of a province's board is more."""
    with alt.data_transformers.disable_max_rows():
        return chart.to_dict()


def spec_json(chart: alt.TopLevelMixin) -> str:
    """The description as JSON safe to put inside an HTML <script> element (no `</` can close it).

    The `$schema` URL is left out: a page names no public host, and the console tells Vega-Embed
    the mode (vega-lite) itself.
    """
    # Not validated again: the functions above are validated by the tests, and schema validation
    # of a large inline data set costs more than the page's queries.
    with alt.data_transformers.disable_max_rows():  # as in spec()
        described = {k: v for k, v in chart.to_dict(validate=False).items() if k != "$schema"}
    return json.dumps(described, ensure_ascii=False).replace("</", "<\\/")


def svg(chart: alt.TopLevelMixin) -> str:
    """The chart drawn as SVG on the server by vl-convert (no browser, no network)."""
    import vl_convert as vlc  # imported here: only the server-side renderers need it

    return vlc.vegalite_to_svg(spec(chart))


# ------------------------------------------------------------ joint visits, reduction, catalog
_MORE_TEXT: dict[str, dict[str, str]] = {
    "zh": {"joint": "建议的联合检查", "date": "建议日期", "target": "检查对象", "departments": "参与部门数",
           "dept_names": "参与部门", "visits": "合并检查次数", "lead": "牵头部门",
           "reduction": "报表、填报与工作群逐月变化", "measure": "指标", "overlap": "可合并报表组的年度耗时",
           "group": "重叠组", "hours": "近12个月耗时(小时)", "forms": "报表数",
           "most": "（建议最多的 {} 个县）"},
    "en": {"joint": "Joint visits proposed", "date": "Proposed date", "target": "Target", "departments": "Departments",
           "dept_names": "Departments joining", "visits": "Visits merged", "lead": "Lead department",
           "reduction": "Forms, fills and work groups by month", "measure": "Measure",
           "overlap": "Hours of the forms that could be merged", "group": "Overlap group",
           "hours": "Hours, last 12 months", "forms": "Forms",
           "most": " (the {} counties with the most)"},
}


def _mt(lang: str, key: str) -> str:
    return _MORE_TEXT.get(lang, _MORE_TEXT["zh"])[key]


#: Counties a joint-visit calendar draws, a panel each (a panel is as tall as its targets).
JOINT_COUNTIES_DRAWN = 20


def joint_calendar(rows: Rows, *, lang: str = "zh") -> alt.TopLevelMixin:
    """Proposed joint visits on a calendar line per target, one panel per county.

    `rows`: county (label), target (label), proposed_date, departments (how many join),
    dept_names, lead, visits_merged. A mark is one proposal: the more departments join, the
    bigger and darker it is, so the visits that spare a target most stand out. Of more than
    JOINT_COUNTIES_DRAWN counties, those with the most proposals are drawn (the list has them all).
    """
    rows = list(rows)
    title = _mt(lang, "joint")
    proposals = Counter(r["county"] for r in rows)
    if len(proposals) > JOINT_COUNTIES_DRAWN:
        drawn = {county for county, _ in sorted(proposals.items(), key=lambda c: (-c[1], c[0]))[:JOINT_COUNTIES_DRAWN]}
        rows = [r for r in rows if r["county"] in drawn]
        title += _mt(lang, "most").format(JOINT_COUNTIES_DRAWN)
    tooltip = [alt.Tooltip("county:N", title=_t(lang, "county")), alt.Tooltip("target:N", title=_mt(lang, "target")),
               alt.Tooltip("proposed_date:T", title=_mt(lang, "date"), format="%Y-%m-%d"),
               alt.Tooltip("lead:N", title=_mt(lang, "lead")),
               alt.Tooltip("dept_names:N", title=_mt(lang, "dept_names")),
               alt.Tooltip("visits_merged:Q", title=_mt(lang, "visits"))]
    # Whole days only on the axis (no half-day ticks), and room at both ends for the marks.
    day_ms = 24 * 3600 * 1000
    chart = alt.Chart(_data(rows)).mark_circle(opacity=0.85, stroke="#333", strokeWidth=0.5).encode(
        x=alt.X("proposed_date:T", title=_mt(lang, "date"), scale=alt.Scale(padding=16),
                axis=alt.Axis(format="%m-%d", tickMinStep=day_ms, labelAngle=-45)),
        y=alt.Y("target:N", title=None),
        # One legend: size and colour both say how many departments join.
        size=alt.Size("departments:O", title=_mt(lang, "departments"), scale=alt.Scale(range=[120, 600])),
        color=alt.Color("departments:O", title=_mt(lang, "departments"), scale=alt.Scale(scheme="oranges")),
        tooltip=tooltip,
    ).properties(width=460, height=alt.Step(22))
    faceted = chart.facet(row=alt.Row("county:N", title=None, header=alt.Header(labelAngle=0, labelFontWeight="bold")),
                          title=alt.TitleParams(title, anchor="start"))
    # Each county lists its own targets only.
    return _configure(faceted.resolve_scale(y="independent"))


def reduction_trend(rows: Rows, *, lang: str = "zh") -> alt.TopLevelMixin:
    """Month by month per county, one small panel per measure (forms, fills, groups: their
    scales differ by orders of magnitude). `rows`: period, county_code, county (label), measure
    (label), value. Over MAX_COUNTIES_DRAWN counties a line is a city or a province (its counties
    summed)."""
    rows = list(rows)
    order = list(dict.fromkeys(r["measure"] for r in rows))  # panels in the caller's order
    digits = area_digits(r["county_code"] for r in rows)
    place, title = _place(lang, digits, _mt(lang, "reduction"))
    if digits < 6:
        rows = _sum_by_area(rows, digits, ("period", "measure"), "value")
    chart = alt.Chart(_data(rows)).mark_line(point=True).encode(
        x=alt.X("period:O", title=_t(lang, "period")),
        y=alt.Y("value:Q", title=None),
        color=alt.Color("county:N", title=place, sort=alt.EncodingSortField("county_code", op="min")),
        tooltip=[alt.Tooltip("period:O", title=_t(lang, "period")), alt.Tooltip("county:N", title=place),
                 alt.Tooltip("measure:N", title=_mt(lang, "measure")), alt.Tooltip("value:Q", title=_t(lang, "value"))],
    ).properties(width=360, height=140)
    faceted = chart.facet(row=alt.Row("measure:N", title=None, sort=order,
                                      header=alt.Header(labelAngle=0, labelFontWeight="bold")),
                          title=alt.TitleParams(title, anchor="start"))
    return _configure(faceted.resolve_scale(y="independent"))


def overlap_hours(rows: Rows, *, lang: str = "zh", top: int = 20) -> alt.TopLevelMixin:
    """Overlap groups (candidates for one consolidated form), most hours first.
    `rows`: overlap_group, hours_12m, forms, and optionally name (the group's named form's name)."""
    ranked = sorted(rows, key=lambda r: (-(r.get("hours_12m") or 0), r["overlap_group"]))[:top]
    # Only what is drawn travels in the page: a national group's member list runs to megabytes.
    ranked = [{"group": f"{r['overlap_group']} {r.get('name') or ''}".strip(), "forms": r["forms"],
               "hours_12m": r.get("hours_12m") or 0} for r in ranked]
    chart = _base(ranked, _mt(lang, "overlap")).mark_bar(color="#6a1b9a").encode(
        y=alt.Y("group:N", title=None, sort="-x"),
        x=alt.X("hours_12m:Q", title=_mt(lang, "hours")),
        tooltip=[alt.Tooltip("group:N", title=_mt(lang, "group")),
                 alt.Tooltip("forms:Q", title=_mt(lang, "forms")), alt.Tooltip("hours_12m:Q", title=_mt(lang, "hours"))],
    ).properties(width=420)
    return _configure(chart)
