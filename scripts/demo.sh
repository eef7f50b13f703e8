#!/usr/bin/env bash
# `make demo`: sample data for the pilot counties, then every DAG through Airflow, then a summary.
#
# Airflow runs on the embedded default (SPEC.md section 12): SQLite metadata database and the
# LocalExecutor under the project-local AIRFLOW_HOME (./.airflow). The DAGs are paused, then the
# api-server, scheduler and dag-processor are started in the background for the length of the
# demo; jianfu_ingest is unpaused and its scheduled run (the one the demo names) does the work,
# its Asset schedules jianfu_build, whose Asset schedules jianfu_alerts; only then is
# jianfu_collection unpaused. Nothing is faked: the same DAGs a county office deploys, left on.
#
# Data goes to $JIANFU_HOME (default ./data). It is recreated only when it is empty or was made
# by an earlier demo (marker file .jianfu-demo), so real data is never overwritten.
#
# Environment: JIANFU_HOME, AIRFLOW_HOME as usual; JIANFU_DEMO_TIMEOUT (seconds, default 900).
set -euo pipefail

# shellcheck source=scripts/airflow_env.sh
source "$(dirname "${BASH_SOURCE[0]}")/airflow_env.sh"
# shellcheck source=scripts/airflow_components.sh
source "$(dirname "${BASH_SOURCE[0]}")/airflow_components.sh"
cd "$JIANFU_ROOT"

# A port of its own, so a `make airflow` already on 8080 does not collide with the demo's API.
DEMO_PORT="$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export AIRFLOW__API__PORT="$DEMO_PORT"
export AIRFLOW__API__BASE_URL="http://127.0.0.1:$DEMO_PORT"
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="http://127.0.0.1:$DEMO_PORT/execution/"
# Fail fast in a demo: one quick retry instead of the production backoff.
export JIANFU_TASK_RETRIES="${JIANFU_TASK_RETRIES:-1}"
export JIANFU_RETRY_DELAY_SECONDS="${JIANFU_RETRY_DELAY_SECONDS:-5}"
TIMEOUT="${JIANFU_DEMO_TIMEOUT:-900}"
LOGS="$AIRFLOW_HOME/logs/demo"
mkdir -p "$LOGS"

step() { printf '\n==> %s\n' "$*"; }

# --- 1. sample data -----------------------------------------------------------------------------
if [ -d "$JIANFU_HOME" ] && [ -n "$(ls -A "$JIANFU_HOME" 2>/dev/null)" ] && [ ! -f "$JIANFU_HOME/.jianfu-demo" ]; then
    echo "error: $JIANFU_HOME holds data that is not from a demo; set JIANFU_HOME to another directory" >&2
    exit 1
fi
step "sample data for the pilot counties -> $JIANFU_HOME"
rm -rf "$JIANFU_HOME"
mkdir -p "$JIANFU_HOME"
touch "$JIANFU_HOME/.jianfu-demo"
jianfu sample --out "$JIANFU_HOME"
jianfu init

# --- 2. Airflow -----------------------------------------------------------------------------------
step "Airflow metadata database (AIRFLOW_HOME=$AIRFLOW_HOME)"
airflow db migrate > "$LOGS/db-migrate.log" 2>&1 || { tail -20 "$LOGS/db-migrate.log" >&2; exit 1; }

# Paused before the scheduler starts: an earlier demo left them on, and a scheduled run must not
# race the one this demo names (nor a jianfu_collection run come before the ingest).
python -m jianfu.demo pause > "$LOGS/pause.log" 2>&1 || { cat "$LOGS/pause.log" >&2; exit 1; }
trap stop_components EXIT

step "starting the api-server (port $DEMO_PORT), scheduler and dag-processor; logs in $LOGS"
start_component "$LOGS/api-server.log" api-server --port "$DEMO_PORT"
start_component "$LOGS/scheduler.log" scheduler
start_component "$LOGS/dag-processor.log" dag-processor

for _ in $(seq 1 120); do
    if api_up; then break; fi
    sleep 1
done

# --- 3. the pipeline --------------------------------------------------------------------------------
step "running jianfu_ingest -> (Asset) jianfu_build -> (Asset) jianfu_alerts, then jianfu_collection"
if ! python -m jianfu.demo run-chain "$TIMEOUT"; then
    echo "the pipeline did not finish; Airflow logs: $LOGS and $AIRFLOW_HOME/logs" >&2
    exit 1
fi

# --- 4. what came out ---------------------------------------------------------------------------------
python -m jianfu.demo summary
cat <<EOF

Where to look next:
  Airflow UI:  run \`make airflow\`, then http://127.0.0.1:8080/ (it prints the login); the DAGs
               jianfu_ingest, jianfu_build, jianfu_alerts and jianfu_collection show these runs and
               are left on (jianfu_ingest looks at landing/ every 15 minutes).
  console:     http://127.0.0.1:8080/jianfu/ (with \`make airflow\` running: the 减负 jianfu menu entry),
               or without Airflow: JIANFU_HOME=$JIANFU_HOME .venv/bin/jianfu serve -> http://127.0.0.1:8090/
  bulletin:    JIANFU_HOME=$JIANFU_HOME .venv/bin/jianfu report --period 2026-10 --format pdf
               (jianfu_report writes and sends it on day 6 of each month)
  warehouse:   JIANFU_HOME=$JIANFU_HOME .venv/bin/jianfu query "select rule, count(*) from flags group by rule"
EOF
