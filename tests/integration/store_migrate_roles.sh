#!/usr/bin/env bash
# Schema step 3 (issue 13) on a database made by the schema before it: a token that existed
# becomes admin (what it could do), and SQLite's binding codes table is rebuilt with
# AUTOINCREMENT, keeping its rows, so a revoked last code's id is never handed out again.
# Covers src/store/migrations.c (step 3, sqlite_sql) through `provisor db migrate` and sqlite3.
. "$(dirname "$0")/lib.sh"
need() { command -v "$1" >/dev/null || { echo "skip: $1 missing"; exit 0; }; }
need sqlite3

DB="$T/old.db"
# The schema as steps 1 and 2 left it: what `db schema` prints before step 3.
"$PV_BIN" db schema | sed '/^-- schema step 3/,$d' >"$T/v2.sql"
sqlite3 "$DB" <"$T/v2.sql"
sqlite3 "$DB" "INSERT INTO schema_version VALUES (1, 0, 'one'), (2, 0, 'two');
  INSERT INTO accounts (name, created_at, updated_at) VALUES ('acme', 1, 1);
  INSERT INTO admin_tokens (name, token_hash, created_at) VALUES ('old-ops', '$(printf 'a%.0s' $(seq 64))', 1);
  INSERT INTO binding_codes (account_id, code_hash, hint, created_at, expires_at, max_attempts)
    VALUES (1, 'h1', '12', 1, 99999999999, 5), (1, 'h2', '34', 1, 99999999999, 5);
  DELETE FROM binding_codes WHERE id = 2;"
expect_status 0 "$PV_BIN" db migrate --db "$DB"
expect_eq "$(sqlite3 "$DB" "SELECT role, account_id IS NULL FROM admin_tokens WHERE name = 'old-ops'")" \
  "admin|1" "the old token became admin"
expect_eq "$(sqlite3 "$DB" "SELECT id, hint FROM binding_codes")" "1|12" "the codes kept"
expect_contains "$(sqlite3 "$DB" ".schema binding_codes")" "AUTOINCREMENT" "rebuilt with AUTOINCREMENT"
expect_contains "$(sqlite3 "$DB" ".schema binding_codes")" "used_fingerprint TEXT" "step 2's columns kept"
sqlite3 "$DB" "INSERT INTO binding_codes (account_id, code_hash, hint, created_at, expires_at, max_attempts)
  VALUES (1, 'h3', '56', 1, 99999999999, 5); DELETE FROM binding_codes WHERE code_hash = 'h3';
  INSERT INTO binding_codes (account_id, code_hash, hint, created_at, expires_at, max_attempts)
  VALUES (1, 'h4', '78', 1, 99999999999, 5)"
expect_eq "$(sqlite3 "$DB" "SELECT id FROM binding_codes WHERE code_hash = 'h4'")" 3 "a deleted last id not reused"
expect_status 0 "$PV_BIN" db check --db "$DB"
done_ok
