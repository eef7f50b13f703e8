"""The admission check (准入, SPEC.md sections 10 and 16): upload a proposal file, see the verdicts.

The judging is jianfu.collection.admission.check_form's, the same as `jianfu check-form`: the
upload is written to a temporary file (the console's only write), checked, and deleted. A file
the check refuses is refused whole, with its reason, and nothing is judged.
"""

from __future__ import annotations

from ...collection.admission import ADMIT, REUSE, REVIEW, AdmissionResult, check_form
from ...config import JianfuError
from ..tables import Column, Table
from . import Page, Request, Result

VERDICTS = {"zh": {REUSE: "复用已有报表", REVIEW: "需审查", ADMIT: "准予新设"},
            "en": {REUSE: "reuse an existing form", REVIEW: "review", ADMIT: "admit"}}
VERDICT_CLASS = {REUSE: "status-rejected", REVIEW: "status-late", ADMIT: "status-accepted"}


def verdict_rows(result: AdmissionResult, lang: str) -> list[dict]:
    """One row per match (one row without a match for `admit`), as `jianfu check-form --format csv`."""
    names = VERDICTS.get(lang, VERDICTS["zh"])
    rows = []
    for p in result.proposals:
        common = {"proposed_form": p.form_name, "proposer": p.dept_code, "verdict": names[p.verdict],
                  "verdict_code": p.verdict, "_class_verdict": VERDICT_CLASS[p.verdict]}
        for m in p.matches or [None]:
            rows.append({**common, **({"dept_code": m.dept_code, "form_id": m.form_id, "form_name": m.form_name,
                                        "similarity": round(m.similarity, 3), "units_filling": m.units_filling}
                                       if m else {})})
    return rows


def render(req: Request) -> Result:
    if req.upload is None:
        return Result(context={"result": None, "refused": None})
    shown = req.upload_name or req.upload.name
    try:
        result = check_form(req.store.settings, req.upload)
    except JianfuError as exc:
        reason = str(exc).replace(str(req.upload), shown)
        return Result(context={"result": None, "refused": reason, "file": shown})
    result.source = shown
    table = Table("verdicts", {"zh": "判断结果", "en": "Verdicts"},
                  [Column("proposed_form", "拟新设报表", "proposed form"), Column("proposer", "申请部门", "proposed by"),
                   Column("verdict", "结论", "verdict"), Column("dept_code", "已有报表部门", "existing form's department"),
                   Column("form_id", "报表编号", "form id"), Column("form_name", "已有报表名称", "existing form"),
                   Column("similarity", "相似度", "similarity"), Column("units_filling", "填报单位数", "units filling")],
                  verdict_rows(result, req.lang))
    counts = {v: sum(1 for p in result.proposals if p.verdict == v) for v in (REUSE, REVIEW, ADMIT)}
    return Result(context={"result": result, "refused": None, "file": shown, "counts": counts,
                           "verdicts": VERDICTS.get(req.lang, VERDICTS["zh"])}, tables=[table])


PAGE = Page(slug="admission", title={"zh": "准入审查", "en": "Admission check"}, render=render, order=90,
            accepts_upload=True)
