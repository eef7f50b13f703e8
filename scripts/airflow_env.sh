# shellcheck shell=bash
# Environment for running Airflow on this checkout: the embedded default (SPEC.md section 12).
#
# Sourced by scripts/demo.sh and scripts/airflow_standalone.sh, and usable by hand:
#     source scripts/airflow_env.sh && airflow dags list
# Everything Airflow writes goes under a project-local AIRFLOW_HOME (./.airflow, git-ignored), so
# a checkout never touches ~/airflow. Every value below only fills in what the caller has not
# already set, so CI and tests can point the same scripts at a temporary home.

JIANFU_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export JIANFU_ROOT

# The project's virtual environment provides `airflow` and `jianfu`.
if [ -d "$JIANFU_ROOT/.venv/bin" ]; then
    case ":$PATH:" in
        *":$JIANFU_ROOT/.venv/bin:"*) ;;
        *) export PATH="$JIANFU_ROOT/.venv/bin:$PATH" ;;
    esac
fi

export AIRFLOW_HOME="${AIRFLOW_HOME:-$JIANFU_ROOT/.airflow}"
export AIRFLOW__CORE__DAGS_FOLDER="${AIRFLOW__CORE__DAGS_FOLDER:-$JIANFU_ROOT/dags}"
export AIRFLOW__CORE__PLUGINS_FOLDER="${AIRFLOW__CORE__PLUGINS_FOLDER:-$JIANFU_ROOT/plugins}"
export AIRFLOW__CORE__LOAD_EXAMPLES="${AIRFLOW__CORE__LOAD_EXAMPLES:-False}"
# Embedded default: SQLite metadata database and the LocalExecutor.
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN:-sqlite:///$AIRFLOW_HOME/airflow.db}"
export AIRFLOW__CORE__EXECUTOR="${AIRFLOW__CORE__EXECUTOR:-LocalExecutor}"
# A few tasks at once: enough to show mapped ingest batches side by side, few enough for SQLite.
export AIRFLOW__CORE__PARALLELISM="${AIRFLOW__CORE__PARALLELISM:-4}"
export AIRFLOW__API__PORT="${AIRFLOW__API__PORT:-8080}"
# The UI and API of a checkout listen on this machine only; set AIRFLOW__API__HOST=0.0.0.0 to
# serve the office network (behind its firewall and Airflow's login).
export AIRFLOW__API__HOST="${AIRFLOW__API__HOST:-127.0.0.1}"
export AIRFLOW__API__BASE_URL="${AIRFLOW__API__BASE_URL:-http://127.0.0.1:$AIRFLOW__API__PORT}"
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="${AIRFLOW__CORE__EXECUTION_API_SERVER_URL:-$AIRFLOW__API__BASE_URL/execution/}"
# New DAGs are found within seconds, not minutes (demo and `make airflow`).
export AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="${AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL:-10}"
export AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK="${AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK:-False}"
# The office's time zone (SPEC.md section 12) for dates given to Airflow without one (the trigger
# form's logical date). The UI shows times in the browser's zone, chosen per browser in its user
# menu; docs/AIRFLOW.md says how to pick Asia/Shanghai and 简体中文 there.
export AIRFLOW__CORE__DEFAULT_TIMEZONE="${AIRFLOW__CORE__DEFAULT_TIMEZONE:-Asia/Shanghai}"

# jianfu itself (SPEC.md section 11): data lives in ./data unless told otherwise.
export JIANFU_HOME="${JIANFU_HOME:-$JIANFU_ROOT/data}"
# include/ holds the jianfu package; the venv has it installed, this covers a bare checkout.
case ":${PYTHONPATH:-}:" in
    *":$JIANFU_ROOT/include:"*) ;;
    *) export PYTHONPATH="$JIANFU_ROOT/include${PYTHONPATH:+:$PYTHONPATH}" ;;
esac
mkdir -p "$AIRFLOW_HOME"
