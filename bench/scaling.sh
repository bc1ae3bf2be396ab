#!/usr/bin/env bash
# bench/scaling.sh — renders against the size of the store, both stores, one command (issue 18).
#
#   bench/scaling.sh BUILD [SECONDS]       # SECONDS of renders per point (default 10)
#   PV_SCALING_SQLITE="10000 100000 1000000"  # the sizes per store (these are the defaults;
#   PV_SCALING_PG="10000 100000"              # PostgreSQL seeds 500-1 000 devices/s through the
#                                             # store API, so 1 000 000 takes 17-30 min: opt in;
#                                             # an empty list skips that store)
#   PV_SCALING_THREADS="1 2"                  # render threads per point, each with its own
#                                             # store handle (connection), as the server's
#                                             # worker loops (default: 1 and the core count)
#
# For each store and size: a fresh store (an SQLite file; a new database on a private
# PostgreSQL 15 started here, unix socket only) seeded through the store API by
# `seed_store seed` (bench/seed_store.c: accounts, layered parameters with placeholders, a
# confirmed key per device), then `seed_store render` for SECONDS per thread count — random
# devices, no cache, every render read from the store in its one statement and encrypted; one
# store handle per thread, as each loop of `provisor serve --workers N` — giving
# renders/s, p50/p99/max latency (and "own" p99: without the time the thread waited for a CPU
# while other processes ran), CPU per render (the render process's, and PostgreSQL's), the
# render process's peak RSS, and the database's size. PostgreSQL runs on the same cores as the
# render process (its CPU per render is measured apart). The 1-minute load average is recorded
# beside each point: the machine may be shared, and then CPU per render is the figure that
# carries over to a quiet machine.
#
# Output in bench/results/: scaling-<time>.jsonl (one line per point), scaling-<time>.md (the
# table for docs/benchmarks.md) and scaling-<time>.svg (renders/s, own p99, CPU per render,
# database size and peak RSS against devices, log scale, one line per store and thread count).
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
seconds=${2:-10}
src=$(cd "$(dirname "$0")/.." && pwd)
sqlite_sizes=${PV_SCALING_SQLITE-10000 100000 1000000}
pg_sizes=${PV_SCALING_PG-10000 100000}
thread_counts=${PV_SCALING_THREADS-1 $(nproc)}
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
# shared_buffers holds the whole database at 1 000 000 devices (~1 GB), as docs/store.md asks
# of a provider: a render then reads no page from the kernel's cache.
[ -z "$pg_sizes" ] || PV_PG_SHARED_BUFFERS=${PV_PG_SHARED_BUFFERS:-2GB} bench_pg_start

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
  local mb pg_url="" threads
  if [ "$store" = postgres ]; then pg_url=$url; fi
  mb=$(bench_db_mb "$pg_url" "$url")
  for threads in $thread_counts; do
    local load_before pg0=0 pg_ms=null
    load_before=$(loadavg)
    if [ "$store" = postgres ]; then pg0=$(pg_cpu_ticks); fi
    rendered=$(PV_BENCH_DB=$url "$build/seed_store" render "$D" "$n" "$seconds" "$threads")
    if [ "$store" = postgres ]; then # the server's CPU per render, its backends reaped by now
      sleep 1
      pg_ms=$(python3 -c "import json,sys; r=json.loads(sys.argv[1]); print('%.4f' % ((int(sys.argv[2]) - int(sys.argv[3])) * 1000 / int(sys.argv[4]) / max(r['renders'], 1)))" \
        "$rendered" "$(pg_cpu_ticks)" "$pg0" "$(getconf CLK_TCK)")
    fi
    record "{\"bench\":\"scaling\",\"store\":\"$store\",\"devices\":$n,\"threads\":$threads,\"db_mb\":$mb,\"loadavg\":[$load_before,$(loadavg)],\"server_cpu_ms_per_render\":$pg_ms,\"seed\":$seeded,\"render\":$rendered}"
  done
  if [ "$store" = sqlite ]; then rm -f "$url" "$url"-wal "$url"-shm; fi
  rm -rf "$W/out$n"
}
# Size by size, SQLite then PostgreSQL: the two stores side by side under the same load.
for n in $(printf '%s\n' $sqlite_sizes $pg_sizes | sort -nu); do
  if [[ " $sqlite_sizes " == *" $n "* ]]; then point sqlite "$n"; fi
  if [[ " $pg_sizes " == *" $n "* ]]; then point postgres "$n"; fi
done

python3 - "$results" <<'PY'
import json, math, sys
path = sys.argv[1]
rows = [json.loads(l) for l in open(path) if l.strip()]
md = ["| store | devices | threads | renders/s | p50 ms | p99 ms | p99 own ms | CPU ms/render (client + server) | peak RSS MB | database MB | seeding devices/s | load avg |",
      "|---|---|---|---|---|---|---|---|---|---|---|---|"]
for r in rows:
    x = r["render"]
    server = r.get("server_cpu_ms_per_render")
    cpu = "%.3f" % x["cpu_ms_per_render"] + (" + %.3f" % server if server is not None else "")
    md.append("| %s | %s | %d | %s | %.3f | %.3f | %.3f | %s | %.1f | %d | %s | %.1f–%.1f |" % (
        "SQLite" if r["store"] == "sqlite" else "PostgreSQL", f'{r["devices"]:,}'.replace(",", " "),
        r.get("threads", 1), f'{x["renders_per_s"]:,.0f}'.replace(",", " "), x["p50_ms"], x["p99_ms"],
        x["own_p99_ms"], cpu, x["max_rss_kb"] / 1024, r["db_mb"],
        f'{r["seed"]["devices_per_s"]:,.0f}'.replace(",", " "), r["loadavg"][0], r["loadavg"][1]))
open(path[:-len(".jsonl")] + ".md", "w").write("\n".join(md) + "\n")
print("\n".join(md))

# Six panels against devices (log x), one line per store and thread count (solid: one
# thread, dashed: more): renders/s (wall), the p99 of a render's own latency, CPU per render
# (client + server) — on a busy machine the last two are what carries over — then the
# database's size and the render process's peak RSS.
W, H, M, R = 330, 260, 56, 40
colors = {"sqlite": "#1f77b4", "postgres": "#d62728"}
names = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
sizes = sorted({r["devices"] for r in rows})
series = sorted({(r["store"], r.get("threads", 1)) for r in rows}, key=lambda k: (k[0] != "sqlite", k[1]))
lo, hi = math.log10(min(sizes)), math.log10(max(sizes))
if hi == lo:
    hi = lo + 1
def cpu(r):
    return r["render"]["cpu_ms_per_render"] + (r.get("server_cpu_ms_per_render") or 0)
def panel(x0, y0, value, title):
    vals = [value(r) for r in rows]
    top = max(vals) * 1.15 or 1
    sx = lambda n: x0 + M + (math.log10(n) - lo) / (hi - lo) * (W - M - R)
    sy = lambda v: y0 + 30 + (1 - v / top) * (H - 30 - 40)
    out = [f'<text x="{x0 + W / 2}" y="{y0 + 18}" text-anchor="middle" font-weight="bold">{title}</text>',
           f'<line x1="{x0 + M}" y1="{y0 + H - 40}" x2="{x0 + W - R}" y2="{y0 + H - 40}" stroke="#000"/>',
           f'<line x1="{x0 + M}" y1="{y0 + 30}" x2="{x0 + M}" y2="{y0 + H - 40}" stroke="#000"/>']
    for i in range(5):
        v = top * i / 4
        out.append(f'<text x="{x0 + M - 4}" y="{sy(v) + 4:.1f}" text-anchor="end">{v:,.{0 if top > 20 else 2}f}</text>')
        out.append(f'<line x1="{x0 + M}" y1="{sy(v):.1f}" x2="{x0 + W - R}" y2="{sy(v):.1f}" stroke="#ddd"/>')
    for n in sizes:
        out.append(f'<text x="{sx(n):.1f}" y="{y0 + H - 24}" text-anchor="middle">{n:,}</text>')
    out.append(f'<text x="{x0 + W / 2}" y="{y0 + H - 6}" text-anchor="middle">devices in the store</text>')
    for store, threads in series:
        pts = [(sx(r["devices"]), sy(value(r))) for r in rows
               if r["store"] == store and r.get("threads", 1) == threads]
        dash = "" if threads == 1 else ' stroke-dasharray="6,3"'
        out.append('<polyline fill="none" stroke-width="2" stroke="%s"%s points="%s"/>' % (
            colors[store], dash, " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)))
        out += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colors[store]}"/>' for x, y in pts]
    return out
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{3 * W}" height="{2 * H + 20}" '
       'font-family="sans-serif" font-size="11">', '<rect width="100%" height="100%" fill="#fff"/>']
svg += panel(0, 0, lambda r: r["render"]["renders_per_s"], "renders/s, in process")
svg += panel(W, 0, lambda r: r["render"]["own_p99_ms"], "p99 of a render's own latency, ms")
svg += panel(2 * W, 0, cpu, "CPU per render, client + server, ms")
svg += panel(0, H, lambda r: r["db_mb"], "database size, MB")
svg += panel(W, H, lambda r: r["render"]["max_rss_kb"] / 1024, "render process peak RSS, MB")
for i, (store, threads) in enumerate(series):
    y = 2 * H + 40 + 18 * i - H
    dash = "" if threads == 1 else ' stroke-dasharray="6,3"'
    svg.append(f'<line x1="{2 * W + M}" y1="{y}" x2="{2 * W + M + 30}" y2="{y}" stroke="{colors[store]}" stroke-width="2"{dash}/>'
               f'<text x="{2 * W + M + 38}" y="{y + 4}">{names[store]}, {threads} thread{"s" if threads > 1 else ""}</text>')
svg.append("</svg>")
open(path[:-len(".jsonl")] + ".svg", "w").write("\n".join(svg) + "\n")
PY
echo "bench: $results, ${results%.jsonl}.md, ${results%.jsonl}.svg"
