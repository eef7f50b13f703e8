"""Airflow local settings for jianfu: a compatibility shim, nothing else.

Airflow imports `airflow_local_settings` from its plugins folder (on sys.path) when it starts,
before it loads the executor. The Celery provider (apache-airflow-providers-celery 3.26.0, the
newest) still imports `retry` from `celery.backends.database`, which Celery 5.7 removed: with
Celery 5.7 the CeleryExecutor cannot even be loaded ("cannot import name 'retry'"). Celery 5.7's
database backend retries on its own (`result_backend_always_retry`, on by default for it), so the
decorator the provider wants can be a pass-through. The shim only acts when the name is missing,
so it does nothing once requirements pin a compatible Celery or the provider is fixed; it only
runs when the Celery executor is configured, so other processes pay nothing.
"""

from __future__ import annotations


def _celery_database_retry_shim() -> None:
    try:
        from airflow.configuration import conf

        if "celery" not in conf.get("core", "executor", fallback="").lower():
            return
        import celery.backends.database as database
    except Exception:  # noqa: BLE001 - no Celery, nothing to fix
        return
    if not hasattr(database, "retry"):

        def retry(fun):
            """Pass-through: Celery >= 5.7's DatabaseBackend retries inside the backend."""
            return fun

        database.retry = retry


_celery_database_retry_shim()
