#!/usr/bin/env bash
# TFTP abuse against the real daemon (security issue, items 4, 5 and 6): spoofed read
# requests from 1500 loopback addresses that never answer while tftp-hpa is served, ERROR
# packets never answered, the amplification factor toward a source that never answers,
# and the same ERROR for a known MAC as for an unknown one. A "spoofed" source is a real
# socket bound to an address of 127.0.0.0/8 (tests/tools/tftp_abuse.py). Default TFTP
# limits (docs/security.md, TFTP), one loop thread so the budgets are the documented ones.
# Covers src/net/tftp_server.c, tftp_transfer.c and the TFTP refusals of src/server/provision.c.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"

ABUSE=(python3 "$PV_SRC/tests/tools/tftp_abuse.py")
D="$T/data"
serve_ports
serve_start run --data-dir "$D" --workers 1 --https off
export PROVISOR_DATA="$D" PROVISOR_ADMIN_URL="http://127.0.0.1:$ADMIN_PORT"
R="$D/profiles"
head -c 100000 /dev/urandom >"$R/big.bin"
TF=(127.0.0.1 "$TFTP_PORT")

# ---- item 6: a known MAC and an unknown one get the same ERROR ----
"$PV_BIN" account create acme >/dev/null || fail "account create"
"$PV_BIN" device create 00:0e:08:ab:cd:ef --model CP-8841-3PCC --account acme >/dev/null ||
  fail "device create"
known=$("${ABUSE[@]}" answer "${TF[@]}" WrongDir/000e08abcdef.cfg) || fail "no answer (known)"
unknown=$("${ABUSE[@]}" answer "${TF[@]}" WrongDir/000e08fedcba.cfg) || fail "no answer (unknown)"
expect_eq "$known" "ERROR 1 File not found" "known MAC, wrong directory"
expect_eq "$unknown" "$known" "unknown MAC answers as a known one"
# Report uploads (write requests): the same refusal for a known and an unknown MAC too.
known=$("${ABUSE[@]}" answer "${TF[@]}" report/000e08abcdef.xml --write) || fail "no answer (known)"
unknown=$("${ABUSE[@]}" answer "${TF[@]}" report/000e08fedcba.xml --write) ||
  fail "no answer (unknown)"
expect_eq "$known" "ERROR 2 Access violation" "known MAC, forged report"
expect_eq "$unknown" "$known" "unknown MAC's report answers as a known one's"
# The transfer's log line still has it (so does the audit: profile.refused with the reason).
wait_log "$T/run.log" "event=tftp.transfer.*path=WrongDir/000e08abcdef.cfg.*status=404" 10
ok

# ---- item 5: an ERROR is never answered (RFC 1350) ----
out=$("${ABUSE[@]}" silent "${TF[@]}" --src 127.6.0.1) || fail "$out"
ok

# ---- item 5: amplification toward a source that never answers ----
# A phone's request (blksize 1428, tsize: what the agent and curl ask): the OACK first.
out=$("${ABUSE[@]}" reflect "${TF[@]}" big.bin --src 127.6.0.2 --opt blksize=1428 --opt tsize=0)
echo "  options request: $out"
factor=${out##* }
awk -v f="$factor" 'BEGIN { exit !(f <= 3) }' || fail "options request amplified $factor times"
ok
# Plain RFC 1350 requests spoofed from one address: 3 x what it sent, plus one block a second.
out=$("${ABUSE[@]}" reflect "${TF[@]}" big.bin --src 127.6.0.3 --count 100)
echo "  100 plain requests from one address: $out"
set -- $out
[ "$4" -le "$8" ] || fail "plain requests: $4 bytes received, over the bound $8"; ok
out=$("${ABUSE[@]}" reflect "${TF[@]}" big.bin --src 127.6.0.4)
echo "  one plain request: $out"
expect_contains "$out" "received 516 " "one first DATA, never resent"

# ---- item 4: a spoofed flood while a real client is served ----
# 3 rounds from 1500 addresses: 4500 transfers that never get an ACK, more than
# max_transfers (2000) held for ~35 s each before; tftp-hpa starts after the first round.
refused_before=$(metric 'provisor_refused_total{proto="tftp"}')
out=$("${ABUSE[@]}" flood "${TF[@]}" big.bin --sources 1500 --rounds 3 --prefix 127.5 \
  --during "cd '$T' && timeout 30 tftp 127.0.0.1 $TFTP_PORT -m binary -c get big.bin got.bin")
echo "  flood: $out"
expect_contains "$out" "client_status 0 " "tftp-hpa served during the flood"
same_file "$T/got.bin" "$R/big.bin" "file fetched during the flood"
set -- $out
[ "$4" -le "$6" ] || fail "a spoofed source received $4 bytes, over the bound $6"; ok
# Over the half-open budget, a request from an address that never answered ends the oldest
# half-open transfer once that one has had its time to answer, or is dropped as if lost before
# then (net/tftp_admit.h); which of the two depends on how fast the server reads the flood.
evicted=$(grep -c "half-open transfers over budget" "$T/run.log" || true)
refused=$(( $(metric 'provisor_refused_total{proto="tftp"}') - refused_before ))
echo "  over the budget: $evicted half-open transfers ended, $refused requests dropped or refused"
[ "$evicted" -gt 0 ] || [ "$refused" -gt 0 ] || fail "4500 half-open requests held no budget"; ok
# Half-open transfers are gone within (1 + half_open_retries) x timeout_ms = 3 s.
for _ in $(seq 1 100); do
  [ "$(metric 'provisor_open{proto="tftp"}')" = 0 ] && break
  sleep 0.1
done
expect_eq "$(metric 'provisor_open{proto="tftp"}')" 0 "no transfer left after the flood"
serve_stop
done_ok
