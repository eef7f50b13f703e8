"""The text of a quota alert, Chinese first and then English (SPEC.md section 9).

A department head reads it in a mail program or a DingTalk/WeCom group: it must say which
department and year, the quota and how many items were counted, which items (with dates and
targets, so the count can be checked against the department's own list), and what to do next.
"""

from __future__ import annotations

import math
from datetime import date

from ..escape import markdown as md
from ..reference import Reference
from .quota import EXCEEDED, CountedItem, QuotaAlert

#: Items listed in full in the e-mail / webhook text; the rest are counted.
MAX_ITEMS_MAIL = 200
MAX_ITEMS_WEBHOOK = 20
MAX_TARGETS = 5


def _d(value: date | None) -> str:
    return value.isoformat() if value else "-"


def _dates(item: CountedItem) -> str:
    if item.first_date == item.last_date:
        return _d(item.first_date)
    return f"{_d(item.first_date)}~{_d(item.last_date)}"


def _targets(item: CountedItem, reference: Reference, sep: str) -> str:
    names = [f"{reference.units[c].unit_name}({c})" if c in reference.units else c
             for c in item.targets[:MAX_TARGETS]]
    more = len(item.targets) - len(names)
    return sep.join(names) + (f"{sep}… (+{more})" if more > 0 else "")


def dept_name(reference: Reference, dept_code: str) -> str:
    dept = reference.departments.get(dept_code)
    return dept.dept_name if dept else dept_code


def subject(alert: QuotaAlert, reference: Reference) -> str:
    """Department, status and year first, so the inbox line alone says what happened to whom."""
    name = dept_name(reference, alert.dept_code)
    if alert.rule == EXCEEDED:
        return (f"【督检考超额】{name}（{alert.dept_code}）{alert.year}年度督检考事项已超出配额："
                f"已用 {alert.used} 项 / 配额 {alert.quota} 项 / Inspection quota exceeded: {name} "
                f"({alert.dept_code}), {alert.year}: {alert.used} items used of {alert.quota}")
    return (f"【督检考预警】{name}（{alert.dept_code}）{alert.year}年度督检考事项接近配额："
            f"已用 {alert.used} 项 / 配额 {alert.quota} 项 / Inspection quota warning: {name} "
            f"({alert.dept_code}), {alert.year}: {alert.used} items used of {alert.quota}")


def _zh_status(alert: QuotaAlert, warn_ratio: float) -> str:
    if alert.rule == EXCEEDED:
        return (f"{alert.year}年度，贵部门牵头开展（至少有一次未取消的现场）的督查检查考核事项共 {alert.used} 项，"
                f"已超出年度配额 {alert.quota} 项（超出 {alert.used - alert.quota} 项）。")
    line = math.ceil(warn_ratio * alert.quota)
    return (f"{alert.year}年度，贵部门牵头开展的督查检查考核事项已达 {alert.used} 项，接近年度配额 {alert.quota} 项"
            f"（预警线 {line} 项），剩余 {max(alert.quota - alert.used, 0)} 项。")


def _en_status(alert: QuotaAlert, warn_ratio: float) -> str:
    if alert.rule == EXCEEDED:
        return (f"In {alert.year} your department leads {alert.used} distinct supervision, inspection and "
                f"assessment items with at least one visit that was not cancelled: "
                f"{alert.used - alert.quota} above its yearly quota of {alert.quota}.")
    line = math.ceil(warn_ratio * alert.quota)
    return (f"In {alert.year} your department leads {alert.used} distinct inspection items, close to its "
            f"yearly quota of {alert.quota} (warning level {line}); {max(alert.quota - alert.used, 0)} left.")


ZH_TODO_EXCEEDED = (
    "暂停新增督检考事项，未经批准不再下发新的检查任务；",
    "合并或取消计划外事项，能与其他部门联合的改为联合开展（综合查一次）；",
    "将调整后的年度计划报县减负办备案。",
)
EN_TODO_EXCEEDED = (
    "stop adding inspection items this year; send no new visit without approval;",
    "merge or cancel unplanned items, and turn visits that overlap other departments into joint visits;",
    "file the revised annual plan with the county burden-reduction office (减负办).",
)
ZH_TODO_WARNING = (
    "从严控制新增督检考事项，新增前先报减负办；",
    "优先合并同类事项，与其他部门联合开展，避免重复进村入户；",
    "核对计入的事项清单，如有误报请更正后重新报送。",
)
EN_TODO_WARNING = (
    "keep new inspection items to a minimum and clear each with the burden-reduction office first;",
    "merge similar items and join visits with other departments to avoid repeated visits;",
    "check the items counted below; if one is wrong, have the county correct and resubmit it.",
)


def body(alert: QuotaAlert, reference: Reference, warn_ratio: float) -> str:
    """Plain-text mail body: Chinese, then English (the office footer is added by jianfu.notify)."""
    name = dept_name(reference, alert.dept_code)
    items = alert.items[:MAX_ITEMS_MAIL]
    more = len(alert.items) - len(items)
    zh_todo = ZH_TODO_EXCEEDED if alert.rule == EXCEEDED else ZH_TODO_WARNING
    en_todo = EN_TODO_EXCEEDED if alert.rule == EXCEEDED else EN_TODO_WARNING
    lines = [
        f"{name}（{alert.dept_code}）：",
        "",
        _zh_status(alert, warn_ratio),
        "",
        f"部门：{name}（{alert.dept_code}）  年度：{alert.year}  配额：{alert.quota} 项  已用：{alert.used} 项",
        "",
        "计入的事项（全部县合计，已取消的不计；日期为实际日期，未完成的为计划日期）：",
    ]
    for n, item in enumerate(items, 1):
        lines.append(f"  {n}. {item.item_id} {item.topic}：{_dates(item)}，对象 {len(item.targets)} 个："
                     f"{_targets(item, reference, '、')}")
    if more > 0:
        lines.append(f"  ……另有 {more} 项")
    lines += ["", "请：", *(f"  {n}. {t}" for n, t in enumerate(zh_todo, 1)), "", "-" * 60, ""]
    lines += [
        f"{name} ({alert.dept_code}):",
        "",
        _en_status(alert, warn_ratio),
        "",
        f"Department: {alert.dept_code}  Year: {alert.year}  Quota: {alert.quota} items  Used: {alert.used} items",
        "",
        "Items counted (all counties, cancelled visits excluded; dates are actual dates, or planned when not done):",
    ]
    for n, item in enumerate(items, 1):
        lines.append(f"  {n}. {item.item_id} {item.topic}: {_dates(item)}, {len(item.targets)} target(s): "
                     f"{_targets(item, reference, ', ')}")
    if more > 0:
        lines.append(f"  ... and {more} more")
    lines += ["", "What to do:", *(f"  {n}. {t}" for n, t in enumerate(en_todo, 1))]
    return "\n".join(lines) + "\n"


def markdown(alert: QuotaAlert, reference: Reference, warn_ratio: float) -> str:
    """Shorter text for a group robot; names and topics escaped so they cannot become links."""
    name = md(dept_name(reference, alert.dept_code))
    title = "督检考事项超出配额" if alert.rule == EXCEEDED else "督检考事项接近配额"
    zh_todo = ZH_TODO_EXCEEDED if alert.rule == EXCEEDED else ZH_TODO_WARNING
    en_todo = EN_TODO_EXCEEDED if alert.rule == EXCEEDED else EN_TODO_WARNING
    items = alert.items[:MAX_ITEMS_WEBHOOK]
    lines = [
        f"### {title} / {'Inspection quota exceeded' if alert.rule == EXCEEDED else 'Inspection quota warning'}",
        f"**{name}（{alert.dept_code}）** {alert.year}年：已用 **{alert.used}** 项 / 配额 **{alert.quota}** 项",
        "",
        _zh_status(alert, warn_ratio),
        "",
    ]
    lines += [f"- {md(i.item_id)} {md(i.topic)}（{_dates(i)}，对象 {len(i.targets)} 个）" for i in items]
    if len(alert.items) > len(items):
        lines.append(f"- ……另有 {len(alert.items) - len(items)} 项 / {len(alert.items) - len(items)} more")
    lines += ["", "**请 / To do:**", *(f"{n}. {z} / {e}" for n, (z, e) in enumerate(zip(zh_todo, en_todo, strict=False), 1))]
    lines += ["", _en_status(alert, warn_ratio)]
    return "\n".join(lines)
