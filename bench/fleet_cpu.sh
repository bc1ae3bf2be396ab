#!/usr/bin/env bash
# bench/fleet_cpu.sh — the fleet's own CPU per resync (issue 18), by transport and fetcher
# engine: N phones' power restore (one resync each, --random-delay 0) against one
# `provisor serve` (HTTPS with client certificates required, HTTP, TFTP), the fleet's
# getrusage CPU (its JSON report's cost.cpu_s, setup excluded) divided by its requests.
# The engines alternate in the same run, ROUNDS times, so that a loaded machine loads both.
#
#   bench/fleet_cpu.sh BUILD [N] [ROUNDS]      # defaults 2000 phones, 3 rounds
#   PV_FLEET_CPU_IN_FLIGHT=K                   # requests in flight (default 200: a server on a
#                                              # loaded machine times out handshakes at 1000)
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
N=${2:-2000}
ROUNDS=${3:-3}
INFLIGHT=${PV_FLEET_CPU_IN_FLIGHT:-200}
src=$(cd "$(dirname "$0")/.." && pwd)
bin="$build/provisor"
. "$src/bench/lib.bash"
bench_begin fleet-cpu
ulimit -n "$(ulimit -Hn)"

bench_server_pki fleet-cpu-ca
"$bin" fleet certs --count "$N" --out "$W/certs" >/dev/null
HTTPS=$(port); HTTP=$(port); TFTP=$(port udp)
"$bin" fleet profiles --phones "$N" --out "$W/root" --server "https://127.0.0.1:$HTTPS" >/dev/null
bench_fleet_serve "$bin" serve 1 "$HTTPS" \
  --https "127.0.0.1:$HTTPS" --http "127.0.0.1:$HTTP" --tftp "127.0.0.1:$TFTP"

one() { # TRANSPORT URL ENGINE ROUND
  local out="$W/$1-$3-$4.json"
  local cmd=("$bin" fleet run --scenario power-restore --phones "$N" --random-delay 0
    --server "$2" --ca "$W/pki/ca.pem" --certs "$W/certs" --duration 90 --max-in-flight "$INFLIGHT" --fetcher "$3" --json)
  [ "$4" = 1 ] && echo "fleet_cpu: ${cmd[*]}" | sed "s|$W|\$W|g" >&2
  "${cmd[@]}" >"$out" 2>"$W/fleet.err" || true
  python3 - "$out" "$1" "$3" "$4" "$(loadavg)" <<'PY' | tee -a "$results"
import json, sys
r = json.load(open(sys.argv[1])); c = r["cost"]
cpu = c["cpu_s"]  # the run alone: setup is not in it
print(json.dumps({"bench": "fleet_cpu_per_resync", "transport": sys.argv[2], "fetcher": sys.argv[3],
  "round": int(sys.argv[4]), "phones": r["phones"], "reached": r["reached"], "requests": r["requests"],
  "failed": r["failed"], "failures": r["failures"], "fleet_cpu_s": round(cpu, 3),
  "cpu_ms_per_request": round(1000 * cpu / max(r["requests"], 1), 3), "load": float(sys.argv[5])}))
PY
}
for round in $(seq "$ROUNDS"); do
  for engine in curl native; do
    one https "https://127.0.0.1:$HTTPS" "$engine" "$round"
    one http "http://127.0.0.1:$HTTP" "$engine" "$round"
    one tftp "tftp://127.0.0.1:$TFTP" "$engine" "$round"
  done
done
python3 - "$results" <<'PY'
import json, sys, statistics
rows = [json.loads(l) for l in open(sys.argv[1]) if '"fleet_cpu_per_resync"' in l]
for t in ("https", "http", "tftp"):
    for e in ("curl", "native"):
        v = [r["cpu_ms_per_request"] for r in rows if r["transport"] == t and r["fetcher"] == e]
        if v:
            print(f"{t:5} {e:6} CPU ms per resync: {', '.join(map(str, v))} (median {statistics.median(v)})")
PY
echo "fleet_cpu: results in $results" >&2
