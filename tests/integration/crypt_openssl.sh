#!/usr/bin/env bash
# provisor encrypt/decrypt against the real openssl command (spec 4.1, 4.3, 3.2):
# files either side makes, the other side reads, with md5 and sha256, for sizes
# 0, 1, 15, 16, 17 bytes and 5 MB; wrong keys and truncated files fail with exit
# 1 and leave no output behind. openssl 3 warns "deprecated key derivation used"
# on stderr for -k without -pbkdf2: that is expected (phones use exactly that).
# Covers src/cli/cmd_crypt.c and src/cli/cli_io.c (atomic output).
. "$(dirname "$0")/lib.sh"

command -v openssl >/dev/null || fail "the openssl command is needed"
K='Secret Phrase 1234'

ossl_enc() { openssl enc -aes-256-cbc -k "$K" -md "$1" -in "$2" -out "$3" 2>/dev/null; }
ossl_dec() { openssl enc -d -aes-256-cbc -k "$K" -md "$1" -in "$2" -out "$3" 2>/dev/null; }
# no_output FILE MESSAGE — neither the file nor a temporary beside it exists
no_output() {
  [ ! -e "$1" ] || fail "$2: $1 was left behind"
  local tmp
  tmp=$(find "$(dirname "$1")" -name "$(basename "$1").tmp*" | head -1)
  [ -z "$tmp" ] || fail "$2: temporary $tmp left behind"
  ok
}

for n in 0 1 15 16 17 5242880; do
  head -c "$n" /dev/urandom >"$T/p.$n"
  for md in md5 sha256; do
    # openssl encrypts (random salt, no -S), provisor decrypts.
    ossl_enc "$md" "$T/p.$n" "$T/o.$n.$md"
    expect_status 0 "$PV_BIN" decrypt --key "$K" --md "$md" "$T/o.$n.$md" "$T/d.$n.$md"
    same_file "$T/p.$n" "$T/d.$n.$md" "openssl -md $md, $n bytes, provisor decrypt"
    # provisor encrypts, openssl decrypts.
    expect_status 0 "$PV_BIN" encrypt --key "$K" --md "$md" "$T/p.$n" "$T/e.$n.$md"
    expect_eq "$(head -c 8 "$T/e.$n.$md")" "Salted__" "provisor output starts with Salted__"
    expect_eq "$(stat -c %s "$T/e.$n.$md")" "$((16 + (n / 16 + 1) * 16))" "size with PKCS#7, $n bytes"
    ossl_dec "$md" "$T/e.$n.$md" "$T/f.$n.$md" || fail "openssl could not decrypt provisor's $md file of $n bytes"
    same_file "$T/p.$n" "$T/f.$n.$md" "provisor -md $md, $n bytes, openssl decrypt"
  done
done

# Without --md, md5 then sha256 (DESIGN 7); the default for encrypt is md5.
for i in $(seq 1 2000); do echo "  <Line_Enable_${i}_ ua=\"na\">Yes</Line_Enable_${i}_>"; done >"$T/body"
{ echo '<flat-profile>'; cat "$T/body"; echo '</flat-profile>'; } >"$T/profile.xml"
ossl_enc sha256 "$T/profile.xml" "$T/profile.sha256"
expect_status 0 "$PV_BIN" decrypt --verbose --key "$K" "$T/profile.sha256" "$T/profile.auto"
same_file "$T/profile.xml" "$T/profile.auto" "digest found without --md"
expect_contains "$(cat "$T/.err")" "digest sha256" "verbose names the digest"
expect_status 0 "$PV_BIN" encrypt --key "$K" "$T/profile.xml" "$T/profile.default"
ossl_dec md5 "$T/profile.default" "$T/profile.back" || fail "default digest is not md5"
same_file "$T/profile.xml" "$T/profile.back" "default digest md5"

# Standard input and output, and --key-file (one trailing newline dropped).
"$PV_BIN" decrypt --key "$K" --md md5 - - <"$T/o.17.md5" >"$T/stdout.17" || fail "decrypt - -"
same_file "$T/p.17" "$T/stdout.17" "decrypt through stdin/stdout"
printf '%s\n' "$K" >"$T/keyfile"
expect_status 0 "$PV_BIN" decrypt --key-file "$T/keyfile" --md sha256 "$T/o.16.sha256" "$T/kf.16"
same_file "$T/p.16" "$T/kf.16" "decrypt with --key-file"

# Wrong key: with this salt the padding check fails for both digests (no chance pass).
printf 'I am the walrus' >"$T/walrus"
{ printf 'Salted__\x00\x01\x02\x03\x04\x05\x06\x07'
  openssl enc -aes-256-cbc -k SecretPhrase1234 -md md5 -S 0001020304050607 -in "$T/walrus" 2>/dev/null
} >"$T/walrus.enc"
expect_status 0 "$PV_BIN" decrypt --key SecretPhrase1234 "$T/walrus.enc" "$T/walrus.out"
same_file "$T/walrus" "$T/walrus.out" "fixed-salt file"
expect_status 1 "$PV_BIN" decrypt --key wrongkey "$T/walrus.enc" "$T/wrong.out"
expect_contains "$(cat "$T/.err")" "wrong key" "wrong key explained"
no_output "$T/wrong.out" "wrong key"
echo old >"$T/kept.out"
expect_status 1 "$PV_BIN" decrypt --key wrongkey --md md5 "$T/walrus.enc" "$T/kept.out"
expect_eq "$(cat "$T/kept.out")" "old" "a failed decrypt leaves an existing OUT alone"

# Truncated input: inside a block, header only, inside the header.
for cut in 5 $(( $(stat -c %s "$T/o.17.md5") - 16 - 5 )) 16 10; do
  head -c "$cut" "$T/o.17.md5" >"$T/trunc"
  expect_status 1 "$PV_BIN" decrypt --key "$K" "$T/trunc" "$T/trunc.out"
  expect_contains "$(cat "$T/.err")" "truncated" "truncation at $cut explained"
  no_output "$T/trunc.out" "truncated at $cut"
done
expect_status 1 "$PV_BIN" decrypt --key "$K" "$T/profile.xml" "$T/plain.out"
expect_contains "$(cat "$T/.err")" "not encrypted" "a plain file is not decrypted"
no_output "$T/plain.out" "plain input"

# gzip, then encrypt (spec 3.2): openssl + gzip(1) read it back, as do we.
expect_status 0 "$PV_BIN" encrypt --gzip --key "$K" --md sha256 "$T/profile.xml" "$T/profile.gz.enc"
openssl enc -d -aes-256-cbc -k "$K" -md sha256 -in "$T/profile.gz.enc" 2>/dev/null | gzip -dc >"$T/profile.gz.back"
same_file "$T/profile.xml" "$T/profile.gz.back" "openssl | gzip -dc"
expect_status 0 "$PV_BIN" decrypt --gunzip --key "$K" "$T/profile.gz.enc" "$T/profile.gunzipped"
same_file "$T/profile.xml" "$T/profile.gunzipped" "decrypt --gunzip"
expect_status 0 "$PV_BIN" decrypt --key "$K" "$T/profile.gz.enc" "$T/profile.still.gz"
gzip -dc <"$T/profile.still.gz" >"$T/profile.gzip-d" || fail "decrypt without --gunzip keeps gzip"
same_file "$T/profile.xml" "$T/profile.gzip-d" "gzip(1) reads our gzip"
gzip -c "$T/profile.xml" >"$T/by-gzip.gz"
ossl_enc md5 "$T/by-gzip.gz" "$T/by-gzip.enc"
expect_status 0 "$PV_BIN" decrypt --gunzip --key "$K" "$T/by-gzip.enc" "$T/by-gzip.out"
same_file "$T/profile.xml" "$T/by-gzip.out" "gzip(1) then openssl, read by provisor"

# RFC 8188 (spec 4.3): round trip with a small record size; a wrong IKM fails.
expect_status 0 "$PV_BIN" encrypt --rfc8188 --rs 100 --gzip --key "$K" "$T/profile.xml" "$T/profile.gcm"
expect_status 0 "$PV_BIN" decrypt --rfc8188 --gunzip --verbose --key "$K" "$T/profile.gcm" "$T/profile.gcm.out"
same_file "$T/profile.xml" "$T/profile.gcm.out" "aes128gcm round trip"
expect_contains "$(cat "$T/.err")" "record size 100" "verbose names the record size"
expect_status 1 "$PV_BIN" decrypt --rfc8188 --key other "$T/profile.gcm" "$T/gcm.wrong"
expect_contains "$(cat "$T/.err")" "wrong IKM" "wrong IKM explained"
no_output "$T/gcm.wrong" "wrong IKM"
head -c 1000 "$T/profile.gcm" >"$T/gcm.trunc"
expect_status 1 "$PV_BIN" decrypt --rfc8188 --key "$K" "$T/gcm.trunc" "$T/gcm.trunc.out"
no_output "$T/gcm.trunc.out" "truncated aes128gcm"

# Usage: exit 2; --help: exit 0.
expect_status 0 "$PV_BIN" encrypt --help
expect_contains "$(cat "$T/.out")" "usage: provisor encrypt" "encrypt --help"
expect_status 0 "$PV_BIN" decrypt --help
expect_contains "$(cat "$T/.out")" "usage: provisor decrypt" "decrypt --help"
expect_status 2 "$PV_BIN" decrypt --key "$K" "$T/o.1.md5"
expect_status 2 "$PV_BIN" encrypt "$T/p.1" "$T/x"
expect_status 2 "$PV_BIN" encrypt --key "$K" --md sha1 "$T/p.1" "$T/x"
expect_status 2 "$PV_BIN" encrypt --key "$K" --rfc8188 --rs 17 "$T/p.1" "$T/x"
expect_status 2 "$PV_BIN" encrypt --key "$K" --rfc8188 --md md5 "$T/p.1" "$T/x"
expect_status 2 "$PV_BIN" decrypt --key "$K" --gzip "$T/o.1.md5" "$T/x"
no_output "$T/x" "usage errors"
expect_status 1 "$PV_BIN" decrypt --key "$K" "$T/does-not-exist" "$T/x"
expect_contains "$(cat "$T/.err")" "does-not-exist" "missing input named"
done_ok
