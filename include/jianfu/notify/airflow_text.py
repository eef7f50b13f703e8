"""What a failed Airflow task tells the office: which task, which run, the error, what to do."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from ..config import Settings
from ..escape import markdown as md
from .message import Notification


def failure_message(context: Mapping[str, Any]) -> tuple[str, str, str]:
    """(subject, body, markdown) saying which jianfu task failed for good and what to do."""
    ti = context.get("ti") or context.get("task_instance")
    dag_id = getattr(ti, "dag_id", None) or getattr(context.get("dag"), "dag_id", "?")
    task_id = getattr(ti, "task_id", "?")
    run_id = getattr(ti, "run_id", None) or context.get("run_id", "?")
    map_index = getattr(ti, "map_index", -1)
    try_number = getattr(ti, "try_number", None)
    error = context.get("exception")
    error_line = f"{type(error).__name__}: {error}" if error is not None else "see the task log"
    error_line = error_line.replace("\n", " ")[:1000]
    where = f"{dag_id}.{task_id}" + (f"[{map_index}]" if map_index not in (None, -1) else "")
    log_url = getattr(ti, "log_url", None) or ""
    subject = f"[jianfu] 任务失败 Task failed: {where}"
    body = (
        f"jianfu 流水线任务失败（已用完重试次数）。\n"
        f"任务: {where}\n运行: {run_id}\n错误: {error_line}\n"
        f"请查看 Airflow 任务日志，修复后在 Airflow 中清除（Clear）该任务以重新运行。\n\n"
        f"A jianfu pipeline task failed after its retries.\n"
        f"Task: {where}\nRun: {run_id}\nTry: {try_number}\nError: {error_line}\n"
        f"Read the task log{(': ' + log_url) if log_url else ''}, fix the cause, then clear the "
        f"task in Airflow to run it again. Files already received are safe in the ledger.\n"
    )
    markdown = (
        f"### jianfu 任务失败 / task failed\n\n- 任务 Task: `{where}`\n- 运行 Run: `{run_id}`\n"
        f"- 错误 Error: {md(error_line)}\n" + (f"- [日志 Log]({log_url})\n" if log_url else "")
    )
    return subject, body, markdown


def failure_notification(settings: Settings, context: Mapping[str, Any]) -> Notification:
    subject, body, markdown = failure_message(context)
    return Notification(uuid.uuid4().hex, subject, body, markdown, settings.alert_emails, settings.now())
