#!/usr/bin/env bash
# Firmware rollouts that halt themselves (issue 15, docs/rollouts.md), against real phones of
# `provisor fleet` and a real `provisor serve`: the phones are provisioned in-house, then a
# rollout created with `provisor rollout create` admits them stage by stage.
#   rollout-good: every phone ends on the new load and the rollout is done (all of them behind
#                 one source address).
#   rollout-bad:  the image fails verification on 30 % of the phones (they report
#                 Last_Upgrade_Result when asked); the rollout halts within its canary, no
#                 device beyond the canary ever got the upgrade rule, the halt is in the audit
#                 and the metrics; rollback serves the previous version's rule.
#   rollout-bad --fault brick: the phones the image hurts never come back; the canary's soak
#                 counts them missing and the rollout halts.
# Small scale (40 phones a run), bounded by --duration; each run's plot is kept when
# PV_ROLLOUT_PLOTS names a directory (the docs' figures).
# Covers src/server/rollout.c, api_rollouts.c, prov_firmware.c (the upgrade rule and image
# downloads a stage admits) and src/cli/cmd_rollout.c.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"

N=40
MODEL=CP-8841-3PCC
NEW=sip88xx.11-3-2MPP-100
py() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }

# One server per run: a fresh data directory, phones imported and assigned, the image and plan.
start_server() {
  D="$T/data-$1"
  serve_ports
  serve_start "serve-$1" --data-dir "$D" --tftp off --workers 1 \
    --provisioning-rollout-interval-ms 300 --provisioning-random-delay-s 1
  export PROVISOR_DATA="$D" PROVISOR_ADMIN_URL="http://127.0.0.1:$ADMIN_PORT"
  export PROVISOR_TOKEN=$(grep -A1 '^Admin token' "$T/serve-$1.out" | tail -1 | tr -d ' ')
  fleet_phones $N acme $MODEL
  # the server's schedule: a resync every 4 s, so that admitted phones see their rule soon
  expect_status 0 "$PV_BIN" params set global Resync_Periodic=4
  # health from the phones' own word: status reports carry Last_Upgrade_Result and Call_State
  expect_status 0 "$PV_BIN" params set model:$MODEL \
    "Report_Rule=[--key \$SA --status] http://127.0.0.1:$HTTP_PORT/report/\$MA-status.xml"
  expect_status 0 "$PV_BIN" firmware upload "$T/fw/fleet/fw/$MODEL-$NEW.bin"
  expect_status 0 "$PV_BIN" firmware add "$MODEL-$NEW.bin" --model $MODEL --version $NEW --kind bin
  expect_status 0 "$PV_BIN" firmware upload "$T/old.bin"
  expect_status 0 "$PV_BIN" firmware add old.bin --model $MODEL --version "$OLD" --kind bin
  expect_status 0 "$PV_BIN" plan set $MODEL --target $NEW
}

run_fleet() { # SCENARIO REPORT_DIR [fleet options]
  local sc=$1 dir=$2
  shift 2
  set +e
  "$PV_BIN" fleet run --scenario "$sc" --phones $N --mix mpp \
    --server "https://127.0.0.1:$HTTPS_PORT" --ca "$D/tls/ca.pem" --certs "$T/certs" \
    --report "$dir" "$@" >"$T/fleet.out" 2>"$T/fleet.err"
  FLEET_RC=$?
  set -e
  if [ -n "${PV_ROLLOUT_PLOTS:-}" ]; then cp "$dir/plot.svg" "$PV_ROLLOUT_PLOTS/rollout-$(basename "$dir").svg"; fi
}

member_count() { # ROLLOUT STATE...: members in any of the states
  "$PV_BIN" rollout devices "$1" --json | python3 -c '
import json, sys
states = sys.argv[1:]
print(sum(1 for m in json.load(sys.stdin) if m["state"] in states))' "${@:2}"
}

# The images: the fleet's new load, and one of the load the phones run now (for rollback).
expect_status 0 "$PV_BIN" fleet profiles --phones 1 --mix mpp --out "$T/fw" --server http://x
OLD=sip88xx.11-3-1MPP-678 # the load an MPP phone of the fleet runs (src/agent/defaults.c)
printf 'PVFW version=%s model=%s\nold load\n' "$OLD" "$MODEL" >"$T/old.bin"

# ---- rollout-good ----------------------------------------------------------------------------
start_server good
expect_status 0 "$PV_BIN" rollout create good --model $MODEL --account acme --canary 4 \
  --cohorts 25,100 --in-flight 20 --per-minute 600 --soak 5 --max-failed 2 --max-missing 1 \
  --from "$OLD"
expect_contains "$(cat "$T/.out")" "running" "the rollout runs"
expect_contains "$(cat "$T/.out")" "canary 4" "its first stage is the canary"
# all 40 from one source address (an office behind NAT): upgrades are limited by the rollout's
# budget and each phone's identity, never by the address they share
run_fleet rollout-good "$T/good" --duration 180 --source-addresses off
[ "$FLEET_RC" = 0 ] || fail "rollout-good: fleet exited $FLEET_RC: $(cat "$T/fleet.out" "$T/fleet.err" | tail -30)"
expect_contains "$(cat "$T/fleet.out")" "$N/$N phones" "every phone runs the new load"
wait_for 20 "the rollout done" bash -c "'$PV_BIN' rollout show good | grep -q ', done'"
expect_eq "$(member_count good upgraded)" "$N" "the server saw every phone back at $NEW"
"$PV_BIN" rollout show good --json | py 'j["stages"][0]["outcome"], j["stages"][-1]["outcome"]' >"$T/o"
expect_eq "$(cat "$T/o")" "passed passed" "every stage passed"
expect_eq "$(metric provisor_rollout_halts_total)" 0 "no halt"
serve_stop

# ---- rollout-bad: verification fails on 30 % --------------------------------------------------
start_server bad
CANARY=10
expect_status 0 "$PV_BIN" rollout create bad --model $MODEL --canary $CANARY --cohorts 50,100 \
  --in-flight $CANARY --per-minute 600 --soak 20 --from "$OLD"
run_fleet rollout-bad "$T/bad" --duration 30 --fault verify --bad-share 30
wait_for 20 "the rollout halted" bash -c "'$PV_BIN' rollout show bad | grep -q ', halted'"
"$PV_BIN" rollout show bad >"$T/show"
expect_contains "$(cat "$T/show")" "failed the upgrade" "the halt says why"
expect_contains "$(cat "$T/show")" "stage 0 (canary $CANARY)" "it halted in its canary"
admitted=$(member_count bad admitted upgraded failed missing in_call)
[ "$admitted" -le $CANARY ] || fail "$admitted devices got the rule, more than the canary"
ok
# each stage's pending are the members of its own cohort not yet admitted (positions 10-19 and
# 20-39 here): the stage rows add up to the summary's "not yet admitted"
"$PV_BIN" rollout show bad --json |
  py '[s["devices"]["pending"] for s in j["stages"][1:]], j["devices"]["pending"]' >"$T/p"
expect_eq "$(cat "$T/p")" "[10, 20] 30" "the stages' pending and the rollout's"
reached=$(sed -n "s/.*goal ([^)]*): \([0-9]*\)\/$N phones.*/\1/p" "$T/fleet.out")
[ -n "$reached" ] && [ "$reached" -le $CANARY ] || fail "phones on the new load: '$reached'"
ok
expect_contains "$("$PV_BIN" rollout devices bad)" "corrupt file: sha256 mismatch" \
  "the phone's own Last_Upgrade_Result"
expect_contains "$("$PV_BIN" audit list --json)" "rollout.halt" "the halt is audited"
expect_eq "$(metric provisor_rollout_halts_total)" 1 "the halt is counted"
# rollback: an admitted device is served the previous version's rule; a pending one nothing
mac=$("$PV_BIN" rollout devices bad --json | py '[m["mac"] for m in j if m["state"] != "pending"][0]')
pending=$("$PV_BIN" rollout devices bad --json | py '[m["mac"] for m in j if m["state"] == "pending"][0]')
expect_status 0 "$PV_BIN" rollout rollback bad
expect_contains "$(cat "$T/.out")" "rolled_back" "rolled back"
expect_contains "$("$PV_BIN" device render "$mac" --plain)" "(\$SWVER gt $OLD)?" \
  "an admitted device gets the previous version's rule"
render=$("$PV_BIN" device render "$pending" --plain)
case "$render" in *Upgrade_Rule*) fail "a pending device got an upgrade rule" ;; esac
ok
expect_status 1 "$PV_BIN" rollout resume bad
expect_contains "$(cat "$T/.err")" "rolled_back: cannot resume" "a rolled-back rollout stays so"
serve_stop

# ---- rollout-bad: the phones never come back --------------------------------------------------
start_server brick
expect_status 0 "$PV_BIN" rollout create brick --model $MODEL --canary $CANARY --cohorts 100 \
  --in-flight $CANARY --per-minute 600 --soak 10 --from "$OLD"
run_fleet rollout-bad "$T/brick" --duration 35 --fault brick --bad-share 30
wait_for 20 "the rollout halted" bash -c "'$PV_BIN' rollout show brick | grep -q ', halted'"
expect_contains "$("$PV_BIN" rollout show brick)" "did not come back" "missing phones halt it"
admitted=$(member_count brick admitted upgraded failed missing in_call)
[ "$admitted" -le $CANARY ] || fail "$admitted devices got the rule, more than the canary"
ok
expect_status 0 "$PV_BIN" rollout abort brick
expect_contains "$(cat "$T/.out")" "aborted" "aborted by the operator"
serve_stop
done_ok
