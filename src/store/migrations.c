/* migrations.c — the schema steps and pv_store_migrate; see migrations.h and docs/store.md. */
#include "store/migrations.h"

#include "store/store_int.h"

#include <string.h>
#include <time.h>

const char pv_migrations_bootstrap[] = "CREATE TABLE IF NOT EXISTS schema_version (\n"
                                       "  version BIGINT PRIMARY KEY,\n"
                                       "  applied_at BIGINT NOT NULL,\n"
                                       "  description TEXT NOT NULL\n"
                                       ");\n";

/* Step 1: the whole provisioning schema of issue 4. One paragraph per table
 * in docs/store.md says what it holds and why. */
static const char step1[] =
    "CREATE TABLE meta (\n"
    "  name TEXT PRIMARY KEY,\n"
    "  value {blob} NOT NULL\n"
    ");\n"
    "CREATE TABLE accounts (\n"
    "  id {id},\n"
    "  name TEXT NOT NULL UNIQUE,\n"
    "  customer TEXT NOT NULL DEFAULT '',\n"
    "  settings TEXT NOT NULL DEFAULT '{}',\n"
    "  version BIGINT NOT NULL DEFAULT 1,\n"
    "  created_at BIGINT NOT NULL,\n"
    "  updated_at BIGINT NOT NULL\n"
    ");\n"
    "CREATE TABLE devices (\n"
    "  mac TEXT PRIMARY KEY CHECK (length(mac) = 12),\n"
    "  serial TEXT,\n"
    "  model TEXT,\n"
    "  account_id BIGINT REFERENCES accounts(id) ON DELETE SET NULL,\n"
    "  cert_fingerprint TEXT,\n"
    "  require_cert INTEGER NOT NULL DEFAULT 0 CHECK (require_cert IN (0, 1)),\n"
    "  state TEXT NOT NULL DEFAULT 'MFG-RESET'\n"
    "    CHECK (state IN ('MFG-RESET', 'SP-CUST', 'SEC-PRV-1', 'SEC-PRV-2')),\n"
    "  last_seen BIGINT,\n"
    "  firmware_version TEXT,\n"
    "  last_report_id BIGINT,\n"
    "  served_version TEXT,\n"
    "  served_hash TEXT,\n"
    "  version BIGINT NOT NULL DEFAULT 1,\n"
    "  created_at BIGINT NOT NULL,\n"
    "  updated_at BIGINT NOT NULL\n"
    ");\n"
    "CREATE INDEX devices_account ON devices (account_id, mac);\n"
    "CREATE INDEX devices_cert ON devices (cert_fingerprint);\n"
    "CREATE TABLE binding_codes (\n"
    "  id {id},\n"
    "  account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,\n"
    "  code_hash TEXT NOT NULL UNIQUE,\n"
    "  hint TEXT NOT NULL,\n"
    "  created_at BIGINT NOT NULL,\n"
    "  expires_at BIGINT NOT NULL,\n"
    "  used_at BIGINT,\n"
    "  used_by TEXT,\n"
    "  attempts BIGINT NOT NULL DEFAULT 0,\n"
    "  max_attempts BIGINT NOT NULL CHECK (max_attempts > 0)\n"
    ");\n"
    "CREATE INDEX binding_codes_account ON binding_codes (account_id, id);\n"
    "CREATE TABLE rate_limits (\n"
    "  name TEXT PRIMARY KEY,\n"
    "  window_start BIGINT NOT NULL,\n"
    "  hits BIGINT NOT NULL\n"
    ");\n"
    "CREATE TABLE param_sets (\n"
    "  id {id},\n"
    "  scope TEXT NOT NULL UNIQUE,\n"
    "  version BIGINT NOT NULL DEFAULT 1,\n"
    "  updated_at BIGINT NOT NULL\n"
    ");\n"
    "CREATE TABLE param_entries (\n"
    "  set_id BIGINT NOT NULL REFERENCES param_sets(id) ON DELETE CASCADE,\n"
    "  name TEXT NOT NULL,\n"
    "  value TEXT NOT NULL,\n"
    "  ua TEXT CHECK (ua IN ('na', 'ro', 'rw')),\n"
    "  PRIMARY KEY (set_id, name)\n"
    ");\n"
    "CREATE TABLE device_secrets (\n"
    "  id {id},\n"
    "  mac TEXT NOT NULL REFERENCES devices(mac) ON DELETE CASCADE,\n"
    "  key_sealed {blob} NOT NULL,\n"
    "  dir_sealed {blob} NOT NULL,\n"
    "  created_at BIGINT NOT NULL,\n"
    "  confirmed_at BIGINT,\n"
    "  retired_at BIGINT\n"
    ");\n"
    "CREATE INDEX device_secrets_mac ON device_secrets (mac, id);\n"
    "CREATE TABLE firmware_images (\n"
    "  id {id},\n"
    "  model TEXT NOT NULL,\n"
    "  version TEXT NOT NULL,\n"
    "  file_name TEXT NOT NULL,\n"
    "  sha256 TEXT NOT NULL CHECK (length(sha256) = 64),\n"
    "  size BIGINT NOT NULL CHECK (size >= 0),\n"
    "  kind TEXT NOT NULL CHECK (kind IN ('loads', 'bin')),\n"
    "  files TEXT NOT NULL DEFAULT '[]',\n"
    "  created_at BIGINT NOT NULL,\n"
    "  UNIQUE (model, version)\n"
    ");\n"
    "CREATE TABLE upgrade_plans (\n"
    "  model TEXT PRIMARY KEY,\n"
    "  target_version TEXT NOT NULL,\n"
    "  stages TEXT NOT NULL DEFAULT '[]',\n"
    "  version BIGINT NOT NULL DEFAULT 1,\n"
    "  updated_at BIGINT NOT NULL\n"
    ");\n"
    "CREATE TABLE reports (\n"
    "  id {id},\n"
    "  mac TEXT NOT NULL REFERENCES devices(mac) ON DELETE CASCADE,\n"
    "  received_at BIGINT NOT NULL,\n"
    "  kind TEXT NOT NULL CHECK (kind IN ('full', 'delta', 'status')),\n"
    "  body {blob} NOT NULL\n"
    ");\n"
    "CREATE INDEX reports_mac ON reports (mac, id);\n"
    "CREATE TABLE admin_tokens (\n"
    "  id {id},\n"
    "  name TEXT NOT NULL UNIQUE,\n"
    "  token_hash TEXT NOT NULL UNIQUE,\n"
    "  created_at BIGINT NOT NULL,\n"
    "  last_used_at BIGINT,\n"
    "  revoked_at BIGINT\n"
    ");\n"
    "CREATE TABLE audit_log (\n"
    "  id {id},\n"
    "  logged_at BIGINT NOT NULL,\n"
    "  actor TEXT NOT NULL,\n"
    "  action TEXT NOT NULL,\n"
    "  subject TEXT NOT NULL DEFAULT '',\n"
    "  content_hash TEXT,\n"
    "  detail TEXT\n"
    ");\n"
    "CREATE INDEX audit_log_subject ON audit_log (subject, id);\n";

/* Step 2 (issue 10): binding codes are kept as HMAC under the master key
 * (keyed = 1), which SQL cannot compute. Existing rows keep their bare
 * SHA-256 (keyed = 0) and stay redeemable until they expire; a used one has
 * nothing left to redeem and loses its hash, so a copied database shows no
 * used code either. used_fingerprint names the certificate that used a code,
 * so that the same phone asking again gets its answer again (issue 19.3). */
static const char step2[] =
    "ALTER TABLE binding_codes ADD COLUMN keyed INTEGER NOT NULL DEFAULT 0;\n"
    "ALTER TABLE binding_codes ADD COLUMN used_fingerprint TEXT;\n"
    "UPDATE binding_codes SET code_hash = 'retired:' || id WHERE used_at IS NOT NULL;\n";

/* Step 3 (issue 13): scoped access. An API token carries a role (server/roles.h);
 * the tokens made before roles existed could do everything, so they become admin.
 * A customer token is confined to one account and goes with it. */
#define STEP3_TOKENS                                                                               \
    "ALTER TABLE admin_tokens ADD COLUMN role TEXT NOT NULL DEFAULT 'admin'\n"                     \
    "  CHECK (role IN ('admin', 'operator', 'viewer', 'customer'));\n"                             \
    "ALTER TABLE admin_tokens ADD COLUMN account_id BIGINT REFERENCES accounts(id) "               \
    "ON DELETE CASCADE;\n"
static const char step3[] = STEP3_TOKENS;
/* SQLite reuses the rowid of a deleted last row, so a revoked code's id came back
 * and `code:4` in the audit log named two codes (issue 13). AUTOINCREMENT never
 * hands an id out twice; it needs the table rebuilt. PostgreSQL identities never
 * reuse a value, so only SQLite runs the rebuild. */
static const char step3_sqlite[] =
    STEP3_TOKENS
    "CREATE TABLE binding_codes_v3 (\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,\n"
    "  code_hash TEXT NOT NULL UNIQUE,\n"
    "  hint TEXT NOT NULL,\n"
    "  created_at BIGINT NOT NULL,\n"
    "  expires_at BIGINT NOT NULL,\n"
    "  used_at BIGINT,\n"
    "  used_by TEXT,\n"
    "  attempts BIGINT NOT NULL DEFAULT 0,\n"
    "  max_attempts BIGINT NOT NULL CHECK (max_attempts > 0),\n"
    "  keyed INTEGER NOT NULL DEFAULT 0,\n"
    "  used_fingerprint TEXT\n"
    ");\n"
    "INSERT INTO binding_codes_v3 (id, account_id, code_hash, hint, created_at, expires_at,\n"
    "  used_at, used_by, attempts, max_attempts, keyed, used_fingerprint)\n"
    "  SELECT id, account_id, code_hash, hint, created_at, expires_at, used_at, used_by,\n"
    "  attempts, max_attempts, keyed, used_fingerprint FROM binding_codes;\n"
    "DROP TABLE binding_codes;\n"
    "ALTER TABLE binding_codes_v3 RENAME TO binding_codes;\n"
    "CREATE INDEX binding_codes_account ON binding_codes (account_id, id);\n";

/* Step 4 (issue 12): what push delivery needs. last_address is where the
 * device last provisioned from, so that a NOTIFY can go straight to it on a
 * LAN without a SIP proxy; notify_jobs and notify_outcomes keep each device
 * action and each device's outcome across restarts (a pending outcome left by
 * a stop becomes "interrupted" at the next start). */
static const char step4[] =
    "ALTER TABLE devices ADD COLUMN last_address TEXT;\n"
    "CREATE TABLE notify_jobs (\n"
    "  id {id},\n"
    "  action TEXT NOT NULL,\n"
    "  subject TEXT NOT NULL DEFAULT '',\n"
    "  actor TEXT NOT NULL DEFAULT '',\n"
    "  total BIGINT NOT NULL,\n"
    "  rate BIGINT NOT NULL,\n"
    "  created_at BIGINT NOT NULL,\n"
    "  finished_at BIGINT\n"
    ");\n"
    "CREATE TABLE notify_outcomes (\n"
    "  job_id BIGINT NOT NULL REFERENCES notify_jobs (id) ON DELETE CASCADE,\n"
    "  mac TEXT NOT NULL,\n"
    "  outcome TEXT NOT NULL DEFAULT 'pending',\n"
    "  status BIGINT NOT NULL DEFAULT 0,\n"
    "  attempts BIGINT NOT NULL DEFAULT 0,\n"
    "  challenged INTEGER NOT NULL DEFAULT 0,\n"
    "  via TEXT NOT NULL DEFAULT '',\n"
    "  finished_at BIGINT,\n"
    "  PRIMARY KEY (job_id, mac)\n"
    ");\n"
    "CREATE INDEX notify_outcomes_mac ON notify_outcomes (mac, job_id);\n";

/* Step 5 (issue 10 item 3): logins of people (the customer portal's, and the
 * operator console's to come: role) and their sessions. A customer login
 * belongs to exactly one account and goes with it; an operator login belongs
 * to none. Passwords are argon2id strings (server/password.h); a session is
 * kept as the SHA-256 of its cookie, never the cookie, and goes with its
 * login. failed_count/locked_until are the lockout, kept here so that every
 * node sharing a PostgreSQL store counts the same failures. */
static const char step5[] =
    "CREATE TABLE logins (\n"
    "  id {id},\n"
    "  name TEXT NOT NULL UNIQUE,\n"
    "  account_id BIGINT REFERENCES accounts(id) ON DELETE CASCADE,\n"
    "  role TEXT NOT NULL DEFAULT 'customer'\n"
    "    CHECK (role IN ('customer', 'viewer', 'operator', 'admin')),\n"
    "  password_hash TEXT NOT NULL,\n"
    "  failed_count BIGINT NOT NULL DEFAULT 0,\n"
    "  locked_until BIGINT,\n"
    "  last_login_at BIGINT,\n"
    "  created_at BIGINT NOT NULL,\n"
    "  updated_at BIGINT NOT NULL,\n"
    "  CHECK ((role = 'customer') = (account_id IS NOT NULL))\n"
    ");\n"
    "CREATE INDEX logins_account ON logins (account_id, id);\n"
    "CREATE TABLE sessions (\n"
    "  token_hash TEXT PRIMARY KEY CHECK (length(token_hash) = 64),\n"
    "  login_id BIGINT NOT NULL REFERENCES logins(id) ON DELETE CASCADE,\n"
    "  created_at BIGINT NOT NULL,\n"
    "  last_seen_at BIGINT NOT NULL,\n"
    "  expires_at BIGINT NOT NULL\n"
    ");\n"
    "CREATE INDEX sessions_login ON sessions (login_id);\n"
    "CREATE INDEX sessions_expires ON sessions (expires_at);\n";

/* Step 6 (issue 15): firmware rollouts. A rollout moves a target set of one
 * model's devices to a version in stages (rollout_stages: a canary, then
 * growing cohorts, each a bound on the admission order); rollout_members is
 * the cohort membership in that order and each device's upgrade outcome. The
 * plan's steps are copied at creation, so that editing the plan later does
 * not change what a running rollout serves. Thresholds are in permille. */
static const char step6[] =
    "CREATE TABLE rollouts (\n"
    "  id {id},\n"
    "  name TEXT NOT NULL UNIQUE,\n"
    "  model TEXT NOT NULL,\n"
    "  from_version TEXT NOT NULL DEFAULT '',\n"
    "  to_version TEXT NOT NULL,\n"
    "  steps TEXT NOT NULL DEFAULT '[]',\n"
    "  target TEXT NOT NULL DEFAULT '{}',\n"
    "  max_in_flight BIGINT NOT NULL CHECK (max_in_flight > 0),\n"
    "  per_minute BIGINT NOT NULL CHECK (per_minute > 0),\n"
    "  soak_s BIGINT NOT NULL CHECK (soak_s >= 0),\n"
    "  max_failed_permille BIGINT NOT NULL,\n"
    "  max_missing_permille BIGINT NOT NULL,\n"
    "  state TEXT NOT NULL DEFAULT 'running'\n"
    "    CHECK (state IN ('running', 'halted', 'aborted', 'rolled_back', 'done')),\n"
    "  stage BIGINT NOT NULL DEFAULT 0,\n"
    "  stage_full_at BIGINT,\n"
    "  reason TEXT NOT NULL DEFAULT '',\n"
    "  version BIGINT NOT NULL DEFAULT 1,\n"
    "  created_at BIGINT NOT NULL,\n"
    "  updated_at BIGINT NOT NULL\n"
    ");\n"
    "CREATE INDEX rollouts_model ON rollouts (model, id);\n"
    "CREATE TABLE rollout_stages (\n"
    "  rollout_id BIGINT NOT NULL REFERENCES rollouts(id) ON DELETE CASCADE,\n"
    "  idx BIGINT NOT NULL,\n"
    "  label TEXT NOT NULL,\n"
    "  upto BIGINT NOT NULL,\n"
    "  started_at BIGINT,\n"
    "  finished_at BIGINT,\n"
    "  outcome TEXT,\n"
    "  PRIMARY KEY (rollout_id, idx)\n"
    ");\n"
    "CREATE TABLE rollout_members (\n"
    "  rollout_id BIGINT NOT NULL REFERENCES rollouts(id) ON DELETE CASCADE,\n"
    "  mac TEXT NOT NULL REFERENCES devices(mac) ON DELETE CASCADE,\n"
    "  position BIGINT NOT NULL,\n"
    "  stage BIGINT,\n"
    "  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN\n"
    "    ('pending', 'admitted', 'upgraded', 'failed', 'missing', 'in_call')),\n"
    "  admitted_at BIGINT,\n"
    "  served_at BIGINT,\n"
    "  settled_at BIGINT,\n"
    "  detail TEXT NOT NULL DEFAULT '',\n"
    "  PRIMARY KEY (rollout_id, mac)\n"
    ");\n"
    "CREATE INDEX rollout_members_order ON rollout_members (rollout_id, position);\n"
    "CREATE INDEX rollout_members_mac ON rollout_members (mac, rollout_id);\n";

/* Step 7 (issue 18): what a node's cache of finished profiles (server/prov_cache.h) needs to
 * know that a cached answer went stale, without reading anything per request. Every change
 * that can alter what a device is served appends one row to render_changes naming the scope
 * it touches — "device:<mac>", "account:<id>", "model:<model>", "global" (the parameter
 * layers' own spelling) — and each node reads the rows after the last it saw, at most every
 * render_cache_check_ms. The rows are numbered by render_stamp, whose one row every logging
 * transaction updates: on PostgreSQL in a trigger deferred to COMMIT, so that the row lock
 * is the last one a transaction takes (no deadlock with the rows it changed) and numbers are
 * handed out in commit order, without gaps — a reader that sees n has seen everything before
 * it, and a gap means rows were pruned. What is not logged, and why: a new device or account
 * (no node caches an answer for a device it could not serve), a device's first secret and a
 * secret's confirmation (a node that missed a confirmation takes the slow path once, which
 * reads the secret again), and last-seen bookkeeping (it changes no byte served). */
#define RC_SQLITE_LOG(scope)                                                                       \
    " BEGIN UPDATE render_stamp SET seq = seq + 1 WHERE id = 1;"                                  \
    " INSERT INTO render_changes (seq, scope, at) SELECT seq, " scope                              \
    ", CAST(strftime('%s', 'now') AS INTEGER) FROM render_stamp WHERE id = 1; END;\n"
#define RC_TABLES                                                                                  \
    "CREATE TABLE render_stamp (\n"                                                                \
    "  id INTEGER PRIMARY KEY CHECK (id = 1),\n"                                                   \
    "  seq BIGINT NOT NULL\n"                                                                      \
    ");\n"                                                                                         \
    "INSERT INTO render_stamp (id, seq) VALUES (1, 0);\n"                                          \
    "CREATE TABLE render_changes (\n"                                                              \
    "  seq BIGINT PRIMARY KEY,\n"                                                                  \
    "  scope TEXT NOT NULL,\n"                                                                     \
    "  at BIGINT NOT NULL\n"                                                                       \
    ");\n"
/* The device columns a render or the identity decision reads (not last-seen & co). */
#define RC_DEVICE_OLD "OLD.version, OLD.state, OLD.account_id, OLD.model, OLD.serial, " \
    "OLD.cert_fingerprint, OLD.require_cert"
#define RC_DEVICE_NEW "NEW.version, NEW.state, NEW.account_id, NEW.model, NEW.serial, " \
    "NEW.cert_fingerprint, NEW.require_cert"
#define RC_SECRET_CHANGED                                                                          \
    "OLD.retired_at IS NOT NEW.retired_at OR OLD.key_sealed IS NOT NEW.key_sealed OR "            \
    "OLD.dir_sealed IS NOT NEW.dir_sealed OR OLD.mac IS NOT NEW.mac"
#define RC_SET_SCOPE(row) "COALESCE((SELECT scope FROM param_sets WHERE id = " row ".set_id), 'global')"
static const char step7_sqlite[] =
    RC_TABLES
    "CREATE TRIGGER rc_devices_update AFTER UPDATE ON devices WHEN (" RC_DEVICE_OLD
    ") IS NOT (" RC_DEVICE_NEW ")" RC_SQLITE_LOG("'device:' || NEW.mac")
    "CREATE TRIGGER rc_devices_delete AFTER DELETE ON devices" RC_SQLITE_LOG("'device:' || OLD.mac")
    "CREATE TRIGGER rc_accounts_update AFTER UPDATE ON accounts"
    RC_SQLITE_LOG("'account:' || NEW.id")
    "CREATE TRIGGER rc_accounts_delete AFTER DELETE ON accounts"
    RC_SQLITE_LOG("'account:' || OLD.id")
    "CREATE TRIGGER rc_sets_insert AFTER INSERT ON param_sets" RC_SQLITE_LOG("NEW.scope")
    "CREATE TRIGGER rc_sets_update AFTER UPDATE ON param_sets" RC_SQLITE_LOG("NEW.scope")
    "CREATE TRIGGER rc_sets_delete AFTER DELETE ON param_sets" RC_SQLITE_LOG("OLD.scope")
    "CREATE TRIGGER rc_entries_insert AFTER INSERT ON param_entries"
    RC_SQLITE_LOG(RC_SET_SCOPE("NEW"))
    "CREATE TRIGGER rc_entries_update AFTER UPDATE ON param_entries"
    RC_SQLITE_LOG(RC_SET_SCOPE("NEW"))
    "CREATE TRIGGER rc_entries_delete AFTER DELETE ON param_entries"
    RC_SQLITE_LOG(RC_SET_SCOPE("OLD"))
    "CREATE TRIGGER rc_secrets_insert AFTER INSERT ON device_secrets WHEN EXISTS "
    "(SELECT 1 FROM device_secrets WHERE mac = NEW.mac AND id <> NEW.id)"
    RC_SQLITE_LOG("'device:' || NEW.mac")
    "CREATE TRIGGER rc_secrets_update AFTER UPDATE ON device_secrets WHEN " RC_SECRET_CHANGED
    RC_SQLITE_LOG("'device:' || NEW.mac")
    "CREATE TRIGGER rc_secrets_delete AFTER DELETE ON device_secrets"
    RC_SQLITE_LOG("'device:' || OLD.mac")
    "CREATE TRIGGER rc_members_insert AFTER INSERT ON rollout_members"
    RC_SQLITE_LOG("'device:' || NEW.mac")
    "CREATE TRIGGER rc_members_update AFTER UPDATE ON rollout_members"
    RC_SQLITE_LOG("'device:' || NEW.mac")
    "CREATE TRIGGER rc_members_delete AFTER DELETE ON rollout_members"
    RC_SQLITE_LOG("'device:' || OLD.mac")
#define RC_SQLITE_MODEL(t)                                                                         \
    "CREATE TRIGGER rc_" t "_insert AFTER INSERT ON " t RC_SQLITE_LOG("'model:' || NEW.model")    \
    "CREATE TRIGGER rc_" t "_update AFTER UPDATE ON " t RC_SQLITE_LOG("'model:' || NEW.model")    \
    "CREATE TRIGGER rc_" t "_delete AFTER DELETE ON " t RC_SQLITE_LOG("'model:' || OLD.model")
    RC_SQLITE_MODEL("upgrade_plans") RC_SQLITE_MODEL("firmware_images") RC_SQLITE_MODEL("rollouts");
/* PostgreSQL: the same rules in PL/pgSQL, each trigger a constraint trigger deferred to COMMIT. */
#define RC_PG_FN(name, body)                                                                       \
    "CREATE FUNCTION " name "() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n" body             \
    "  RETURN NULL;\nEND $$;\n"
#define RC_PG_TRIGGER(name, ops, table, fn)                                                        \
    "CREATE CONSTRAINT TRIGGER " name " AFTER " ops " ON " table                                  \
    " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION " fn "();\n"
static const char step7[] =
    RC_TABLES
    "CREATE FUNCTION render_change_log(what TEXT) RETURNS void LANGUAGE plpgsql AS $$\n"
    "DECLARE n BIGINT;\n"
    "BEGIN\n"
    "  UPDATE render_stamp SET seq = seq + 1 WHERE id = 1 RETURNING seq INTO n;\n"
    "  INSERT INTO render_changes (seq, scope, at)\n"
    "    VALUES (n, what, CAST(EXTRACT(EPOCH FROM now()) AS BIGINT));\n"
    "END $$;\n"
    RC_PG_FN("rc_device",
             "  IF TG_OP = 'DELETE' THEN PERFORM render_change_log('device:' || OLD.mac);\n"
             "  ELSE PERFORM render_change_log('device:' || NEW.mac);\n"
             "  END IF;\n")
    /* WHEN is evaluated at the UPDATE itself: a last-seen update (every answer's batch)
     * queues no deferred event and calls no function. */
    "CREATE CONSTRAINT TRIGGER rc_devices AFTER UPDATE ON devices DEFERRABLE INITIALLY DEFERRED"
    " FOR EACH ROW WHEN (ROW(" RC_DEVICE_OLD ") IS DISTINCT FROM ROW(" RC_DEVICE_NEW "))"
    " EXECUTE FUNCTION rc_device();\n"
    RC_PG_TRIGGER("rc_devices_delete", "DELETE", "devices", "rc_device")
    RC_PG_FN("rc_account",
             "  PERFORM render_change_log('account:' || OLD.id);\n")
    RC_PG_TRIGGER("rc_accounts", "UPDATE OR DELETE", "accounts", "rc_account")
    RC_PG_FN("rc_set",
             "  IF TG_OP = 'DELETE' THEN PERFORM render_change_log(OLD.scope);\n"
             "  ELSE PERFORM render_change_log(NEW.scope);\n"
             "  END IF;\n")
    RC_PG_TRIGGER("rc_sets", "INSERT OR UPDATE OR DELETE", "param_sets", "rc_set")
    RC_PG_FN("rc_entry",
             "  IF TG_OP = 'DELETE' THEN PERFORM render_change_log(" RC_SET_SCOPE("OLD") ");\n"
             "  ELSE PERFORM render_change_log(" RC_SET_SCOPE("NEW") ");\n"
             "  END IF;\n")
    RC_PG_TRIGGER("rc_entries", "INSERT OR UPDATE OR DELETE", "param_entries", "rc_entry")
    RC_PG_FN("rc_secret",
             "  IF TG_OP = 'DELETE' THEN PERFORM render_change_log('device:' || OLD.mac);\n"
             "  ELSIF TG_OP = 'INSERT' THEN\n"
             "    IF EXISTS (SELECT 1 FROM device_secrets WHERE mac = NEW.mac AND id <> NEW.id)\n"
             "    THEN PERFORM render_change_log('device:' || NEW.mac); END IF;\n"
             "  ELSIF ROW(OLD.retired_at, OLD.key_sealed, OLD.dir_sealed, OLD.mac) IS DISTINCT\n"
             "    FROM ROW(NEW.retired_at, NEW.key_sealed, NEW.dir_sealed, NEW.mac) THEN\n"
             "    PERFORM render_change_log('device:' || NEW.mac);\n"
             "  END IF;\n")
    RC_PG_TRIGGER("rc_secrets", "INSERT OR UPDATE OR DELETE", "device_secrets", "rc_secret")
    RC_PG_FN("rc_member",
             "  IF TG_OP = 'DELETE' THEN PERFORM render_change_log('device:' || OLD.mac);\n"
             "  ELSE PERFORM render_change_log('device:' || NEW.mac);\n"
             "  END IF;\n")
    RC_PG_TRIGGER("rc_members", "INSERT OR UPDATE OR DELETE", "rollout_members", "rc_member")
    RC_PG_FN("rc_model",
             "  IF TG_OP = 'DELETE' THEN PERFORM render_change_log('model:' || OLD.model);\n"
             "  ELSE PERFORM render_change_log('model:' || NEW.model);\n"
             "  END IF;\n")
    RC_PG_TRIGGER("rc_plans", "INSERT OR UPDATE OR DELETE", "upgrade_plans", "rc_model")
    RC_PG_TRIGGER("rc_images", "INSERT OR UPDATE OR DELETE", "firmware_images", "rc_model")
    RC_PG_TRIGGER("rc_rollouts", "INSERT OR UPDATE OR DELETE", "rollouts", "rc_model");

/* Step 8 (issue 13 item 1, "fast on 1 000 000 devices"): the console's device search
 * filters by state, model and firmware and pages in MAC order (keyset), so each filter
 * gets an index ending in mac: `state = $x AND mac >= $cursor ORDER BY mac LIMIT n` is one
 * range of it, however rare the value.
 *
 * The dashboard's devices by state, model and firmware are counted as the devices change
 * rather than by reading a million rows per chart: triggers on devices append each change
 * (+1/-1 per value) to device_count_changes, and a read adds those to device_counts and
 * folds them in now and then (store_device_search.c). Appending, never updating a shared
 * counter row, is what keeps concurrent writers on PostgreSQL from queueing behind one
 * another (a phone's first fetch behind an import's transaction) or deadlocking; SQLite,
 * one writer at a time, adds to device_counts directly. NULL model and firmware count as
 * ''. The counts start from the devices already there. */
#define STEP8_COMMON                                                                               \
    "CREATE INDEX devices_state ON devices (state, mac);\n"                                       \
    "CREATE INDEX devices_model ON devices (model, mac);\n"                                       \
    "CREATE INDEX devices_firmware ON devices (firmware_version, mac);\n"                         \
    "CREATE TABLE device_counts (\n"                                                              \
    "  dimension TEXT NOT NULL CHECK (dimension IN ('state', 'model', 'firmware')),\n"          \
    "  value TEXT NOT NULL,\n"                                                                    \
    "  devices BIGINT NOT NULL,\n"                                                                \
    "  PRIMARY KEY (dimension, value)\n"                                                          \
    ");\n"                                                                                        \
    "CREATE TABLE device_count_changes (\n"                                                       \
    "  id {id},\n"                                                                                \
    "  dimension TEXT NOT NULL,\n"                                                                \
    "  value TEXT NOT NULL,\n"                                                                    \
    "  delta BIGINT NOT NULL\n"                                                                   \
    ");\n"                                                                                        \
    "INSERT INTO device_counts (dimension, value, devices)\n"                                     \
    "  SELECT 'state', state, COUNT(*) FROM devices GROUP BY state;\n"                            \
    "INSERT INTO device_counts (dimension, value, devices)\n"                                     \
    "  SELECT 'model', COALESCE(model, ''), COUNT(*) FROM devices GROUP BY COALESCE(model, '');\n" \
    "INSERT INTO device_counts (dimension, value, devices)\n"                                     \
    "  SELECT 'firmware', COALESCE(firmware_version, ''), COUNT(*) FROM devices\n"               \
    "  GROUP BY COALESCE(firmware_version, '');\n"
/* The rows one trigger appends, for a row r (NEW or OLD) and its sign. */
#define STEP8_ROWS(r, sign)                                                                        \
    "('state', " r ".state, " sign "), ('model', COALESCE(" r ".model, ''), " sign "), "         \
    "('firmware', COALESCE(" r ".firmware_version, ''), " sign ")"
/* An update appends only for the columns it changed: last_seen is written on every fetch. */
#define STEP8_CHANGED                                                                              \
    "OLD.state IS DISTINCT FROM NEW.state OR OLD.model IS DISTINCT FROM NEW.model "               \
    "OR OLD.firmware_version IS DISTINCT FROM NEW.firmware_version"
/* One arm per column and sign, each kept only when that column changed. */
#define STEP8_ARM(col, expr_old, expr_new)                                                         \
    "SELECT '" col "', " expr_old ", -1 WHERE " expr_old " IS DISTINCT FROM " expr_new           \
    " UNION ALL SELECT '" col "', " expr_new ", 1 WHERE " expr_old " IS DISTINCT FROM " expr_new
#define STEP8_UPDATE_ROWS                                                                          \
    STEP8_ARM("state", "OLD.state", "NEW.state")                                                   \
    " UNION ALL " STEP8_ARM("model", "COALESCE(OLD.model, '')", "COALESCE(NEW.model, '')")         \
    " UNION ALL " STEP8_ARM("firmware", "COALESCE(OLD.firmware_version, '')",                      \
                            "COALESCE(NEW.firmware_version, '')")
#define STEP8_APPEND "INSERT INTO device_count_changes (dimension, value, delta) "
static const char step8[] =
    STEP8_COMMON
    "CREATE FUNCTION devices_counted() RETURNS trigger LANGUAGE plpgsql AS $$\n"
    "BEGIN\n"
    "  IF TG_OP = 'INSERT' THEN\n"
    "    " STEP8_APPEND "VALUES " STEP8_ROWS("NEW", "1") ";\n"
    "  ELSIF TG_OP = 'DELETE' THEN\n"
    "    " STEP8_APPEND "VALUES " STEP8_ROWS("OLD", "-1") ";\n"
    "  ELSE\n"
    "    " STEP8_APPEND STEP8_UPDATE_ROWS ";\n"
    "  END IF;\n"
    "  RETURN NULL;\n"
    "END $$;\n"
    "CREATE TRIGGER devices_counted AFTER INSERT OR DELETE ON devices\n"
    "  FOR EACH ROW EXECUTE FUNCTION devices_counted();\n"
    /* WHEN is evaluated at the UPDATE itself: a fetch's last-seen update (which names
     * firmware_version, unchanged) calls no function. */
    "CREATE TRIGGER devices_counted_update AFTER UPDATE OF state, model, firmware_version\n"
    "  ON devices FOR EACH ROW WHEN (" STEP8_CHANGED ")\n"
    "  EXECUTE FUNCTION devices_counted();\n";
/* SQLite has one writer at a time, so its triggers add to the counters directly: nothing
 * piles up to fold, and an import writes no extra rows. */
#define STEP8_ADD                                                                                  \
    " ON CONFLICT (dimension, value) DO UPDATE SET devices = devices + excluded.devices"
static const char step8_sqlite[] =
    STEP8_COMMON
    "CREATE TRIGGER devices_counted_insert AFTER INSERT ON devices BEGIN\n"
    "  INSERT INTO device_counts (dimension, value, devices) VALUES " STEP8_ROWS("NEW", "1")
    STEP8_ADD ";\n"
    "END;\n"
    "CREATE TRIGGER devices_counted_delete AFTER DELETE ON devices BEGIN\n"
    "  INSERT INTO device_counts (dimension, value, devices) VALUES " STEP8_ROWS("OLD", "-1")
    STEP8_ADD ";\n"
    "END;\n"
    "CREATE TRIGGER devices_counted_update AFTER UPDATE OF state, model, firmware_version\n"
    "  ON devices WHEN " STEP8_CHANGED " BEGIN\n"
    "  INSERT INTO device_counts (dimension, value, devices) " STEP8_UPDATE_ROWS STEP8_ADD ";\n"
    "END;\n";

/* Step 9 (issue 13 item 1, "search by ... last seen"): a coarse copy of last_seen that an index
 * can afford. last_seen is rewritten at every fetch; an index on it would rewrite an index
 * entry per fetch and, on PostgreSQL, turn every last-seen update from a HOT update (the new
 * row version on the same page, no index touched) into one that inserts into each of the
 * table's seven indexes. seen_day is the UTC day of last_seen (last_seen / 86400; -1: never
 * seen), indexed with mac; it changes at most once a day per device, so at most one fetch a
 * day per device pays for an index write, and a search reads the days of its range from the
 * index and checks the exact last_seen on the rows (docs/store.md "Last seen").
 * A trigger keeps it, so no writer of last_seen can forget it; its condition is evaluated at
 * the UPDATE itself, and is false for every fetch but a device's first of the day. */
#define STEP9_DAY "COALESCE(NEW.last_seen / 86400, -1)"
#define STEP9_COMMON                                                                               \
    "ALTER TABLE devices ADD COLUMN seen_day BIGINT NOT NULL DEFAULT -1;\n"                        \
    "UPDATE devices SET seen_day = last_seen / 86400 WHERE last_seen IS NOT NULL;\n"              \
    "CREATE INDEX devices_seen ON devices (seen_day, mac);\n"
/* PostgreSQL: BEFORE, so the day goes into the row version being written (no second
 * version); a fetch whose day is unchanged leaves every indexed column as it was: HOT — when
 * the row's page has room for the new version. Pages filled to 100 % (the default) have none
 * until a prune frees some, so devices keeps 15 % of each page free (for the pages written
 * from now on; VACUUM FULL applies it to the old ones). */
static const char step9[] =
    "ALTER TABLE devices SET (fillfactor = 85);\n"
    STEP9_COMMON
    "CREATE FUNCTION devices_seen_day() RETURNS trigger LANGUAGE plpgsql AS $$\n"
    "BEGIN\n"
    "  NEW.seen_day := " STEP9_DAY ";\n"
    "  RETURN NEW;\n"
    "END $$;\n"
    "CREATE TRIGGER devices_seen_day BEFORE INSERT OR UPDATE OF last_seen ON devices\n"
    "  FOR EACH ROW WHEN (NEW.seen_day IS DISTINCT FROM " STEP9_DAY ")\n"
    "  EXECUTE FUNCTION devices_seen_day();\n";
/* SQLite rewrites the entries of every index whose column an UPDATE names, changed or not,
 * so the fetch's statement does not name seen_day: a trigger sets it when the day moved. */
static const char step9_sqlite[] =
    STEP9_COMMON
    "CREATE TRIGGER devices_seen_day AFTER UPDATE OF last_seen ON devices\n"
    "  WHEN NEW.seen_day IS NOT " STEP9_DAY " BEGIN\n"
    "  UPDATE devices SET seen_day = " STEP9_DAY " WHERE mac = NEW.mac;\n"
    "END;\n"
    "CREATE TRIGGER devices_seen_day_insert AFTER INSERT ON devices\n"
    "  WHEN NEW.seen_day IS NOT " STEP9_DAY " BEGIN\n"
    "  UPDATE devices SET seen_day = " STEP9_DAY " WHERE mac = NEW.mac;\n"
    "END;\n";

/* Step 10 (issue 13): CSV device imports run by the server. import_jobs keeps a job's
 * checkpoint and counts, import_files the uploaded file itself (bounded by the admin listener's
 * body limit) apart from them: every slice updates the job's row, and SQLite rewrites a whole
 * row, file and all, on an update. So a job outlives the page that started it and a restarted
 * server resumes it from its checkpoint; import_errors keeps one row per rejected line (the
 * file's own faults and the rows the store refused), read back in line order for the report. */
static const char step10[] =
    "CREATE TABLE import_jobs (\n"
    "  id {id},\n"
    "  name TEXT NOT NULL,\n"
    "  file_name TEXT NOT NULL DEFAULT '',\n"
    "  actor TEXT NOT NULL,\n"
    "  state TEXT NOT NULL DEFAULT 'running'\n"
    "    CHECK (state IN ('running', 'done', 'failed')),\n"
    "  size BIGINT NOT NULL,\n"
    "  total BIGINT NOT NULL,\n"
    "  next_line BIGINT NOT NULL DEFAULT 0,\n"
    "  done_rows BIGINT NOT NULL DEFAULT 0,\n"
    "  created BIGINT NOT NULL DEFAULT 0,\n"
    "  updated BIGINT NOT NULL DEFAULT 0,\n"
    "  unchanged BIGINT NOT NULL DEFAULT 0,\n"
    "  errors BIGINT NOT NULL DEFAULT 0,\n"
    "  reason TEXT NOT NULL DEFAULT '',\n"
    "  created_at BIGINT NOT NULL,\n"
    "  updated_at BIGINT NOT NULL,\n"
    "  finished_at BIGINT\n"
    ");\n"
    "CREATE INDEX import_jobs_state ON import_jobs (state, id);\n"
    "CREATE TABLE import_files (\n"
    "  job_id BIGINT PRIMARY KEY REFERENCES import_jobs(id) ON DELETE CASCADE,\n"
    "  body {blob} NOT NULL\n"
    ");\n"
    "CREATE TABLE import_errors (\n"
    "  job_id BIGINT NOT NULL REFERENCES import_jobs(id) ON DELETE CASCADE,\n"
    "  line BIGINT NOT NULL,\n"
    "  mac TEXT NOT NULL DEFAULT '',\n"
    "  field TEXT NOT NULL DEFAULT '',\n"
    "  reason TEXT NOT NULL,\n"
    "  PRIMARY KEY (job_id, line)\n"
    ");\n";

/* Step 11 (issue 13): one runner at a time per import job across the nodes sharing a store.
 * runner names the node whose runner holds the job (host:pid, import_job.h), lease_until the
 * second until which it holds it: another node takes the job only once that has passed, so
 * two nodes never work on the same slice (the checkpoint's compare-and-set kept a slice from
 * being applied twice, but both nodes did its work and one rolled it back). */
static const char step11[] =
    "ALTER TABLE import_jobs ADD COLUMN runner TEXT NOT NULL DEFAULT '';\n"
    "ALTER TABLE import_jobs ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0;\n";

static const pv_migration steps[] = {
    {1,
     "provisioning schema: accounts, devices, codes, parameters, secrets, firmware, reports, "
     "tokens, audit",
     step1, NULL},
    {2, "binding codes keyed by HMAC under the master key; the certificate that used a code",
     step2, NULL},
    {3, "API tokens carry a role (existing ones: admin); binding code ids never reused", step3,
     step3_sqlite},
    {4, "devices' last provisioning address; device action jobs and their outcomes", step4,
     NULL},
    {5, "logins (customer portal, operator roles) and their sessions", step5, NULL},
    {6, "firmware rollouts: stages, cohort membership, per-device upgrade outcomes", step6, NULL},
    {7, "render changes: what a node's profile cache must forget (triggers)", step7,
     step7_sqlite},
    {8, "devices indexed by state, model and firmware version (search); counts kept by "
        "triggers (dashboard)",
     step8, step8_sqlite},
    {9, "devices indexed by the day they were last seen (search by last seen, HOT-friendly)",
     step9, step9_sqlite},
    {10, "CSV device imports run by the server: the file, its checkpoint and its errors", step10,
     NULL},
    {11, "import jobs leased by one node's runner at a time (runner, lease_until)", step11, NULL},
};

const pv_store_table pv_store_tables[] = {
    {"accounts", "SELECT COUNT(*) FROM accounts"},
    {"devices", "SELECT COUNT(*) FROM devices"},
    {"device_counts", "SELECT COUNT(*) FROM device_counts"},
    {"device_count_changes", "SELECT COUNT(*) FROM device_count_changes"},
    {"binding_codes", "SELECT COUNT(*) FROM binding_codes"},
    {"rate_limits", "SELECT COUNT(*) FROM rate_limits"},
    {"param_sets", "SELECT COUNT(*) FROM param_sets"},
    {"param_entries", "SELECT COUNT(*) FROM param_entries"},
    {"device_secrets", "SELECT COUNT(*) FROM device_secrets"},
    {"firmware_images", "SELECT COUNT(*) FROM firmware_images"},
    {"upgrade_plans", "SELECT COUNT(*) FROM upgrade_plans"},
    {"rollouts", "SELECT COUNT(*) FROM rollouts"},
    {"rollout_stages", "SELECT COUNT(*) FROM rollout_stages"},
    {"rollout_members", "SELECT COUNT(*) FROM rollout_members"},
    {"reports", "SELECT COUNT(*) FROM reports"},
    {"admin_tokens", "SELECT COUNT(*) FROM admin_tokens"},
    {"audit_log", "SELECT COUNT(*) FROM audit_log"},
    {"notify_jobs", "SELECT COUNT(*) FROM notify_jobs"},
    {"import_jobs", "SELECT COUNT(*) FROM import_jobs"},
    {"import_files", "SELECT COUNT(*) FROM import_files"},
    {"import_errors", "SELECT COUNT(*) FROM import_errors"},
    {"notify_outcomes", "SELECT COUNT(*) FROM notify_outcomes"},
    {"logins", "SELECT COUNT(*) FROM logins"},
    {"sessions", "SELECT COUNT(*) FROM sessions"},
    {"render_stamp", "SELECT COUNT(*) FROM render_stamp"},
    {"render_changes", "SELECT COUNT(*) FROM render_changes"},
    {"meta", "SELECT COUNT(*) FROM meta"},
    {NULL, NULL},
};

size_t pv_migrations_count(void)
{
    return sizeof steps / sizeof steps[0];
}

const pv_migration *pv_migration_at(size_t i)
{
    return i < pv_migrations_count() ? &steps[i] : NULL;
}

int64_t pv_store_schema_known(void)
{
    return steps[pv_migrations_count() - 1].version;
}

void pv_migration_expand(const pv_migration *m, pv_sql_dialect d, pv_buf *out)
{
    static const struct {
        const char *token, *sqlite, *postgres;
    } types[] = {
        {"{id}", "INTEGER PRIMARY KEY", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"},
        {"{blob}", "BLOB", "BYTEA"},
    };
    const char *p = d == PV_SQL_SQLITE && m->sqlite_sql != NULL ? m->sqlite_sql : m->sql;
    while (*p != '\0') {
        size_t i = 0, n = sizeof types / sizeof types[0];
        for (; i < n; i++) {
            size_t len = strlen(types[i].token);
            if (strncmp(p, types[i].token, len) == 0) {
                pv_buf_append_str(out, d == PV_SQL_SQLITE ? types[i].sqlite : types[i].postgres);
                p += len;
                break;
            }
        }
        if (i == n)
            pv_buf_append_char(out, *p++);
    }
}

static const char sql_version[] = "SELECT COALESCE(MAX(version), 0) FROM schema_version";
static const char sql_record[] =
    "INSERT INTO schema_version (version, applied_at, description) VALUES ($1, $2, $3)";

int pv_store_schema_version(pv_store *s, int64_t *db_version, pv_error *err)
{
    return pv__int(s, sql_version, PV_NOARGS, db_version, err);
}

/* One step in its own transaction; the version is read again under the write
 * lock so that two processes migrating at once apply each step once. */
static int apply(pv_store *s, const pv_migration *m, bool *ran, pv_error *err)
{
    *ran = false;
    int rc = pv_store_begin(s, err);
    if (rc != 0)
        return rc;
    int64_t have = 0;
    rc = pv_store_schema_version(s, &have, err);
    if (rc == 0 && have < m->version) {
        pv_buf sql = {0};
        pv_migration_expand(m, s->be->dialect, &sql);
        rc = s->be->exec(s->db, sql.data, err);
        pv_buf_free(&sql);
        if (rc == 0)
            rc = pv__exec(s, sql_record,
                          PV_ARGS(PV_I(m->version), PV_I(time(NULL)), PV_T(m->description)), NULL,
                          err);
        *ran = rc == 0;
    }
    if (rc != 0) {
        pv_store_rollback(s);
        return pv__wrap(err, rc, "schema step %lld", (long long)m->version);
    }
    return pv_store_commit(s, err);
}

int pv_store_migrate(pv_store *s, int *applied, pv_error *err)
{
    int count = 0;
    int64_t have = 0;
    int rc = pv_store_schema_version(s, &have, err);
    if (rc == 0 && have > pv_store_schema_known())
        rc = pv_error_set(err, PV_ECONFLICT,
                          "database schema version %lld is newer than this program knows "
                          "(%lld): use a newer provisor",
                          (long long)have, (long long)pv_store_schema_known());
    for (size_t i = 0; rc == 0 && i < pv_migrations_count(); i++) {
        if (steps[i].version <= have)
            continue;
        bool ran = false;
        rc = apply(s, &steps[i], &ran, err);
        count += ran;
    }
    if (applied != NULL)
        *applied = count;
    return rc;
}
