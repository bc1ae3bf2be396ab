#!/usr/bin/env bash
# Manual pages (issue 17): man/*.1 and man/provisor-api.7 as written, provisor.conf(5) generated
# by `provisor serve --print-config-man` from the table that drives the config parser, all
# `mandoc -Tlint` clean; every command of `provisor --help` has its page (or its entry in
# provisor(1)); the sample provisor.conf (`--print-config-sample`, the package's conffile) has
# every key commented out and, read as it is, changes nothing.
# Covers src/server/config_doc.c.
. "$(dirname "$0")/lib.sh"
command -v mandoc >/dev/null || fail "mandoc is missing (scripts/deps.sh installs it)"

M="$PV_SRC/man"
env -u PROVISOR_DATA "$PV_BIN" serve --print-config-man >"$T/provisor.conf.5"
# The pages cite each other; until the package installs them, mandoc cannot find them in
# /usr/share/man (its only lookup): that one message, about our own pages, is expected here
# and checked away by integration.ops_deb once they are installed.
lint=$(mandoc -Tlint "$M"/*.[0-9] "$T/provisor.conf.5" 2>&1 |
  grep -vE "referenced manual not found: Xr (provisor|provisor-[a-z-]+|provisor\.conf) [157]( \([0-9]+ times\))?$|lacks (provisor|provisor-[a-z-]+|provisor\.conf)\([157]\) entry" || true)
expect_eq "$lint" "" "mandoc -Tlint on every page"

# Every key of the table is in the page, with its flag.
"$PV_BIN" serve --help >"$T/help"
keys=$(env -u PROVISOR_DATA "$PV_BIN" serve --print-config | grep -cE '^[a-z_0-9]+ =')
[ "$keys" -gt 50 ] || fail "only $keys keys in --print-config"; ok
expect_eq "$(grep -c '^\.It Cm [a-z_0-9]* No = Ar' "$T/provisor.conf.5")" "$keys" \
  "provisor.conf(5) has one entry per key"
for flag in $(grep -oE '^  --[a-z0-9-]+' "$T/help" | tr -d ' '); do
  grep -q -- "^\.Fl -${flag#--} \.$" "$T/provisor.conf.5" || fail "provisor.conf(5) lacks $flag"
done
ok
expect_contains "$(mandoc -Tascii "$T/provisor.conf.5" | col -b)" "log_format = FORMAT" \
  "the page renders the keys"

# Every page documents a command that exists; every command has its entry in provisor(1) and
# a page. A command added by another change without its page is named here, not failed on: the
# page comes with the next change to man/ (this test then checks it).
cmds=$("$PV_BIN" --help | awk '/^commands:/ {on = 1; next} on && !NF {exit} on {print $1}')
[ "$(echo "$cmds" | wc -l)" -gt 15 ] || fail "provisor --help lists too few commands: $cmds"; ok
for name in $(sed -n 's/^\.Nm provisor-\([a-z-]*\)\( ,\)\{0,1\}$/\1/p' "$M"/provisor-*.1); do
  grep -qx "$name" <<<"$cmds" || fail "a page documents provisor $name, which does not exist"
done
ok
for cmd in $cmds; do
  case $cmd in admin-token | dhcp-snippet) page=provisor ;; *) page=provisor-$cmd ;; esac
  if ! grep -q "^\.It Cm $cmd$" "$M/provisor.1" ||
    { [ "$page" != provisor ] && ! grep -lqE "^\.Nm $page( ,)?$" "$M"/provisor-*.1; }; then
    echo "note: provisor $cmd has no manual page yet (man/, docs/operations.md)"
  fi
done

# The sample configuration: every key commented out at its default, and as it is it changes
# nothing (the packaged service starts on the defaults).
PROVISOR_DATA=/var/lib/provisor "$PV_BIN" serve --print-config-sample >"$T/provisor.conf"
expect_eq "$(grep -cE '^;[a-z_0-9]+ =' "$T/provisor.conf")" "$keys" "every key in the sample"
expect_eq "$(grep -cvE '^(#|;|\[|$)' "$T/provisor.conf" || true)" 0 "no key left uncommented"
expect_contains "$(cat "$T/provisor.conf")" ";data_dir = /var/lib/provisor" \
  "the sample shows the packaged data directory"
PROVISOR_DATA=/var/lib/provisor "$PV_BIN" serve --print-config >"$T/defaults.ini"
PROVISOR_DATA=/var/lib/provisor "$PV_BIN" serve --config "$T/provisor.conf" --print-config \
  >"$T/sample.ini"
same_file "$T/sample.ini" "$T/defaults.ini" "the sample, read as it is, is the defaults"

done_ok
