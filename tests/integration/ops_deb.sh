#!/usr/bin/env bash
# The Debian package (issue 17) on this machine: built (scripts/deb.sh, packaging the binary
# this build made: PV_DEB_PREBUILT; PV_DEB_FROM_SOURCE=1 compiles it as `make deb` does),
# lintian clean, installed with `apt-get install ./provisor_*.deb`; the unit passes
# `systemd-analyze verify` and its pages `mandoc -Tlint`; `provisor serve` started exactly as
# the unit's ExecStart (its user, environment and directory, on the packaged config: loopback
# ports) provisions a phone (retail binding over HTTPS with a manufacturer certificate); then
# `apt-get purge` leaves nothing: no file, no directory, no user.
#
# It installs a package, so it needs root; it runs in a network namespace of its own, so the
# packaged defaults (127.0.0.1:6969, 8080, 8443, 8081) cannot meet another test's server.
# Skipped (exit 77) when not root, or when a provisor package is already installed here.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
  echo "skipped: ops_deb installs a package: it needs root"
  exit 77
fi
if dpkg-query -W -f='${Status}' provisor 2>/dev/null | grep -q 'installed'; then
  echo "skipped: a provisor package is installed on this machine; ops_deb would purge it"
  exit 77
fi
if [ -z "${PV_DEB_NETNS:-}" ]; then
  PV_DEB_NETNS=1 exec unshare -n -- bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
ip link set lo up
for tool in dpkg-buildpackage dh lintian mandoc systemd-analyze runuser; do
  command -v "$tool" >/dev/null || fail "$tool is missing (scripts/deps.sh installs it)"
done
ok

# ---- build and lint ----
if [ "${PV_DEB_FROM_SOURCE:-0}" = 1 ]; then
  bash "$PV_SRC/scripts/deb.sh" "$T/deb" >/dev/null
else
  PV_DEB_PREBUILT=$(readlink -f "$PV_BIN") bash "$PV_SRC/scripts/deb.sh" "$T/deb" >/dev/null
fi
DEB=$(ls "$T"/deb/provisor_*_*.deb)
lint=$(lintian --fail-on error,warning "$DEB" 2>&1 | grep -v 'running with root privileges' || true)
expect_eq "$lint" "" "lintian at its default level"
contents=$(dpkg-deb -c "$DEB")
for f in ./usr/bin/provisor ./etc/provisor/provisor.conf ./lib/systemd/system/provisor.service \
  ./usr/share/man/man1/provisor.1.gz ./usr/share/man/man1/provisor-serve.1.gz \
  ./usr/share/man/man5/provisor.conf.5.gz ./usr/share/man/man7/provisor-api.7.gz \
  ./usr/share/provisor/openapi.yaml ./usr/share/provisor/contrib/grafana/provisor.json \
  ./usr/share/provisor/contrib/prometheus/provisor-alerts.yml; do
  expect_contains "$contents" " $f" "the package ships $f"
done
if [ -d "$PV_SRC/web" ]; then
  expect_contains "$contents" " ./usr/share/provisor/web/" "the package ships the web assets"
fi

# ---- install ----
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq -o DPkg::Lock::Timeout=300 "$DEB" >"$T/install.log" 2>&1 ||
  fail "apt-get install: $(tail -n 20 "$T/install.log")"
PV_CLEANUP+=("apt-get purge -y -qq -o DPkg::Lock::Timeout=300 provisor >/dev/null 2>&1")
getent passwd provisor >/dev/null || fail "no provisor user"; ok
uid=$(id -u provisor)
[ "$uid" -lt 1000 ] || fail "provisor is not a system user (uid $uid)"; ok
expect_eq "$(stat -c '%a %U %G' /var/lib/provisor)" "700 provisor provisor" "the data directory"
expect_eq "$(ls -A /var/lib/provisor)" "" "postinst made nothing in the data directory"
expect_contains "$(dpkg-query -W -f='${Conffiles}' provisor)" "/etc/provisor/provisor.conf" \
  "provisor.conf is a conffile"
expect_eq "$(grep -cvE '^(#|;|\[|$)' /etc/provisor/provisor.conf || true)" 0 \
  "every key of the packaged provisor.conf is commented out"
UNIT=/lib/systemd/system/provisor.service
systemd-analyze verify "$UNIT" >"$T/verify.log" 2>&1 || fail "systemd-analyze verify: $(cat "$T/verify.log")"
ok
mkdir "$T/man"
for page in /usr/share/man/man1/provisor*.1.gz /usr/share/man/man5/provisor.conf.5.gz \
  /usr/share/man/man7/provisor-api.7.gz; do
  zcat "$page" >"$T/man/$(basename "$page" .gz)"
done
expect_eq "$(mandoc -Tlint "$T"/man/* 2>&1 | grep -v 'outdated mandoc.db' || true)" "" \
  "mandoc -Tlint on the installed pages (they now find each other)"
for key in 'Type=notify' 'ExecReload=/bin/kill -HUP $MAINPID' 'WatchdogSec=' 'ProtectSystem=strict' \
  'PrivateTmp=yes' 'NoNewPrivileges=yes' 'CapabilityBoundingSet=CAP_NET_BIND_SERVICE' \
  'ReadWritePaths=/var/lib/provisor' 'User=provisor'; do
  grep -qF -- "$key" "$UNIT" || fail "the unit lacks $key"
done
ok

# ---- start it as the unit does ----
unit_value() { sed -n "s/^$1=//p" "$UNIT" | tail -n1; }
exec_start=$(unit_value ExecStart)
user=$(unit_value User)
workdir=$(unit_value WorkingDirectory)
envs=$(unit_value Environment)
expect_eq "$exec_start" "/usr/bin/provisor serve --config /etc/provisor/provisor.conf" "ExecStart"
# The service's own environment: what the unit sets, nothing inherited from this test.
(cd "$workdir" && exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin $envs \
  runuser -u "$user" -- $exec_start >"$T/serve.out" 2>"$T/serve.log") &
SERVE=$!
PV_CLEANUP+=("pkill -KILL -P $SERVE 2>/dev/null; kill -KILL $SERVE 2>/dev/null")
WAIT_DIAG="tail -n 20 '$T/serve.log'"
wait_for 30 "the packaged server started" grep -q 'event=server.started' "$T/serve.log"
expect_eq "$(curl -sS http://127.0.0.1:8081/healthz)" "ok" "healthz on the packaged admin port"
expect_eq "$(stat -c '%U' /var/lib/provisor/provisor.db)" provisor "the store belongs to provisor"

# ---- provision a phone: the retail journey through the CLI, as the service's user ----
MAC=000e08dec001
as_provisor() { (cd /var/lib/provisor && env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin PROVISOR_DATA=/var/lib/provisor \
  runuser -u provisor -- /usr/bin/provisor "$@" 2>>"$T/cli.err"); }
as_provisor account create shop --settings '{"lines":[{"line":1,"user":"3001"}]}' >/dev/null ||
  fail "account create: $(cat "$T/cli.err")"
as_provisor params set account:shop 'User_ID_1_={{lines.0.user}}' >/dev/null || fail "params set"
CODE=$(as_provisor code create shop --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])')
install -d -m 0700 -o provisor "$T/phone"
chmod 0711 "$T"
as_provisor phone cert --mac "$MAC" --model CP-8841-3PCC --out "$T/phone/phone.pem" >/dev/null ||
  fail "phone cert"
status=$(curl -sS -o "$T/bound.xml" -w '%{http_code}' --cacert /var/lib/provisor/tls/ca.pem \
  --cert "$T/phone/phone.pem" "https://127.0.0.1:8443/init/$CODE")
expect_eq "$status" 200 "the phone binds with its code"
expect_contains "$(cat "$T/bound.xml")" "<flat-profile" "a profile is served"
expect_contains "$(as_provisor device show "$MAC" --json)" '"account": "shop"' \
  "the device is bound to the account"

# SIGTERM to the server itself (runuser's child): runuser then exits with its status.
kill -TERM "$(pgrep -P "$SERVE")"
wait "$SERVE" || fail "the packaged server did not exit 0 on SIGTERM: $(tail -n 5 "$T/serve.log")"
expect_contains "$(tail -n 1 "$T/serve.log")" "event=server.stopped" "drained and stopped"

# ---- purge: nothing left ----
apt-get purge -y -qq -o DPkg::Lock::Timeout=300 provisor >"$T/purge.log" 2>&1 ||
  fail "apt-get purge: $(tail -n 20 "$T/purge.log")"
if dpkg-query -W -f='${Status}' provisor 2>/dev/null | grep -q installed; then fail "still installed"; fi
ok
for path in /usr/bin/provisor /etc/provisor /var/lib/provisor "$UNIT" /usr/share/provisor \
  /usr/share/man/man1/provisor.1.gz /usr/share/man/man5/provisor.conf.5.gz /usr/share/doc/provisor \
  /etc/systemd/system/multi-user.target.wants/provisor.service; do
  [ ! -e "$path" ] || fail "$path is left after purge"
done
ok
if getent passwd provisor >/dev/null || getent group provisor >/dev/null; then
  fail "the provisor user or group is left after purge"
fi
ok
left=$(find /etc /var /usr /opt /srv /run -xdev -uid "$uid" 2>/dev/null | head -5)
expect_eq "$left" "" "no file of the provisor user is left"

done_ok
