#!/usr/bin/env bash
# The console's plain upload forms without a script (issue 13; docs/console.md "Import" and
# "Firmware images"), sent as a browser without JavaScript sends them — multipart/form-data with
# the session's CSRF field — by curl -F: a CSV import becomes a server job (303 to its page), its
# page and the dashboard show it, its error report downloads with the session; a firmware image
# lands in <data>/firmware/ and its name fills the register form. Refused: no CSRF field (403),
# a viewer (403), a form without a file (422), a body that is not multipart (400), an upload
# while an import runs (409 on the page).
# Covers src/server/console_import.c, console_upload.c, console_plans.c (upload), portal.c's
# multipart CSRF, core/multipart.c behind them.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"

D="$T/data"
serve_ports
serve_start run --data-dir "$D" --tftp off --https off
P=$PV_BIN
export PROVISOR_DATA="$D" PROVISOR_ADMIN_URL="http://127.0.0.1:$ADMIN_PORT"
wait_for 20 "admin API up" "$P" account list
"$P" account create acme-telecom >/dev/null
printf '%s\n' 'operator password 1' | "$P" user create ops --role operator --password-stdin >/dev/null
printf '%s\n' 'viewer password 1' | "$P" user create view --role viewer --password-stdin >/dev/null
U="http://127.0.0.1:$ADMIN_PORT"
c() { local jar=$1; shift; curl -sS -b "$T/$jar" -c "$T/$jar" "$@"; }
c o -o /dev/null -d 'login=ops&password=operator+password+1' "$U/login"
c v -o /dev/null -d 'login=view&password=viewer+password+1' "$U/login"
c o -o "$T/import.html" "$U/import"
CSRF=$(grep -o 'name="csrf" value="[^"]*"' "$T/import.html" | head -1 | sed 's/.*value="//; s/"$//')
[ -n "$CSRF" ] || fail "no CSRF field on the import page"; ok
expect_contains "$(cat "$T/import.html")" 'enctype="multipart/form-data"' "a plain upload form"

python3 - >"$T/devices.csv" <<'PY'
print("MAC,model,account,serial")
for i in range(3000):
    mac = "00:0e:08:%02x:%02x:%02x" % (0x30, i >> 8, i & 0xff)
    if i == 100:
        print("00:0e:08:30:00,SPA504G,acme-telecom,FCH-SHORT")       # a MAC cut short
    elif i == 2000:
        print("%s,SPA5O4G,acme-telecom,FCH%07d" % (mac, i))          # a model typo
    else:
        print("%s,CP-8841-3PCC,acme-telecom,FCH%07d" % (mac, i))
PY

# refusals first: no CSRF field, a viewer, no file, not multipart
code=$(c o -o /dev/null -w '%{http_code}' -F "file=@$T/devices.csv;type=text/csv" "$U/import")
expect_eq "$code" 403 "an upload without the CSRF field"
VCSRF=$(c v "$U/import" | grep -o 'data-csrf="[^"]*"' | head -1 | sed 's/.*="//; s/"$//')
code=$(c v -o /dev/null -w '%{http_code}' -F "csrf=$VCSRF" -F "file=@$T/devices.csv;type=text/csv" "$U/import")
expect_eq "$code" 403 "a viewer's upload (the API's role check)"
code=$(c o -o "$T/r.html" -w '%{http_code}' -F "csrf=$CSRF" -F "note=x" "$U/import")
expect_eq "$code" 422 "a form without a file"
expect_contains "$(cat "$T/r.html")" "the form holds no file" "said on the page"
code=$(c o -o /dev/null -w '%{http_code}' -d "csrf=$CSRF" "$U/import")
expect_eq "$code" 400 "an urlencoded post to the upload"

# the import: 303 to the job's page, which the server finishes on its own
c o -D "$T/h" -o /dev/null -F "csrf=$CSRF" -F "file=@$T/devices.csv;type=text/csv" "$U/import"
loc=$(tr -d '\r' <"$T/h" | sed -n 's/^Location: //p')
case "$loc" in /import/[0-9]*) ;; *) fail "no redirect to the job: $(cat "$T/h")";; esac; ok
JOB=${loc#/import/}
c o -o "$T/job.html" "$U$loc"
expect_contains "$(cat "$T/job.html")" 'id="import-progress"' "the job's page with its progress"
# the dashboard lists it while it runs (or it already finished: then the page says done)
c o -o "$T/dash.html" "$U/dashboard"
if ! grep -q "href=\"/import/$JOB\"" "$T/dash.html"; then
  c o -o "$T/job.html" "$U$loc"; expect_contains "$(cat "$T/job.html")" 'class="state-done"' "done already"
else ok; fi
done_job() { c o "$U/api/v1/import-jobs/$JOB" | grep -q '"state":"done"'; }
wait_for 30 "the import job finished" done_job
c o -o "$T/job.html" "$U$loc"
expect_contains "$(cat "$T/job.html")" "created 2998, updated 0, unchanged 0, errors 2" "the counts on the page"
expect_contains "$(cat "$T/job.html")" "unknown model &#39;SPA5O4G&#39;" "the first errors on the page"
c o -D "$T/eh" -o "$T/errors.csv" "$U/api/v1/import-jobs/$JOB/errors"
expect_eq "$(cut -d, -f1,2 "$T/errors.csv" | tr -d '\r' | tr '\n' ' ')" "line,mac 102,00:0e:08:30:00 2002,00:0e:08:30:07:d0 " "the report in line order"
expect_contains "$(tr -d '\r' <"$T/eh")" "Content-Disposition: attachment" "a download"
expect_contains "$("$P" audit list --json)" '"actor": "login:ops"' "audited as the operator"

# firmware without a script: the file into <data>/firmware/, its name into the register form
head -c 300000 /dev/urandom >"$T/img.bin"
printf 'LOADS\r\n--not-a-boundary\r\n' >>"$T/img.bin"
c o -o "$T/fw.html" "$U/firmware"
expect_contains "$(cat "$T/fw.html")" 'action="/firmware/upload" enctype="multipart/form-data"' "the plain upload form"
c o -D "$T/h" -o /dev/null -F "csrf=$CSRF" -F "file=@$T/img.bin;filename=cp-8841-12-0-1.bin;type=application/octet-stream" "$U/firmware/upload"
loc=$(tr -d '\r' <"$T/h" | sed -n 's/^Location: //p')
expect_eq "$loc" "/firmware?done=image_uploaded&file=cp-8841-12-0-1.bin#images" "redirect after the upload"
same_file "$T/img.bin" "$D/firmware/cp-8841-12-0-1.bin" "the image stored byte for byte"
c o -o "$T/fw.html" "$U$loc"
expect_contains "$(cat "$T/fw.html")" 'value="cp-8841-12-0-1.bin"' "its name in the register form"
code=$(c v -o /dev/null -w '%{http_code}' -F "csrf=$VCSRF" -F "file=@$T/img.bin;filename=x.bin" "$U/firmware/upload")
expect_eq "$code" 403 "a viewer's firmware upload"

# one import at a time: while a large one runs, a second upload is refused on the page (409)
python3 -c "
print('MAC,model,account')
for i in range(200000): print('0004f3%06x,SPA504G,acme-telecom' % i)" >"$T/big.csv"
c o -D "$T/h" -o /dev/null -F "csrf=$CSRF" -F "file=@$T/big.csv;type=text/csv" "$U/import"
code=$(c o -o "$T/r.html" -w '%{http_code}' -F "csrf=$CSRF" -F "file=@$T/devices.csv;type=text/csv" "$U/import")
if [ "$code" = 409 ]; then
  expect_contains "$(cat "$T/r.html")" "is running; one import runs at a time" "the refusal on the page"
else
  echo "note: the large import finished before the second upload ($code)" >&2
fi
done_ok
