#!/usr/bin/env bash
# `provisor phone --tui` driven through tmux as a person would: the screen shows model, MAC,
# provisioning state and the status indicator blinking; Setup → Profile Rule entry, then the
# Resync key fetches it; a missing file blinks fast (0.2 on, 0.2 off, 0.2 on, 1.4 off); the
# ATA IVR sequence ****73738# 1# factory-resets unless Protect_IVR_FactoryReset, which the
# admin's `provisor phone factory-reset` overrides and `--ivr` obeys; Q quits.
# ctest: run-serial
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/phone_lib.bash"
need tmux python3

MAC=000e08777777
HTTP_PORT=$(free_port tcp)
mkdir -p "$T/srv"
printf '<flat-profile><Station_Name>typed-in</Station_Name></flat-profile>\n' >"$T/srv/p.xml"
python3 -m http.server "$HTTP_PORT" --bind 127.0.0.1 --directory "$T/srv" >/dev/null 2>&1 &
PV_CLEANUP+=("kill $! 2>/dev/null")
S="pvtui$$"
export TMUX_TMPDIR="$T" # a private tmux server
tmux new-session -d -s "$S" -x 90 -y 30 \
  "'$PV_BIN' phone --state-dir '$T/t' --mac $MAC --model SPA504G --web 127.0.0.1:0 --clock virtual --tui 2>'$T/t.log'"
PV_CLEANUP+=("tmux kill-server 2>/dev/null")
wait_until 30 "phone up" test -s "$T/t/web"
PHONE=$(cat "$T/t/web")
screen() { tmux capture-pane -p -t "$S"; }
shows() { screen | grep -qF -- "$1"; }
WAIT_DIAG='screen; grep -E "fetch|resync|Resync|error" "$T/t.log" | tail -n 12' # the screen and the phone's last fetches when a wait timed out
wait_until 20 "screen drawn" shows "Provisioning: MFG-RESET"
expect_contains "$(screen)" "SPA504G" "model on screen"
expect_contains "$(screen)" "MAC 00:0e:08:77:77:77" "MAC on screen"

# Setup → Profile Rule, typed on the keypad, then Resync.
tmux send-keys -t "$S" s
wait_until 20 "setup screen" shows "Setup > Profile Rule"
tmux send-keys -t "$S" C-u
tmux send-keys -t "$S" -l "http://127.0.0.1:$HTTP_PORT/p.xml"
tmux send-keys -t "$S" Enter
wait_until 20 "rule saved" shows "Profile_Rule saved"
expect_eq "$(param Profile_Rule)" "http://127.0.0.1:$HTTP_PORT/p.xml" "rule stored in the phone"
for _ in 1 2 3; do # a key pressed while another resync runs is refused ("in progress"): again
  tmux send-keys -t "$S" r
  for _ in $(seq 100); do param_is Station_Name typed-in && break 2; sleep 0.1; done
done
wait_until 30 "profile fetched by the Resync key" param_is Station_Name typed-in
wait_until 20 "last result on screen" shows "Last resync:  ok"

# A missing file: the fast blink, seen both lit and dark within one 2 s period.
web "/admin/resync?http://127.0.0.1:$HTTP_PORT/missing.xml" >/dev/null
wait_until 20 "fast blink shown" shows "fast-blink"
lit=0 dark=0
for _ in $(seq 100); do  # bounded: ~5 s, two and a half blink periods or more under load
  line=$(screen | grep "Status LED")
  case "$line" in *"(*)"*) lit=1 ;; *"( )"*) dark=1 ;; esac
  [ "$lit$dark" = 11 ] && break
  sleep 0.05
done
expect_eq "$lit$dark" 11 "the indicator blinks"

# IVR factory reset (spec 12.2): ****73738# then 1# to confirm — unless disabled with
# Protect_IVR_FactoryReset, which stops the keypad code (and its CLI form) but not the admin.
printf '<flat-profile><Protect_IVR_FactoryReset>Yes</Protect_IVR_FactoryReset></flat-profile>' \
  >"$T/protect.xml"
expect_eq "$(code /admin/config.xml -X POST --data-binary @"$T/protect.xml")" 200 "IVR reset protected"
tmux send-keys -t "$S" -l '****73738#'
wait_until 20 "reset prompt" shows "Factory reset?"
tmux send-keys -t "$S" -l '1#'
wait_until 20 "protected: refused" shows "factory reset refused"
expect_eq "$(param Profile_Rule)" "http://127.0.0.1:$HTTP_PORT/p.xml" "nothing reset"
expect_status 1 "$PV_BIN" phone factory-reset --ivr --state-dir "$T/t"
expect_contains "$(cat "$T/.err")" "Protect_IVR_FactoryReset" "the CLI's IVR form refused too"
expect_eq "$(param Profile_Rule)" "http://127.0.0.1:$HTTP_PORT/p.xml" "still nothing reset"
expect_status 0 "$PV_BIN" phone factory-reset --state-dir "$T/t" # the admin's reset
wait_until 20 "admin reset: rule back to its factory value" \
  bash -c "! curl -s http://$PHONE/admin/cfg.xml | grep -q $HTTP_PORT"
expect_eq "$(param Protect_IVR_FactoryReset)" No "protection back to its factory value"
tmux send-keys -t "$S" s # type the rule again, then the IVR code resets it (unprotected)
wait_until 20 "setup screen" shows "Setup > Profile Rule"
tmux send-keys -t "$S" C-u
tmux send-keys -t "$S" -l "http://127.0.0.1:$HTTP_PORT/p.xml"
tmux send-keys -t "$S" Enter
wait_until 20 "rule saved again" param_is Profile_Rule "http://127.0.0.1:$HTTP_PORT/p.xml"
tmux send-keys -t "$S" -l '****73738#'
wait_until 20 "reset prompt" shows "Factory reset?"
tmux send-keys -t "$S" -l '1#'
wait_until 20 "reset done" shows "factory reset done"
wait_until 20 "rule back to its factory value" bash -c "! curl -s http://$PHONE/admin/cfg.xml | grep -q $HTTP_PORT"
tmux send-keys -t "$S" q
wait_until 20 "phone quit on Q" bash -c "! tmux has-session -t $S"
expect_eq "$(ls "$T/t" | grep -c '^web$' || true)" 0 "web file removed on exit"
done_ok
