"""The form catalog (一表通 inventory, SPEC.md sections 15 and 16): every form of the last 12
months with its burden hours, and the overlap groups an office could consolidate into one form.

Forms are the `form_catalog` table's rows, filtered by department and by active. An overlap
group shows its members' combined responses and hours and the union of their items: each
member's data_items in its latest period (the items its similarity was taken on), one entry per
normalised item (the spelling first met is shown). Only the months some member was last seen in
are read from form_counts.

A national catalog holds about 100,000 forms, and a template every county fills makes a group of
thousands: the page reads the first forms it lists (SHOWN_ROWS; the export, all), the filter's
figures as sums, and each group as its sums, its first MEMBERS_LISTED members and the distinct
texts of its items.
"""

from __future__ import annotations

from typing import Any

from ... import charts
from ...flags.normalize import norm_name
from ...schema import FREQUENCY, split_list
from .. import queries
from ..store import Store
from ..tables import Column, Table
from . import Page, Request, Result

#: The department and active filters of the page, on form_catalog AS c (parameters: dept twice,
#: active twice).
FILTER = "(? = '' OR c.dept_code = ?) AND (? = '' OR c.active = (? = 'yes'))"
#: The forms of the filter, most hours first: the first {limit} chosen before names are joined.
CATALOG_SQL = f"""
WITH chosen AS (
    SELECT * FROM form_catalog AS c WHERE {FILTER}
    ORDER BY c.hours_12m DESC NULLS LAST, c.dept_code, c.form_id
    {{limit}}
)
SELECT c.*, {queries.dept_label('d', 'c.dept_code')} AS dept
FROM chosen AS c LEFT JOIN departments AS d USING (dept_code)
ORDER BY c.hours_12m DESC NULLS LAST, c.dept_code, c.form_id
"""
#: The cards of the filter, and the overlap groups that hold one of its forms.
FIGURES_SQL = f"""
SELECT count(*) AS forms, count(*) FILTER (WHERE c.active) AS active, coalesce(sum(c.hours_12m), 0) AS hours,
       list_sort(list(DISTINCT c.overlap_group) FILTER (WHERE c.overlap_group IS NOT NULL)) AS groups
FROM form_catalog AS c WHERE {FILTER}
"""
#: Each group shown whole: its forms, departments, responses and hours, and the name of the form
#: it is named by.
GROUPS_SQL = """
SELECT c.overlap_group, count(*) AS forms, count(DISTINCT c.dept_code) AS departments,
       coalesce(sum(c.responses_12m), 0) AS responses_12m, coalesce(sum(c.hours_12m), 0) AS hours_12m,
       any_value(c.form_name) FILTER (WHERE c.dept_code || ':' || c.form_id = c.overlap_group) AS name
FROM form_catalog AS c
WHERE list_contains(?, c.overlap_group)
GROUP BY c.overlap_group
"""
#: The first MEMBERS_LISTED forms of each group, named.
MEMBERS_SQL = f"""
SELECT c.overlap_group, {queries.dept_label('d', 'c.dept_code')} AS dept, c.form_id, c.form_name
FROM form_catalog AS c LEFT JOIN departments AS d USING (dept_code)
WHERE list_contains(?, c.overlap_group)
QUALIFY row_number() OVER (PARTITION BY c.overlap_group ORDER BY c.dept_code, c.form_id) <= ?
ORDER BY c.overlap_group, c.dept_code, c.form_id
"""
#: Each distinct text of data_items the members of a group filled in their latest month, in the
#: order of the first member that filled it (only the months listed are read): a template every
#: county fills is one text, however many thousands of forms share it.
ITEMS_SQL = """
WITH texts AS (
    SELECT DISTINCT f.dept_code, f.form_id, f.data_items
    FROM form_catalog AS c
    JOIN form_counts AS f ON f.dept_code = c.dept_code AND f.form_id = c.form_id AND f.period = c.last_period
    WHERE list_contains(?, c.overlap_group) AND list_contains(?, f.period)
)
SELECT c.overlap_group, t.data_items, min(row(t.dept_code, t.form_id)) AS first_member
FROM texts AS t JOIN form_catalog AS c USING (dept_code, form_id)
GROUP BY c.overlap_group, t.data_items
ORDER BY c.overlap_group, first_member, t.data_items
"""
#: The months some member of the groups was last seen in.
LAST_PERIODS_SQL = """
SELECT DISTINCT last_period FROM form_catalog WHERE list_contains(?, overlap_group) ORDER BY 1
"""
DEPTS_SQL = f"""
SELECT DISTINCT c.dept_code, {queries.dept_label('d', 'c.dept_code')} AS dept
FROM form_catalog AS c LEFT JOIN departments AS d USING (dept_code) ORDER BY c.dept_code
"""
#: Members named in a group's row: a template every county fills makes a national group of
#: thousands of forms (and an XLSX cell holds 32,767 characters); the forms list has them all.
MEMBERS_LISTED = 20
FORM_COLUMNS = [
    Column("dept", "部门", "department"), Column("form_id", "报表编号", "form"), Column("form_name", "报表名称", "name"),
    Column("frequency_label", "频次", "frequency"), Column("field_count", "字段数", "fields"),
    Column("counties", "涉及县数", "counties"), Column("units_latest", "最近一期填报单位", "units, latest month"),
    Column("responses_12m", "近12个月填报次数", "responses, 12 months"),
    Column("hours_12m", "近12个月耗时(小时)", "hours, 12 months"),
    Column("hours_per_response", "每次耗时(小时)", "hours per response"),
    Column("first_period", "首次出现", "first seen"), Column("last_period", "最近出现", "last seen"),
    Column("active_label", "在用", "active"), Column("overlap_group", "重叠组", "overlap group"),
]
GROUP_COLUMNS = [
    Column("overlap_group", "重叠组", "overlap group"), Column("name", "报表名称", "name"),
    Column("forms", "报表数", "forms"),
    Column("departments", "部门数", "departments"), Column("members", "组内报表", "forms in the group"),
    Column("responses_12m", "近12个月填报次数", "responses, 12 months"),
    Column("hours_12m", "近12个月耗时(小时)", "hours, 12 months"),
    Column("item_count", "指标数(合并后)", "items, merged"), Column("items", "合并后的指标", "items of the merged form"),
]


def catalog(store: Store, dept: str = "", active: str = "", limit: int | None = None) -> list[dict[str, Any]]:
    """Catalog rows of one department (or all) and active yes / no (or both), most hours first:
    the first `limit` of them, or all."""
    active = active if active in ("yes", "no") else ""
    return store.rows(CATALOG_SQL.format(limit="" if limit is None else f"LIMIT {int(limit)}"),
                      [dept, dept, active, active])


def figures(store: Store, dept: str = "", active: str = "") -> dict[str, Any]:
    """Forms, active forms, hours and the overlap groups of the filter (as `catalog`)."""
    active = active if active in ("yes", "no") else ""
    return store.rows(FIGURES_SQL, [dept, dept, active, active])[0]


def union_items(store: Store, groups: list[str]) -> dict[str, dict[str, str]]:
    """Each group's items: normalised name -> the spelling first met, members in code order.

    A template's item list is the same text in every county that fills it, so each distinct
    text is split and normalised once."""
    if not groups:
        return {}
    periods = [r["last_period"] for r in store.rows(LAST_PERIODS_SQL, [groups])]
    spelled: dict[str, dict[str, str]] = {}
    items: dict[str, dict[str, str]] = {}
    for r in store.rows(ITEMS_SQL, [groups, periods]):
        text = r["data_items"]
        if text not in spelled:
            spelled[text] = {}
            for item in split_list(text):
                spelled[text].setdefault(norm_name(item), item)
        seen = items.setdefault(r["overlap_group"], {})
        for normalised, item in spelled[text].items():
            seen.setdefault(normalised, item)
    return items


def overlap_groups(store: Store, groups: list[str]) -> list[dict[str, Any]]:
    """One row per overlap group: its forms, their combined responses and hours, the union of items."""
    if not groups:
        return []
    listed: dict[str, list[str]] = {}
    for m in store.rows(MEMBERS_SQL, [groups, MEMBERS_LISTED]):
        listed.setdefault(m["overlap_group"], []).append(f"{m['dept']} {m['form_id']} {m['form_name'] or ''}".strip())
    items = union_items(store, groups)
    rows = []
    for g in store.rows(GROUPS_SQL, [groups]):
        members = listed.get(g["overlap_group"], [])
        if g["forms"] > MEMBERS_LISTED:
            members.append(f"……共 {g['forms']:,} 张 / {g['forms']:,} in all")
        union = items.get(g["overlap_group"], {})
        rows.append({**g, "members": "；".join(members), "hours_12m": round(g["hours_12m"], 1),
                     "item_count": len(union), "items": "、".join(union.values())})
    return sorted(rows, key=lambda r: (-r["hours_12m"], r["overlap_group"]))


def render(req: Request) -> Result:
    store = req.store
    dept, active = req.param("dept"), req.param("active")
    forms = catalog(store, dept, active, req.limit)
    for f in forms:
        f["frequency_label"] = f["frequency"] if req.lang == "en" or not f["frequency"] else \
            f"{FREQUENCY.get(f['frequency'], f['frequency'])} {f['frequency']}"
        f["active_label"] = req.t("是", "yes") if f["active"] else req.t("否", "no")
    counted = figures(store, dept, active)
    groups = overlap_groups(store, counted["groups"])
    tables = [Table("forms", {"zh": "报表目录", "en": "Forms"}, FORM_COLUMNS, forms, total=counted["forms"]),
              Table("overlap", {"zh": "可合并的重叠组(一表通候选)", "en": "Overlap groups (candidates for one form)"},
                    GROUP_COLUMNS, groups)]
    drawn = {"overlap": charts.overlap_hours(groups, lang=req.lang)} if groups else {}
    figures_shown = {"forms": counted["forms"], "active": counted["active"], "groups": len(groups),
                     "hours": round(counted["hours"], 1), "group_hours": round(sum(g["hours_12m"] for g in groups), 1)}
    return Result(context={"dept": dept, "active": active if active in ("yes", "no") else "",
                           "depts": [(r["dept_code"], r["dept"]) for r in store.rows(DEPTS_SQL)], "figures": figures_shown},
                  tables=tables, charts=drawn)


PAGE = Page(slug="catalog", title={"zh": "报表目录", "en": "Form catalog"}, render=render, order=57)
