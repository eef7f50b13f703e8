"""The form catalog (一表通 inventory, SPEC.md sections 15 and 16): every form of the last 12
months with its burden hours, and the overlap groups an office could consolidate into one form.

Forms are the `form_catalog` table's rows, filtered by department and by active. An overlap
group shows its members' combined responses and hours and the union of their items: each
member's data_items in its latest period (the items its similarity was taken on), one entry per
normalised item (the spelling first met is shown). Only the months some member was last seen in
are read from form_counts.
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

CATALOG_SQL = f"""
SELECT c.*, {queries.dept_label('d', 'c.dept_code')} AS dept
FROM form_catalog AS c LEFT JOIN departments AS d USING (dept_code)
WHERE (? = '' OR c.dept_code = ?) AND (? = '' OR c.active = (? = 'yes'))
ORDER BY c.hours_12m DESC NULLS LAST, c.dept_code, c.form_id
"""
#: Every form of the groups that hold one of the chosen forms (a group is shown whole).
MEMBERS_SQL = f"""
SELECT c.overlap_group, c.dept_code, {queries.dept_label('d', 'c.dept_code')} AS dept, c.form_id, c.form_name,
       c.last_period, c.counties, c.responses_12m, c.hours_12m
FROM form_catalog AS c LEFT JOIN departments AS d USING (dept_code)
WHERE list_contains(?, c.overlap_group)
ORDER BY c.overlap_group, c.dept_code, c.form_id
"""
#: Each member's data_items in its latest month (the months listed, so that only their partitions
#: are read): joined in SQL, since a national group has thousands of members.
ITEMS_SQL = """
SELECT DISTINCT f.dept_code, f.form_id, f.data_items
FROM form_catalog AS c
JOIN form_counts AS f ON f.dept_code = c.dept_code AND f.form_id = c.form_id AND f.period = c.last_period
WHERE list_contains(?, c.overlap_group) AND list_contains(?, f.period)
ORDER BY f.dept_code, f.form_id, f.data_items
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


def catalog(store: Store, dept: str = "", active: str = "") -> list[dict[str, Any]]:
    """Catalog rows of one department (or all) and active yes / no (or both), most hours first."""
    active = active if active in ("yes", "no") else ""
    return store.rows(CATALOG_SQL, [dept, dept, active, active])


def union_items(store: Store, groups: list[str], members: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, str]]:
    """Each member form's items in its latest period: normalised name -> the spelling first met.

    A template's item list is the same text in every county that fills it, so each distinct
    text is split and normalised once."""
    if not members:
        return {}
    rows = store.rows(ITEMS_SQL, [groups, sorted({m["last_period"] for m in members})])
    spelled: dict[str, dict[str, str]] = {}
    items: dict[tuple[str, str], dict[str, str]] = {}
    for r in rows:
        text = r["data_items"]
        if text not in spelled:
            spelled[text] = {}
            for item in split_list(text):
                spelled[text].setdefault(norm_name(item), item)
        seen = items.setdefault((r["dept_code"], r["form_id"]), {})
        for normalised, item in spelled[text].items():
            seen.setdefault(normalised, item)
    return items


def overlap_groups(store: Store, groups: list[str]) -> list[dict[str, Any]]:
    """One row per overlap group: its forms, their combined responses and hours, the union of items."""
    members = store.rows(MEMBERS_SQL, [groups]) if groups else []
    items = union_items(store, groups, members)
    out: dict[str, dict[str, Any]] = {}
    for m in members:
        g = out.setdefault(m["overlap_group"], {"overlap_group": m["overlap_group"], "forms": 0, "depts": set(),
                                                "members": [], "responses_12m": 0, "hours_12m": 0.0, "union": {}})
        if f"{m['dept_code']}:{m['form_id']}" == m["overlap_group"]:  # the form the group is named by
            g["name"] = m["form_name"]
        g["forms"] += 1
        g["depts"].add(m["dept_code"])
        g["members"].append(f"{m['dept']} {m['form_id']} {m['form_name'] or ''}".strip())
        g["responses_12m"] += m["responses_12m"] or 0
        g["hours_12m"] += m["hours_12m"] or 0.0
        for normalised, item in items.get((m["dept_code"], m["form_id"]), {}).items():
            g["union"].setdefault(normalised, item)
    rows = []
    for g in out.values():
        members = g["members"][:MEMBERS_LISTED]
        if len(g["members"]) > MEMBERS_LISTED:
            members.append(f"……共 {len(g['members']):,} 张 / {len(g['members']):,} in all")
        rows.append({"overlap_group": g["overlap_group"], "name": g.get("name"), "forms": g["forms"], "departments": len(g["depts"]),
                     "members": "；".join(members), "responses_12m": g["responses_12m"],
                     "hours_12m": round(g["hours_12m"], 1), "item_count": len(g["union"]),
                     "items": "、".join(g["union"].values())})
    return sorted(rows, key=lambda r: (-r["hours_12m"], r["overlap_group"]))


def render(req: Request) -> Result:
    store = req.store
    dept, active = req.param("dept"), req.param("active")
    forms = catalog(store, dept, active)
    for f in forms:
        f["frequency_label"] = f["frequency"] if req.lang == "en" or not f["frequency"] else \
            f"{FREQUENCY.get(f['frequency'], f['frequency'])} {f['frequency']}"
        f["active_label"] = req.t("是", "yes") if f["active"] else req.t("否", "no")
    groups = overlap_groups(store, sorted({f["overlap_group"] for f in forms if f["overlap_group"]}))
    tables = [Table("forms", {"zh": "报表目录", "en": "Forms"}, FORM_COLUMNS, forms),
              Table("overlap", {"zh": "可合并的重叠组(一表通候选)", "en": "Overlap groups (candidates for one form)"},
                    GROUP_COLUMNS, groups)]
    drawn = {"overlap": charts.overlap_hours(groups, lang=req.lang)} if groups else {}
    figures = {"forms": len(forms), "active": sum(1 for f in forms if f["active"]), "groups": len(groups),
               "hours": round(sum(f["hours_12m"] or 0 for f in forms), 1),
               "group_hours": round(sum(g["hours_12m"] for g in groups), 1)}
    return Result(context={"dept": dept, "active": active if active in ("yes", "no") else "",
                           "depts": [(r["dept_code"], r["dept"]) for r in store.rows(DEPTS_SQL)], "figures": figures},
                  tables=tables, charts=drawn)


PAGE = Page(slug="catalog", title={"zh": "报表目录", "en": "Form catalog"}, render=render, order=57)
