"""The console's FastAPI app (SPEC.md section 16): the same app inside Airflow and alone.

`create_app(settings, guard)` builds it; `guard` is the FastAPI dependency every route carries,
static files included (they are served by a route, not a mounted StaticFiles app, which would
escape the app's dependencies): inside the Airflow api-server it is Airflow's own
`requires_authenticated()` (plugins/jianfu_console.py), under `jianfu serve` a token check or
nothing on loopback (jianfu.console.serve).

Links are relative to the app's root path (`/jianfu` when Airflow mounts it), so the same pages
work at either address. The language is `?lang=zh|en`, remembered in a cookie.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from .. import charts
from ..config import JianfuError, Settings
from . import assets
from .pages import Page, Result, discover
from .pages import Request as PageRequest
from .store import Store
from .tables import SHOWN_ROWS, to_xlsx

HERE = Path(__file__).parent
LANG_COOKIE = "jianfu_lang"
LANGS = ("zh", "en")
#: Upload limit of the admission check, as jianfu.collection.admission reads at most 20 MB.
MAX_UPLOAD = 20 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = _num
    env.globals["SHOWN_ROWS"] = SHOWN_ROWS
    return env


def _num(value: Any, digits: int = 0) -> str:
    """A figure as the office writes it: thousands separated, fixed decimals, blank for none."""
    if value is None or value == "":
        return ""
    if isinstance(value, (int, float)):
        return f"{value:,.{digits}f}"
    return str(value)


def _lang(request: Request) -> str:
    chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE) or "zh"
    return chosen if chosen in LANGS else "zh"


def create_app(settings: Settings | None = None, guard: Callable[..., Any] | None = None,
               store: Store | None = None) -> FastAPI:
    """The console app reading `settings` (default: from the environment), every route behind `guard`."""
    store = store or Store(settings or Settings.from_env())
    pages = discover()
    by_slug = {p.slug: p for p in pages}
    env = _environment()
    dependencies = [Depends(guard)] if guard else []
    app = FastAPI(title="jianfu console", dependencies=dependencies, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.store = store

    def base(request: Request) -> str:
        return request.scope.get("root_path", "").rstrip("/")

    def render(request: Request, page: Page, upload: Path | None = None, upload_name: str | None = None,
               status_code: int = 200) -> Response:
        lang = _lang(request)
        params = {k: v for k, v in request.query_params.items() if k != "lang"}
        started = time.perf_counter()
        try:
            result = page.render(PageRequest(store, lang, params, upload, upload_name))
            error = None
        except JianfuError as exc:
            result, error, status_code = Result(), str(exc), 503
        if request.query_params.get("format") == "xlsx":
            name = f"jianfu_{page.slug}_{datetime.now(store.settings.office_tz):%Y%m%d_%H%M}.xlsx"
            return Response(to_xlsx(result.tables, lang), media_type=XLSX,
                            headers={"Content-Disposition": f'attachment; filename="{name}"'})
        root = base(request)
        query = {k: v for k, v in params.items() if k != "format"}
        html = env.get_template("error.html" if error else page.template_name).render(
            **result.context,
            page=page, pages=[p for p in pages if p.nav], lang=lang, base=root, params=params, error=error,
            tables={t.name: t for t in result.tables},
            charts={k: charts.spec_json(v) for k, v in result.charts.items()},
            # An upload's lists cannot be fetched again by a link: its form posts the file for the export.
            export_url=(f"{root}/{page.slug}?{urlencode({**query, 'format': 'xlsx'})}"
                        if result.tables and not page.accepts_upload else None),
            switch_url=f"{root}/{page.slug}?{urlencode({**query, 'lang': 'en' if lang == 'zh' else 'zh'})}",
            t=lambda zh, en: en if lang == "en" else zh,
            server_ms=(time.perf_counter() - started) * 1000,
        )
        response = HTMLResponse(html, status_code=status_code)
        if "lang" in request.query_params and lang == request.query_params["lang"]:
            response.set_cookie(LANG_COOKIE, lang, httponly=True, samesite="lax")
        return response

    @app.get("/static/{name}", name="static")
    def static(name: str) -> Response:
        asset = assets.get(name)
        if asset is None:
            raise HTTPException(404)
        body, media_type = asset
        return Response(body, media_type=media_type, headers={"Cache-Control": "private, max-age=3600"})

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        return render(request, pages[0])

    @app.get("/{slug}", response_class=HTMLResponse)
    def page(slug: str, request: Request) -> Response:
        found = by_slug.get(slug)
        if found is None:
            raise HTTPException(404)
        return render(request, found)

    @app.post("/{slug}", response_class=HTMLResponse)
    async def upload(slug: str, request: Request, file: UploadFile) -> Response:
        found = by_slug.get(slug)
        if found is None or not found.accepts_upload:
            raise HTTPException(405)
        suffix = Path(file.filename or "").suffix.lower()
        if suffix not in (".csv", ".xlsx"):
            suffix = ".csv"
        with tempfile.TemporaryDirectory(prefix="jianfu-upload-") as folder:
            path = Path(folder) / f"proposal{suffix}"
            size = 0
            with path.open("wb") as out:
                while chunk := await file.read(1024 * 1024):
                    size += len(chunk)
                    if size > MAX_UPLOAD:
                        raise HTTPException(413, "file over 20 MB / 文件超过 20 MB")
                    out.write(chunk)
            return render(request, found, upload=path, upload_name=file.filename)

    @app.exception_handler(404)
    async def not_found(request: Request, exc: Exception) -> Response:
        return HTMLResponse("<!doctype html><meta charset=utf-8><title>404</title>"
                            "<p>页面不存在 / Page not found</p>", status_code=404)

    return app


def login_redirect(login_url: Callable[[str], str]) -> Callable[[Request, HTTPException], Any]:
    """An exception handler sending a browser that is not logged in to the login page, then back.

    API clients (anything not asking for HTML) keep the plain 401 / 403 answer.
    """

    async def handler(request: Request, exc: HTTPException) -> Response:
        wants_html = "text/html" in request.headers.get("accept", "")
        if exc.status_code in (401, 403) and wants_html and request.method == "GET":
            return RedirectResponse(login_url(str(request.url)), status_code=303)
        return Response(str(exc.detail), status_code=exc.status_code, headers=getattr(exc, "headers", None))

    return handler
