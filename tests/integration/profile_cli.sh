#!/usr/bin/env bash
# `provisor profile check | convert | diff` on real files: exit codes 0/1/2,
# file:line errors, gzip input, atomic output, and the xml → text → xml trip.
# Covers src/cli/cmd_profile.c.
. "$(dirname "$0")/lib.sh"

D="$PV_SRC/tests/data/profiles"
P() { "$PV_BIN" profile "$@"; }

# --help on the command and on each subcommand
for sub in "" check convert diff; do
  expect_status 0 P $sub --help
  expect_contains "$(cat "$T/.out")" "usage: provisor profile" "help of '$sub'"
done
expect_status 2 P
expect_status 2 P frobnicate
expect_status 2 P check
expect_status 2 P convert --to json "$D/spa_sample.xml"
expect_contains "$(cat "$T/.err")" "expected xml or text" "bad --to explained"
expect_status 2 P diff "$D/spa_sample.xml"

# check: good files, a summary per file
expect_status 0 P check "$D/spa_sample.xml" "$D/spa_sample.txt" "$D/all_ua.xml"
expect_contains "$(cat "$T/.out")" "spa_sample.xml: ok, 13 parameters" "xml summary"
expect_contains "$(cat "$T/.out")" "spa_sample.txt: ok, 8 parameters" "text summary (with import)"
# check: errors as file:line: message, exit 1, the good file still reported
expect_status 1 P check "$D/bad_tag.xml" "$D/spa_sample.xml" "$D/bad_semicolon.txt" "$D/cycle_a.txt"
err=$(cat "$T/.err")
expect_contains "$err" "$D/bad_tag.xml:3: column 9: mismatched tag" "xml error position"
expect_contains "$err" "$D/bad_semicolon.txt:3: column 1: expected ';'" "text error position"
expect_contains "$err" "$D/cycle_b.txt:2: column 1: import cycle_a.txt: cycle" "import cycle"
expect_contains "$(cat "$T/.out")" "spa_sample.xml: ok" "good file among bad"
expect_status 1 P check "$T/missing.xml"
expect_contains "$(cat "$T/.err")" "missing.xml" "missing file named"
printf '<!DOCTYPE x [<!ENTITY a "b">]><flat-profile><A>&a;</A></flat-profile>' >"$T/dtd.xml"
expect_status 1 P check "$T/dtd.xml"
expect_contains "$(cat "$T/.err")" "DOCTYPE" "DOCTYPE refused"
printf '<profile><A>1</A></profile>' >"$T/noflat.xml"
expect_status 1 P check "$T/noflat.xml"
expect_contains "$(cat "$T/.err")" "no <flat-profile>" "missing flat-profile"
# stdin, and gzip is inflated first (spec 3.2)
# imports of standard input resolve against the working directory
expect_status 0 bash -c 'cd "$1" && "$2" profile check - <spa_sample.txt' _ "$D" "$PV_BIN"
expect_contains "$(cat "$T/.out")" "-: ok, 8 parameters" "stdin"
gzip -c "$D/spa_sample.xml" >"$T/sample.xml.gz"
expect_status 0 P check "$T/sample.xml.gz"
expect_contains "$(cat "$T/.out")" "ok, 13 parameters" "gzip profile"

# --alias maps a foreign XML document onto parameters (spec 1.1)
expect_status 1 P check "$D/foreign.xml"
expect_status 0 P check --alias "$D/aliases.txt" "$D/foreign.xml"
expect_contains "$(cat "$T/.out")" "ok, 2 parameters" "aliased parameters"
expect_status 0 P convert --alias "$D/aliases.txt" --to text "$D/foreign.xml"
expect_contains "$(cat "$T/.out")" 'Proxy[1] ? "sip.example.com";' "alias value and ua"
expect_contains "$(cat "$T/.out")" 'User_ID[1] "4085551234";' "alias by trailing path"
printf 'a/b /flat-profile/X;' >"$T/bad_alias.txt"
expect_status 1 P check --alias "$T/bad_alias.txt" "$D/foreign.xml"
expect_contains "$(cat "$T/.err")" "alias 1: expected '='" "bad alias explained"

# convert: xml → text → xml gives the same set (a profile with ua everywhere)
expect_status 0 P convert --to text "$D/all_ua.xml" "$T/all.txt"
expect_eq "$(grep -c . "$T/all.txt")" 8 "one line per parameter"
expect_contains "$(cat "$T/all.txt")" 'Proxy[1] ! "sip.service.com";' "indexed name in text form"
expect_contains "$(cat "$T/all.txt")" 'GPP_B ?;' "no value in text form"
expect_status 0 P convert --to xml "$T/all.txt" "$T/back.xml"
expect_status 0 P diff "$D/all_ua.xml" "$T/back.xml"
expect_eq "$(cat "$T/.out")" "" "round trip xml→text→xml: no difference"
# canonical output is a fixed point
expect_status 0 P convert --to xml "$T/back.xml" "$T/back2.xml"
same_file "$T/back.xml" "$T/back2.xml" "canonical xml is stable"
P convert --to text "$T/back.xml" >"$T/again.txt"
same_file "$T/all.txt" "$T/again.txt" "canonical text is stable"
# without ua, the text form reads "na" (spec 3.3) and says so
expect_status 0 P convert --to text "$D/spa_sample.xml" "$T/sample.txt"
expect_contains "$(cat "$T/.err")" "have no ua" "loss of unset ua noted"
expect_status 0 P convert --to xml "$T/sample.txt" "$T/sample.xml"
expect_status 1 P diff "$D/spa_sample.xml" "$T/sample.xml"
expect_contains "$(cat "$T/.out")" "~ Resync_On_Reset: ua unset -> na" "ua noted in diff"
if grep -v ': ua unset -> na$\|: preserve-value y -> n$' "$T/.out" | grep -q .; then
  fail "values changed in xml→text→xml: $(cat "$T/.out")"
fi
ok
# stdin → stdout
out=$(P convert --to xml - <"$D/all_ua.xml")
expect_contains "$out" '<GPP_C ua="rw">say &quot;hi&quot; \ bye &amp; &lt;ok&gt;</GPP_C>' "escaped output"
# a failed conversion leaves no output file behind
expect_status 1 P convert --to xml "$D/bad_tag.xml" "$T/never.xml"
[ ! -e "$T/never.xml" ] || fail "output written for bad input"
ok
[ -z "$(ls "$T" | grep tmp)" ] || fail "temporary file left: $(ls "$T")"
ok

# diff: same → 0, different → 1 with +/-/~ lines, trouble → 2
expect_status 0 P diff "$D/spa_sample.xml" "$T/sample.xml.gz"
cat >"$T/a.xml" <<'XML'
<flat-profile><A>1</A><B ua="ro">2</B><C>3</C><D>4</D></flat-profile>
XML
cat >"$T/b.xml" <<'XML'
<flat-profile><A>1</A><B ua="rw">2</B><C>three</C><E>5</E><D/></flat-profile>
XML
expect_status 1 P diff "$T/a.xml" "$T/b.xml"
expect_eq "$(cat "$T/.out")" '~ B: ua ro -> rw
~ C: "3" -> "three"
~ D: "4" -> (no value)
+ E = "5"' "set diff"
expect_status 1 P diff "$T/b.xml" "$T/a.xml"
expect_contains "$(cat "$T/.out")" "- E" "removed parameter"
# --apply: <D/> keeps D's value, parameters not named stay
expect_status 1 P diff --apply "$T/a.xml" "$T/b.xml"
expect_eq "$(cat "$T/.out")" '~ B: ua ro -> rw
~ C: "3" -> "three"
+ E = "5"' "apply diff"
expect_status 0 P diff --apply "$T/a.xml" "$T/a.xml"
expect_status 2 P diff "$T/a.xml" "$D/bad_tag.xml"
expect_contains "$(cat "$T/.err")" "bad_tag.xml:3:" "diff reports parse errors"
done_ok
