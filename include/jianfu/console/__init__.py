"""The console (SPEC.md section 16): the office's window on the pipeline, in the browser.

One FastAPI app (jianfu.console.app.create_app) that the Airflow plugin mounts behind Airflow's
login (plugins/jianfu_console.py) and `jianfu serve` runs alone (jianfu.console.serve). Pages are
modules of jianfu.console.pages with a template each; charts come from jianfu.charts, shared with
the monthly bulletin; the warehouse is read through one DuckDB connection per process
(jianfu.console.store). Nothing here writes, except the admission upload's temporary file.

Importing this package is cheap (the plugin's module imports jianfu.console.lazy in every Airflow
task process); the app and its pages load when `create_app` is first called.
"""

from __future__ import annotations

from typing import Any


def create_app(*args: Any, **kwargs: Any) -> Any:
    """jianfu.console.app.create_app, imported on first use."""
    from .app import create_app as build

    return build(*args, **kwargs)


__all__ = ["create_app"]
