# shellcheck shell=bash
# Start Airflow components in the background and stop them all, cleanly, on exit or Ctrl-C.
#
# Sourced by scripts/demo.sh and scripts/airflow_standalone.sh after airflow_env.sh. Each component
# runs in a session of its own (setsid), so Ctrl-C reaches only this script, which then stops
# every component and its children (TERM to the whole group, KILL after a grace period) instead
# of leaving some of them holding the terminal or the port.

AIRFLOW_PIDS=()
AIRFLOW_STOP_GRACE="${AIRFLOW_STOP_GRACE:-20}"

start_component() {  # start_component <log file> <airflow args...>
    local log="$1"; shift
    setsid airflow "$@" > "$log" 2>&1 < /dev/null &
    AIRFLOW_PIDS+=("$!")
}

stop_components() {
    local pid
    for pid in "${AIRFLOW_PIDS[@]}"; do
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${AIRFLOW_PIDS[@]}"; do
        for _ in $(seq 1 "$AIRFLOW_STOP_GRACE"); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
        kill -KILL -- "-$pid" 2>/dev/null || true
    done
    AIRFLOW_PIDS=()
}

api_up() {  # api_up: the api-server answers on its port
    python -c "import urllib.request, sys; urllib.request.urlopen(sys.argv[1], timeout=2)" \
        "http://127.0.0.1:$AIRFLOW__API__PORT/api/v2/version" 2>/dev/null
}
