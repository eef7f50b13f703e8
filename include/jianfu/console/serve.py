"""`jianfu serve`: the console alone, for a laptop (SPEC.md sections 11 and 16).

Without Airflow there is no Airflow login, so the app guards itself: with no JIANFU_CONSOLE_TOKEN
it listens on loopback only (a non-loopback --host is refused), and with one every request must
carry it (`Authorization: Bearer <token>`, or `?token=` once, which sets a cookie for the visit).
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Callable
from urllib.parse import urlencode

from fastapi import HTTPException, Request
from fastapi.responses import RedirectResponse

from ..config import JianfuError, Settings
from .app import create_app

TOKEN_COOKIE = "jianfu_console_token"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def token_guard(token: str) -> Callable[[Request], None]:
    """A dependency admitting requests that carry `token` (header, cookie, or ?token=)."""
    expected = token.encode("utf-8")

    def guard(request: Request) -> None:
        header = request.headers.get("authorization", "")
        offered = (header[7:] if header.lower().startswith("bearer ") else "") \
            or request.cookies.get(TOKEN_COOKIE, "") or request.query_params.get("token", "")
        if not hmac.compare_digest(offered.encode("utf-8"), expected):
            raise HTTPException(401, "token required / 需要访问令牌", headers={"WWW-Authenticate": "Bearer"})
        if request.query_params.get("token"):
            # Take the token out of the address bar (and out of history) into a cookie.
            query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "token"])
            response = RedirectResponse(request.url.path + (f"?{query}" if query else ""), status_code=303)
            response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
            raise _Redirect(response)

    return guard


class _Redirect(HTTPException):
    """Carries a prepared response out of a dependency (the token-to-cookie redirect)."""

    def __init__(self, response: RedirectResponse):
        super().__init__(303)
        self.response = response


def serve_app(settings: Settings, host: str):
    """The app `jianfu serve` runs, guarded as the host and the token require."""
    token = settings.console_token
    if not token and not is_loopback(host):
        raise JianfuError(f"jianfu serve --host {host}: without JIANFU_CONSOLE_TOKEN the console listens on "
                          "loopback only (127.0.0.1); set a token to serve other machines")
    app = create_app(settings, guard=token_guard(token) if token else None)

    @app.exception_handler(_Redirect)
    async def redirect(request: Request, exc: _Redirect):
        return exc.response

    return app


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8090) -> None:
    import uvicorn  # imported here: only the serve command runs a server

    app = serve_app(settings, host)
    print(f"jianfu console: http://{host}:{port}/  (Ctrl+C stops it)", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
