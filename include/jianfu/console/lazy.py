"""An ASGI app that builds the console on its first request.

Airflow imports every plugin in every process that renders a task's template context — each task
run, on every worker — not only in the api-server that serves the console. Building the console
there would cost each task the import of the chart library and the page modules (about a second)
for nothing; this wrapper costs nothing until a request actually arrives.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

Scope = dict[str, Any]


class LazyApp:
    """Calls `factory()` once, at the first request, and hands every request to what it built."""

    def __init__(self, factory: Callable[[], Any]):
        self._factory = factory
        self._app: Any = None
        self._lock = threading.Lock()

    def _built(self) -> Any:
        if self._app is None:
            with self._lock:
                if self._app is None:
                    self._app = self._factory()
        return self._app

    async def __call__(self, scope: Scope, receive: Callable, send: Callable) -> None:
        await self._built()(scope, receive, send)
