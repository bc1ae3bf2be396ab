#!/usr/bin/env bash
# Uploads to `provisor serve --provisioning no` and the upload directory's quota
# (net/upload_quota.h): curl PUT/POST and atftp put store reports as
# "<peer>-<name>"; past a limit the server answers HTTP 507 or TFTP error 3 and
# writes nothing; SIGHUP raises the limit; a report an operator deletes gives its
# room back without a restart.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"

D="$T/data"
cat >"$T/provisor.conf" <<EOF
[server]
upload_max_files_per_source = 2
upload_max_bytes = 64K
EOF
serve_ports
serve_start run --config "$T/provisor.conf" --data-dir "$D" --provisioning no
U="$D/uploads"
base="http://127.0.0.1:$HTTP_PORT"
code() { curl -sS -o "$T/body" -w '%{http_code}' "$@"; }

printf '<status>1</status>' >"$T/r1.xml"
expect_eq "$(code -T "$T/r1.xml" "$base/r1.xml")" 201 "PUT stored"
same_file "$U/127.0.0.1-r1.xml" "$T/r1.xml" "stored as <peer>-<name>"
expect_eq "$(code -T "$T/r1.xml" "$base/r1.xml")" 201 "the same name again replaces"
printf 'x' >"$T/tftp.xml"
atftp -p -l "$T/tftp.xml" -r tftp.xml 127.0.0.1 "$TFTP_PORT" >/dev/null 2>&1
same_file "$U/127.0.0.1-tftp.xml" "$T/tftp.xml" "TFTP write stored"

# A third name from this address: refused over both transports, nothing written.
expect_eq "$(code --data-binary @"$T/r1.xml" "$base/r3.xml")" 507 "POST past the per-source limit"
expect_contains "$(cat "$T/body")" "Insufficient Storage" "507 body"
set +e
atftp -p -l "$T/tftp.xml" -r r4.xml 127.0.0.1 "$TFTP_PORT" >"$T/atftp.out" 2>&1
set -e
expect_status 1 test -e "$U/127.0.0.1-r3.xml"
expect_status 1 test -e "$U/127.0.0.1-r4.xml"
wait_log "$T/run.log" "method=WRQ path=r4.xml.*status=507"
expect_contains "$(cat "$T/atftp.out")" "too many uploads stored from this address" "TFTP ERROR says why"
expect_eq "$(find "$U" -name '.upload-*' | wc -l)" 0 "no temporary file left"

# Bytes: a 70 KB report is over 64K in total, whatever the file count.
head -c 70000 /dev/urandom >"$T/big.bin"
expect_eq "$(code -T "$T/big.bin" "$base/r1.xml")" 507 "past upload_max_bytes"
same_file "$U/127.0.0.1-r1.xml" "$T/r1.xml" "the refused upload left the old report"

# SIGHUP raises the per-source limit: the third name is taken.
sed -i 's/upload_max_files_per_source = 2/upload_max_files_per_source = 3/' "$T/provisor.conf"
kill -HUP "$SERVE_PID"
wait_log "$T/run.log" "event=config.reloaded"
expect_eq "$(code --data-binary @"$T/r1.xml" "$base/r3.xml")" 201 "after SIGHUP"
expect_eq "$(code --data-binary @"$T/r1.xml" "$base/r5.xml")" 507 "the new limit holds"

# /metrics shows the directory's usage: r1, tftp, r3 (70-byte r1 refused, 18-byte r1 kept).
expect_eq "$(metric provisor_upload_dir_files)" 3 "files gauge"
expect_eq "$(metric provisor_upload_dir_bytes)" "$(cat "$U"/127.0.0.1-* | wc -c)" "bytes gauge"

# An operator archives a report: its room comes back (the directory is read again, at
# most once a second, when a limit is reached).
rm "$U/127.0.0.1-r1.xml"
stored() { [ "$(code --data-binary @"$T/r1.xml" "$base/r5.xml")" = 201 ]; }
wait_for 2 "room given back (507 until the directory is read again)" stored
ok
serve_stop
done_ok
