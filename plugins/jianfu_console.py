"""Registers the jianfu console with Airflow (SPEC.md sections 12 and 16): nothing else lives here.

The FastAPI app (jianfu.console) is mounted in the api-server under /jianfu with every route behind
Airflow's own authentication, and a navigation entry opens it inside the Airflow UI. A browser
that is not logged in is sent to Airflow's login page and back; other clients get 401. The app is
built at its first request (jianfu.console.lazy): Airflow imports this module in every task
process too, where the console is never served.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from jianfu.console.lazy import LazyApp

URL_PREFIX = "/jianfu"


def console_app():
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.core_api.security import requires_authenticated
    from fastapi import HTTPException

    from jianfu.console.app import create_app, login_redirect

    app = create_app(guard=requires_authenticated())
    app.add_exception_handler(
        HTTPException, login_redirect(lambda next_url: get_auth_manager().get_url_login(next_url=next_url)))
    return app


class JianfuConsolePlugin(AirflowPlugin):
    name = "jianfu_console"
    fastapi_apps = [{"app": LazyApp(console_app), "url_prefix": URL_PREFIX, "name": "jianfu console 减负数据平台"}]
    external_views = [{
        "name": "减负 jianfu",
        "href": "jianfu/",
        "url_route": "jianfu",
        "destination": "nav",
        "nav_top_level": True,
        "icon": f"{URL_PREFIX}/static/icon.svg",
    }]
