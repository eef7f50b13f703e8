#!/usr/bin/env bash
# `make airflow`: the Airflow UI on http://127.0.0.1:8080 over this checkout (embedded default).
#
# Runs the api-server, scheduler, dag-processor and triggerer (LocalExecutor, SQLite) with the
# project-local AIRFLOW_HOME of scripts/airflow_env.sh, so it shows the runs of `make demo` and
# works on the same $JIANFU_HOME (default ./data). The components are started here rather than by
# `airflow standalone`, so that one Ctrl-C stops them all (scripts/airflow_components.sh) and the
# banner can say which DAGs are on. The simple auth manager generates the admin password on first
# start and keeps it in $AIRFLOW_HOME/simple_auth_manager_passwords.json.generated; the banner
# prints it. Logs: $AIRFLOW_HOME/logs/airflow/<component>.log.
set -euo pipefail

# shellcheck source=scripts/airflow_env.sh
source "$(dirname "${BASH_SOURCE[0]}")/airflow_env.sh"
# shellcheck source=scripts/airflow_components.sh
source "$(dirname "${BASH_SOURCE[0]}")/airflow_components.sh"
cd "$JIANFU_ROOT"

PASSWORDS="$AIRFLOW_HOME/simple_auth_manager_passwords.json.generated"
URL="http://$AIRFLOW__API__HOST:$AIRFLOW__API__PORT"
LOGS="$AIRFLOW_HOME/logs/airflow"
mkdir -p "$LOGS"

on_signal() {
    echo
    echo "stopping Airflow (api-server, scheduler, dag-processor, triggerer) ..."
    stop_components
    echo "stopped"
    exit 0
}
trap on_signal INT TERM
trap stop_components EXIT

echo "AIRFLOW_HOME=$AIRFLOW_HOME  JIANFU_HOME=$JIANFU_HOME"
echo "preparing the Airflow database ..."
airflow db migrate > "$LOGS/db-migrate.log" 2>&1 || { tail -20 "$LOGS/db-migrate.log" >&2; exit 1; }
for component in api-server scheduler dag-processor triggerer; do
    start_component "$LOGS/$component.log" "$component"
done
echo "starting api-server ($URL), scheduler, dag-processor, triggerer; logs in $LOGS"

for _ in $(seq 1 180); do
    if [ -s "$PASSWORDS" ] && api_up; then break; fi
    for pid in "${AIRFLOW_PIDS[@]}"; do
        kill -0 "$pid" 2>/dev/null || { echo "an Airflow component exited; see $LOGS" >&2; exit 1; }
    done
    sleep 1
done
api_up || { echo "Airflow did not answer on $URL within 3 minutes; see $LOGS" >&2; exit 1; }
# The banner says what is true now: which DAGs are on (a fresh AIRFLOW_HOME starts them paused;
# `make demo` leaves them on), once the dag-processor has parsed them.
for _ in $(seq 1 60); do
    STATES="$(python -m jianfu.demo states 2>/dev/null || true)"
    case "$STATES" in *"not parsed yet"*|"") sleep 2 ;; *) break ;; esac
done
python - "$PASSWORDS" "$URL" "$STATES" <<'PY'
import json, sys
users = json.load(open(sys.argv[1], encoding="utf-8"))
url, states = sys.argv[2], sys.argv[3]
print("\n" + "=" * 72)
print(f"  jianfu Airflow UI: {url}/   (简体中文: {url}/?lng=zh-CN)")
for user, password in users.items():
    print(f"  login: {user} / {password}")
print(f"  DAGs: {states}")
if "paused" in states:
    print("  a paused DAG runs nothing on its schedule: unpause it in the UI (toggle left of its name)")
print("  times: the UI shows your browser's time zone; pick Asia/Shanghai in the user menu")
print("  stop: Ctrl-C")
print("=" * 72 + "\n", flush=True)
PY
wait
