#!/usr/bin/env bash
# `make airflow`: the Airflow UI on http://localhost:8080 over this checkout (embedded default).
#
# Runs `airflow standalone` (api-server, scheduler, dag-processor, triggerer; LocalExecutor; SQLite)
# with the project-local AIRFLOW_HOME of scripts/airflow_env.sh, so it shows the runs of `make demo`
# and works on the same $JIANFU_HOME (default ./data). The simple auth manager generates the admin
# password on first start and keeps it in $AIRFLOW_HOME/simple_auth_manager_passwords.json.generated;
# this script prints it once the server is up. Stop with Ctrl-C.
set -euo pipefail

# shellcheck source=scripts/airflow_env.sh
source "$(dirname "${BASH_SOURCE[0]}")/airflow_env.sh"
cd "$JIANFU_ROOT"

PASSWORDS="$AIRFLOW_HOME/simple_auth_manager_passwords.json.generated"
URL="http://localhost:$AIRFLOW__API__PORT"

print_login() {
    # Wait for the api-server (it writes the password file when it starts), then say how to log in.
    for _ in $(seq 1 180); do
        if [ -s "$PASSWORDS" ] && python -c "import urllib.request, sys; urllib.request.urlopen(sys.argv[1], timeout=2)" \
            "$URL/api/v2/version" 2>/dev/null; then
            python - "$PASSWORDS" "$URL" <<'PY'
import json, sys
users = json.load(open(sys.argv[1], encoding="utf-8"))
print("\n" + "=" * 72)
print(f"  jianfu Airflow UI: {sys.argv[2]}")
for user, password in users.items():
    print(f"  login: {user} / {password}")
print("  DAGs start paused: unpause jianfu_ingest, jianfu_build, jianfu_alerts, jianfu_collection")
print("=" * 72 + "\n", flush=True)
PY
            return 0
        fi
        sleep 1
    done
    echo "Airflow did not answer on $URL within 3 minutes; see the output above" >&2
}

echo "AIRFLOW_HOME=$AIRFLOW_HOME  JIANFU_HOME=$JIANFU_HOME  UI: $URL"
print_login &
LOGIN_PID=$!
trap 'kill "$LOGIN_PID" 2>/dev/null || true' EXIT
airflow standalone
