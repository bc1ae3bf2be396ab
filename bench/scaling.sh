#!/usr/bin/env bash
# bench/scaling.sh — renders against the size of the store, both stores, one command (issue 18).
#
#   bench/scaling.sh BUILD [SECONDS]       # SECONDS of renders per point (default 10)
#   PV_SCALING_SQLITE="10000 100000 1000000"  # the sizes per store (these are the defaults;
#   PV_SCALING_PG="10000 100000"              # PostgreSQL seeds ~1 000 devices/s through the
#                                             # store API, so 1 000 000 takes ~17 min: opt in;
#                                             # an empty list skips that store)
#
# For each store and size: a fresh store (an SQLite file; a new database on a private
# PostgreSQL 15 started here, unix socket only) seeded through the store API by
# `seed_store seed` (bench/seed_store.c: accounts, layered parameters with placeholders, a
# confirmed key per device), then `seed_store render` for SECONDS — one thread, random devices,
# no cache, every render read from the store in its one statement and encrypted — giving
# renders/s, p50/p99/max latency (and "own" p99: without the time the thread waited for a CPU
# while other processes ran), CPU per render (the render process's, and PostgreSQL's), the
# render process's peak RSS, and the database's size. The 1-minute load average is recorded
# beside each point: the machine may be shared, and then CPU per render is the figure that
# carries over to a quiet machine.
#
# Output in bench/results/: scaling-<time>.jsonl (one line per point), scaling-<time>.md (the
# table for docs/benchmarks.md) and scaling-<time>.svg (renders/s, own p99 and CPU per render
# against devices, log scale, one line per store).
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
seconds=${2:-10}
src=$(cd "$(dirname "$0")/.." && pwd)
sqlite_sizes=${PV_SCALING_SQLITE-10000 100000 1000000}
pg_sizes=${PV_SCALING_PG-10000 100000}
. "$src/bench/lib.bash"
bench_begin scaling
D="$W/data"

# A data directory (demo manufacturer CA, master key) from a first `provisor serve`.
http=$(port)
"$build/provisor" serve --data-dir "$D" --workers 1 --tftp off --http "127.0.0.1:$http" \
  --https "127.0.0.1:$(port)" --admin "127.0.0.1:$(port)" >"$W/serve.log" 2>&1 &
pids+=($!)
wait_tcp "$http"
kill -TERM "${pids[0]}"
wait "${pids[0]}" || true
[ -z "$pg_sizes" ] || bench_pg_start

# CPU ticks of the PostgreSQL server: the postmaster and every child it has reaped (a
# backend's CPU lands there when its client disconnects).
pg_cpu_ticks() { awk '{print $14 + $15 + $16 + $17}' "/proc/$(head -1 "$W/pg/data/postmaster.pid")/stat"; }

point() { # STORE N
  local store=$1 n=$2 url seeded rendered
  if [ "$store" = postgres ]; then
    bench_pg_db "scale$n"
    url=$PG_DB_URL
  else
    url="$W/scale$n.db"
  fi
  seeded=$(PV_BENCH_DB=$url "$build/seed_store" seed "$D" "$n" 0 "$W/out$n")
  if [ "$store" = postgres ]; then # statistics as autovacuum would make them, before, not during
    psql -X -q -h "$PG_SOCK" -p "$PG_PORT" -U pv -d "scale$n" -c "VACUUM ANALYZE"
    sleep 2 # the seeding backend reaped: its CPU is not the renders'
  fi
  local load_before pg0=0 pg_ms=null
  load_before=$(loadavg)
  if [ "$store" = postgres ]; then pg0=$(pg_cpu_ticks); fi
  rendered=$(PV_BENCH_DB=$url "$build/seed_store" render "$D" "$n" "$seconds")
  if [ "$store" = postgres ]; then # the server's CPU per render, its backend reaped by now
    sleep 1
    pg_ms=$(python3 -c "import json,sys; r=json.loads(sys.argv[1]); print('%.4f' % ((int(sys.argv[2]) - int(sys.argv[3])) * 1000 / int(sys.argv[4]) / max(r['renders'], 1)))" \
      "$rendered" "$(pg_cpu_ticks)" "$pg0" "$(getconf CLK_TCK)")
  fi
  local mb pg_url=""
  if [ "$store" = postgres ]; then pg_url=$url; fi
  mb=$(bench_db_mb "$pg_url" "$url")
  record "{\"bench\":\"scaling\",\"store\":\"$store\",\"devices\":$n,\"db_mb\":$mb,\"loadavg\":[$load_before,$(loadavg)],\"server_cpu_ms_per_render\":$pg_ms,\"seed\":$seeded,\"render\":$rendered}"
  if [ "$store" = sqlite ]; then rm -f "$url" "$url"-wal "$url"-shm; fi
  rm -rf "$W/out$n"
}
for n in $sqlite_sizes; do point sqlite "$n"; done
for n in $pg_sizes; do point postgres "$n"; done

python3 - "$results" <<'PY'
import json, math, sys
path = sys.argv[1]
rows = [json.loads(l) for l in open(path) if l.strip()]
md = ["| store | devices | renders/s | p50 ms | p99 ms | p99 own ms | CPU ms/render (client + server) | peak RSS MB | database MB | seeding devices/s | load avg |",
      "|---|---|---|---|---|---|---|---|---|---|---|"]
for r in rows:
    x = r["render"]
    server = r.get("server_cpu_ms_per_render")
    cpu = "%.3f" % x["cpu_ms_per_render"] + (" + %.3f" % server if server is not None else "")
    md.append("| %s | %s | %s | %.3f | %.3f | %.3f | %s | %.1f | %d | %s | %.1f–%.1f |" % (
        "SQLite" if r["store"] == "sqlite" else "PostgreSQL", f'{r["devices"]:,}'.replace(",", " "),
        f'{x["renders_per_s"]:,.0f}'.replace(",", " "), x["p50_ms"], x["p99_ms"], x["own_p99_ms"], cpu,
        x["max_rss_kb"] / 1024, r["db_mb"], f'{r["seed"]["devices_per_s"]:,.0f}'.replace(",", " "),
        r["loadavg"][0], r["loadavg"][1]))
open(path[:-len(".jsonl")] + ".md", "w").write("\n".join(md) + "\n")
print("\n".join(md))

# Three panels side by side against devices (log x), one line per store: renders/s (wall), the
# p99 of a render's own latency, and CPU per render (client + server): on a busy machine the
# last two are what carries over.
W, H, M, R = 330, 260, 56, 40
colors = {"sqlite": "#1f77b4", "postgres": "#d62728"}
names = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
sizes = sorted({r["devices"] for r in rows})
lo, hi = math.log10(min(sizes)), math.log10(max(sizes))
if hi == lo:
    hi = lo + 1
def cpu(r):
    return r["render"]["cpu_ms_per_render"] + (r.get("server_cpu_ms_per_render") or 0)
def panel(x0, value, title):
    vals = [value(r) for r in rows]
    top = max(vals) * 1.15 or 1
    sx = lambda n: x0 + M + (math.log10(n) - lo) / (hi - lo) * (W - M - R)
    sy = lambda v: 30 + (1 - v / top) * (H - 30 - 40)
    out = [f'<text x="{x0 + W / 2}" y="18" text-anchor="middle" font-weight="bold">{title}</text>',
           f'<line x1="{x0 + M}" y1="{H - 40}" x2="{x0 + W - R}" y2="{H - 40}" stroke="#000"/>',
           f'<line x1="{x0 + M}" y1="30" x2="{x0 + M}" y2="{H - 40}" stroke="#000"/>']
    for i in range(5):
        v = top * i / 4
        out.append(f'<text x="{x0 + M - 4}" y="{sy(v) + 4:.1f}" text-anchor="end">{v:,.{0 if top > 20 else 2}f}</text>')
        out.append(f'<line x1="{x0 + M}" y1="{sy(v):.1f}" x2="{x0 + W - R}" y2="{sy(v):.1f}" stroke="#ddd"/>')
    for n in sizes:
        out.append(f'<text x="{sx(n):.1f}" y="{H - 24}" text-anchor="middle">{n:,}</text>')
    out.append(f'<text x="{x0 + W / 2}" y="{H - 6}" text-anchor="middle">devices in the store</text>')
    for store in ("sqlite", "postgres"):
        pts = [(sx(r["devices"]), sy(value(r))) for r in rows if r["store"] == store]
        if not pts:
            continue
        out.append('<polyline fill="none" stroke-width="2" stroke="%s" points="%s"/>' % (
            colors[store], " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)))
        out += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colors[store]}"/>' for x, y in pts]
    return out
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{3 * W}" height="{H + 20}" '
       'font-family="sans-serif" font-size="11">', '<rect width="100%" height="100%" fill="#fff"/>']
svg += panel(0, lambda r: r["render"]["renders_per_s"], "renders/s, in process, one thread")
svg += panel(W, lambda r: r["render"]["own_p99_ms"], "p99 of a render's own latency, ms")
svg += panel(2 * W, cpu, "CPU per render, client + server, ms")
for i, store in enumerate(s for s in ("sqlite", "postgres") if any(r["store"] == s for r in rows)):
    svg.append(f'<rect x="{M + 10 + 120 * i}" y="{H + 4}" width="12" height="4" fill="{colors[store]}"/>'
               f'<text x="{M + 26 + 120 * i}" y="{H + 10}">{names[store]}</text>')
svg.append("</svg>")
open(path[:-len(".jsonl")] + ".svg", "w").write("\n".join(svg) + "\n")
PY
echo "bench: $results, ${results%.jsonl}.md, ${results%.jsonl}.svg"
