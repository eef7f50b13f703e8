"""The console's pages: each module of this package that defines `PAGE` is one page.

A page is one small module here and one template in ../templates: the module's `PAGE` names the
page (its URL slug, its titles in Chinese and English, its place in the navigation) and the
function that gathers its figures; nothing else has to be edited to add one (the navigation and
the routes are built from what is found here, in `order`).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..store import Store
from ..tables import SHOWN_ROWS, XLSX_ROWS, Table


@dataclass
class Request:
    """What a page gets: the store, the language, the query parameters, an uploaded file."""

    store: Store
    lang: str
    params: dict[str, str]
    upload: Path | None = None  # a temporary copy of the uploaded file (POST), deleted after the page
    upload_name: str | None = None

    @property
    def limit(self) -> int:
        """Rows a list reads: what the page shows, or what a sheet of the XLSX export takes."""
        return XLSX_ROWS if self.param("format") == "xlsx" else SHOWN_ROWS

    def param(self, name: str) -> str:
        return (self.params.get(name) or "").strip()

    def t(self, zh: str, en: str) -> str:
        """The text in the page's language."""
        return en if self.lang == "en" else zh


@dataclass
class Result:
    """What a page hands back: its template's context, its lists (XLSX) and its charts."""

    context: dict[str, Any] = field(default_factory=dict)
    tables: list[Table] = field(default_factory=list)
    charts: dict[str, Any] = field(default_factory=dict)  # id -> altair chart


@dataclass(frozen=True)
class Page:
    slug: str
    title: dict[str, str]
    render: Callable[[Request], Result]
    order: int = 100
    template: str = ""  # default: <slug>.html
    nav: bool = True  # shown in the navigation (a detail page reached by a link is not)
    accepts_upload: bool = False

    @property
    def template_name(self) -> str:
        return self.template or f"{self.slug}.html"


def discover() -> list[Page]:
    """Every PAGE of this package's modules, in navigation order."""
    pages = []
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        module = importlib.import_module(f"{__name__}.{info.name}")
        page = getattr(module, "PAGE", None)
        if isinstance(page, Page):
            pages.append(page)
    return sorted(pages, key=lambda p: (p.order, p.slug))
