#!/usr/bin/env bash
# `make run`: a collector with its embedded store on 127.0.0.1 plus a local
# agent whose probes target only this machine. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=./bin
DATA=./data
PORT=${PROBITY_DEMO_PORT:-8470}
URL="http://127.0.0.1:${PORT}"
collector() { "$BIN/probity-collector" "$@" --config configs/collector.demo.yaml --listen "127.0.0.1:${PORT}"; }
AGENT_CFG=configs/agent.demo.yaml

mkdir -p "$DATA/collector" "$DATA/agent"
pids=()
stop() {
  trap - INT TERM EXIT
  echo
  echo "Stopping the agent and the collector..."
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "Stopped. Data kept in $DATA (make clean removes it)."
}
trap stop INT TERM EXIT

if curl -fsS -o /dev/null "$URL/healthz" 2>/dev/null; then
  echo "Something already answers on $URL: stop it or set PROBITY_DEMO_PORT." >&2
  exit 1
fi

collector serve 2> >(sed 's/^/[collector] /' >&2) &
pids+=($!)
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "$URL/healthz" 2>/dev/null && break
  sleep 0.1
done
curl -fsS -o /dev/null "$URL/healthz" || { echo "The collector did not start; see the log above." >&2; exit 1; }

# Demo trust and school, created once.
if ! collector site list 2>/dev/null | grep -q '^demo-school '; then
  collector trust add "Demo Trust" >/dev/null 2>&1 || true
  collector site add --trust "Demo Trust" --name "Demo School" --id demo-school --urn 100000 --phase secondary
fi

# A trust administrator to sign in with. Its password is generated afresh
# on every run (and printed below), so nothing secret is kept in the repo.
DEMO_USER=demo-admin
if collector user list 2>/dev/null | grep -q "^${DEMO_USER} "; then
  out=$(collector user passwd --name "$DEMO_USER")
else
  out=$(collector user add --name "$DEMO_USER" --role trust_admin --trust "Demo Trust")
fi
DEMO_PASSWORD=$(printf '%s\n' "$out" | sed -n 's/^Password (shown only this once): //p')

# Enrol the local agent once; its credential lives in data/agent.
if [ ! -f "$DATA/agent/credential.json" ]; then
  token=$(collector agent token --site demo-school 2>/dev/null)
  "$BIN/probity-agent" enrol --no-check --service "" --config "$AGENT_CFG" --collector "$URL" --token "$token"
fi

# The demo agent config targets 127.0.0.1:8470; follow a different port.
agent_cfg="$AGENT_CFG"
if [ "$PORT" != 8470 ]; then
  agent_cfg="$DATA/agent.demo.yaml"
  sed "s/127.0.0.1:8470/127.0.0.1:${PORT}/" "$AGENT_CFG" > "$agent_cfg"
fi
"$BIN/probity-agent" run --config "$agent_cfg" 2> >(sed 's/^/[agent] /' >&2) &
pids+=($!)

cat <<MSG

  Probity is running.
    Sign in:          $URL/login
      name:           $DEMO_USER
      password:       $DEMO_PASSWORD
    All schools:      $URL/
    Evidence report:  $URL/schools/demo-school/report
    Verdicts (JSON):  $URL/api/v1/sites/demo-school/verdicts (signed in, or with an admin token)
    Metrics:          $URL/metrics
  The agent measures every 15-30 s and the collector scores every 15 s.
  Press Ctrl-C to stop both.

MSG
wait -n "${pids[@]}" || true
