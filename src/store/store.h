/*
 * store.h — the provisioning store: the one storage interface of the server.
 *
 * Everything the provisioning policy (src/server) remembers goes through these
 * functions: accounts, devices, binding codes, layered parameter sets, device
 * keys and secret directories, firmware images and upgrade plans, reports,
 * admin tokens, the audit log, rate-limit counters. Callers never see SQL: the
 * entity code (store_*.c) is written once in portable SQL against a small
 * statement interface (store_int.h) that each backend implements: SQLite
 * (sqlite.c, WAL; the default, one node) and PostgreSQL 15 (postgres.c, libpq;
 * several nodes sharing one database), which is why the SQL keeps to what
 * both run (docs/store.md).
 *
 * Ownership: pv_store_open() gives the caller a handle it releases with
 * pv_store_close(). Rows returned by the get/list functions are filled with
 * memory the caller owns and releases with the matching *_free() function (a
 * zeroed row is valid to free). Inputs are only read during the call.
 *
 * Threads: a pv_store is NOT thread-safe. Open one handle per thread (the
 * server has one loop per core; a loop's handle is opened on the main thread
 * and handed over before the loop runs, so a handle may move between threads,
 * but only between transactions: inside one, every call must come from the
 * thread that began it, which debug builds assert); several handles on the same SQLite file are
 * the intended way to share it — WAL lets readers run beside the one writer,
 * and busy_timeout makes a writer wait for another instead of failing. On
 * PostgreSQL each handle is one connection, and any number of processes on
 * any number of hosts may open the same database.
 *
 * Errors: every function returns 0 or a negative PV_E* code and fills err (if
 * not NULL) with a message that names the row (MAC, account, scope...):
 *   PV_ENOENT   the row does not exist
 *   PV_EEXIST   a unique key is taken (duplicate MAC, account name, ...)
 *   PV_EINVAL   an argument is malformed (MAC, scope, state, JSON, ...)
 *   PV_ECONFLICT  the row changed meanwhile (version check), a code already used
 *   PV_EBUSY    another writer held the database too long (try again)
 *   PV_ESTORE   the database itself failed (I/O, corruption, connection lost)
 * Times are unix seconds passed in by the caller (the store reads no clock,
 * except for schema_version.applied_at), so tests and imports control time.
 */
#ifndef PV_STORE_STORE_H
#define PV_STORE_STORE_H

#include "core/buf.h"
#include "core/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pv_store pv_store;

/* ---- opening, schema, transactions ----------------------------------- */

/*
 * Opens the store named by url: a file path or `sqlite:PATH` (SQLite, created
 * if missing, WAL mode), or a PostgreSQL database named the libpq way — a
 * `postgres://` or `postgresql://` URL or a keyword string such as
 * `host=/run/postgresql dbname=provisor` (the database must exist; the schema
 * is created by pv_store_migrate). PV_ESTORE when the server cannot be
 * reached (within 10 s unless the URL sets connect_timeout).
 * Fails with PV_ECONFLICT when the database has a newer schema than this
 * program knows (an older binary must not write to it). An older schema is
 * opened so that pv_store_migrate() can bring it up to date.
 */
int pv_store_open(const char *url, pv_store **out, pv_error *err);
void pv_store_close(pv_store *s);
/* "sqlite" or "postgres". */
const char *pv_store_backend(const pv_store *s);
/* True when url names a PostgreSQL database rather than a file, so that a
 * caller skips its checks of the file (exists, directory...). */
bool pv_store_url_is_postgres(const char *url);
/* url fit for a log or a terminal: a PostgreSQL password (user:PASSWORD@ or
 * password=...) becomes "***"; other text is copied (truncated to size). */
void pv_store_url_redact(const char *url, char *out, size_t size);

/* Applies every pending migration, each in its own transaction; *applied (may
 * be NULL) receives how many ran. Re-running is a no-op. */
int pv_store_migrate(pv_store *s, int *applied, pv_error *err);
/* The schema version of the database (0 = empty) and the newest this code knows. */
int pv_store_schema_version(pv_store *s, int64_t *db_version, pv_error *err);
int64_t pv_store_schema_known(void);

/*
 * Transactions, which are also the batch API of bulk imports: every write
 * between pv_store_begin() and pv_store_commit() lands at once or not at all,
 * and costs one disk sync for the whole batch (100 000 device upserts in
 * batches of 1 000 take about a second). Nesting is allowed: inner levels are
 * savepoints, so a store function that needs several statements is atomic
 * whether or not the caller holds a transaction. pv_store_rollback() undoes
 * the innermost level.
 */
int pv_store_begin(pv_store *s, pv_error *err);
int pv_store_commit(pv_store *s, pv_error *err);
void pv_store_rollback(pv_store *s);

/* Pagination: limit rows after the key `after` (empty = from the start). A
 * list function sets page->after to the cursor of the next page, or to ""
 * when this was the last one: `do { list(s, &page, ...); } while (page.after[0]);` */
#define PV_STORE_PAGE_MAX 1000
typedef struct pv_store_page {
    size_t limit; /* 0 = 100; at most PV_STORE_PAGE_MAX */
    char after[80];
} pv_store_page;

/* ---- accounts --------------------------------------------------------- */

typedef struct pv_store_account {
    int64_t id;      /* assigned by the store */
    char *name;      /* unique handle: the provider's customer number */
    char *customer;  /* display name of the customer */
    char *settings;  /* JSON object: SIP lines, hunt group, speed dials, user-changeable
                        features; its meaning is validated by the caller (server) */
    int64_t version; /* bumped on every change: part of the rendering cache key */
    int64_t created_at, updated_at;
} pv_store_account;

/* settings NULL = "{}". Must be a JSON object. */
int pv_store_account_create(pv_store *s, const pv_store_account *a, int64_t now, int64_t *id,
                            pv_error *err);
int pv_store_account_get(pv_store *s, int64_t id, pv_store_account *out, pv_error *err);
int pv_store_account_get_by_name(pv_store *s, const char *name, pv_store_account *out,
                                 pv_error *err);
/* Updates name, customer and settings of a->id. a->version is the version the
 * caller read: PV_ECONFLICT if it changed meanwhile (0 skips the check).
 * *new_version (may be NULL) receives the new version. */
int pv_store_account_update(pv_store *s, const pv_store_account *a, int64_t now,
                            int64_t *new_version, pv_error *err);
/* Deletes the account, its codes and parameter set; its devices become unassigned. */
int pv_store_account_delete(pv_store *s, int64_t id, pv_error *err);
int pv_store_account_list(pv_store *s, pv_store_page *page, pv_store_account **rows, size_t *n,
                          pv_error *err);
void pv_store_account_free(pv_store_account *a);
void pv_store_accounts_free(pv_store_account *rows, size_t n);

/* ---- devices ----------------------------------------------------------- */

typedef enum {
    PV_STATE_MFG_RESET, /* factory defaults (spec 12.2) */
    PV_STATE_SP_CUST,   /* points at the provider */
    PV_STATE_SEC_PRV_1, /* has its device key and secret directory */
    PV_STATE_SEC_PRV_2, /* fetches the encrypted full profile */
} pv_store_state;

/* "MFG-RESET", "SP-CUST", "SEC-PRV-1", "SEC-PRV-2". */
const char *pv_store_state_name(pv_store_state st);
int pv_store_state_parse(const char *name, pv_store_state *out);

/* Normalises a MAC (12 hex digits, optionally separated by ':' or '-') to the
 * $MA form: lower case, no separators (spec 2.2). */
int pv_store_mac_normalize(const char *in, char out[13], pv_error *err);

typedef struct pv_store_device {
    char mac[13];           /* key, $MA form */
    char *serial;           /* $SN, or NULL */
    char *model;            /* e.g. "CP-8841-3PCC", or NULL */
    int64_t account_id;     /* 0 = not assigned */
    char *cert_fingerprint; /* SHA-256 of the client certificate, hex; or NULL */
    bool require_cert;      /* DESIGN 3: serve nothing without a verified certificate */
    pv_store_state state;
    int64_t last_seen;      /* 0 = never */
    char *firmware_version; /* last $SWVER seen, or NULL */
    int64_t last_report_id; /* 0 = none */
    char *served_version;   /* content version (ETag) last served, or NULL */
    char *served_hash;      /* SHA-256 hex of the body last served, or NULL */
    int64_t version;        /* bumped when a field that rendering uses changes */
    int64_t created_at, updated_at;
    char *last_address; /* IP it last fetched its profile from (direct NOTIFY), or NULL */
} pv_store_device;

/*
 * Bulk-import upsert by MAC: creates the device (state MFG-RESET) or updates
 * serial, model, account, certificate fingerprint and require_cert of an
 * existing one; a NULL string or account_id 0 keeps the stored value, so an
 * import re-run is idempotent. *created (may be NULL) says which happened.
 * Wrap batches in pv_store_begin/commit for speed.
 */
int pv_store_device_upsert(pv_store *s, const pv_store_device *d, int64_t now, bool *created,
                           pv_error *err);
/* Creates a device; PV_EEXIST when the MAC is taken. */
int pv_store_device_create(pv_store *s, const pv_store_device *d, int64_t now, pv_error *err);
int pv_store_device_get(pv_store *s, const char *mac, pv_store_device *out, pv_error *err);
/* Sets serial, model, account, fingerprint, require_cert and state from d (NULL clears). */
int pv_store_device_update(pv_store *s, const pv_store_device *d, int64_t now, pv_error *err);
/* Compare-and-set of the provisioning state: PV_ECONFLICT unless it is `from`. */
int pv_store_device_set_state(pv_store *s, const char *mac, pv_store_state from, pv_store_state to,
                              int64_t now, pv_error *err);
/* Assigns the device to an account (binding, DESIGN 5). */
int pv_store_device_assign(pv_store *s, const char *mac, int64_t account_id, int64_t now,
                           pv_error *err);
/* Records a fetch: last_seen = now and, when not NULL, firmware version, the
 * content version and hash just served, and the address it came from (where a
 * direct NOTIFY goes, spec 5.5). Does not bump the version. */
int pv_store_device_seen(pv_store *s, const char *mac, int64_t now, const char *firmware_version,
                         const char *served_version, const char *served_hash, const char *address,
                         pv_error *err);
int pv_store_device_delete(pv_store *s, const char *mac, pv_error *err);
/* Releases a bound device (issue 11.1) so that a code may bind it again: no
 * account, no pinned certificate, state SP-CUST, every secret retired (its
 * directories answer 404, its key decrypts nothing new). Serial, model,
 * require_cert and its history stay. */
int pv_store_device_release(pv_store *s, const char *mac, int64_t now, pv_error *err);
/* Devices in MAC order; account_id > 0 restricts to one account. */
int pv_store_device_list(pv_store *s, int64_t account_id, pv_store_page *page,
                         pv_store_device **rows, size_t *n, pv_error *err);
void pv_store_device_free(pv_store_device *d);
void pv_store_devices_free(pv_store_device *rows, size_t n);

/* ---- binding codes (DESIGN 5) ------------------------------------------ */

typedef struct pv_store_code {
    int64_t id, account_id;
    char hint[3]; /* first two characters, for people; never the whole code */
    int64_t created_at, expires_at;
    int64_t used_at;      /* 0 = unused */
    char used_by[13];     /* MAC that used it, or "" */
    int64_t attempts;     /* redemption attempts so far */
    int64_t max_attempts; /* the code locks beyond this */
} pv_store_code;

/* Stores HMAC-SHA256(code) under the master key (secrets.h), never the code;
 * PV_EACCES without a master key loaded. max_attempts 0 = 5. */
int pv_store_code_create(pv_store *s, int64_t account_id, const char *code, int64_t expires_at,
                         int64_t max_attempts, int64_t now, int64_t *id, pv_error *err);
/* How long after its use a code still answers the phone that used it (issue 19.3),
 * when the code expires sooner. */
#define PV_STORE_CODE_RETRY 3600
/*
 * Uses a code for device mac, whose certificate has fingerprint: single use,
 * atomic. Every attempt on an existing code is counted, the failed ones too.
 * Returns 0 and *account_id, or PV_ENOENT (no such code), PV_ECONFLICT
 * (already used), PV_ETIMEDOUT (expired), PV_ELIMIT (too many attempts:
 * locked). The redeemer asking again — same MAC, same certificate
 * fingerprint, before the code expires or within PV_STORE_CODE_RETRY of its
 * use — gets 0 with *again set: its answer was lost, the code stays used.
 */
int pv_store_code_redeem(pv_store *s, const char *code, const char *mac, const char *fingerprint,
                         int64_t now, int64_t *account_id, bool *again, pv_error *err);
int pv_store_code_list(pv_store *s, int64_t account_id, pv_store_page *page, pv_store_code **rows,
                       size_t *n, pv_error *err);
int pv_store_code_delete(pv_store *s, int64_t id, pv_error *err);

/*
 * A fixed-window counter for rate limiting (per source address, per code
 * prefix...): counts one hit on key in the window [now - now % window, ...)
 * and returns PV_ELIMIT when more than limit hits fell in it. *count (may be
 * NULL) receives the count including this hit.
 */
int pv_store_rate_hit(pv_store *s, const char *key, int64_t now, int64_t window, int64_t limit,
                      int64_t *count, pv_error *err);
/* The count of key's current window, without a hit (0 when none). */
int pv_store_rate_count(pv_store *s, const char *key, int64_t now, int64_t window, int64_t *count,
                        pv_error *err);
/* Deletes at most chunk counters whose window started before `before` (the
 * longest window in use has passed since); *deleted receives how many. */
int pv_store_rate_prune(pv_store *s, int64_t before, int64_t chunk, int64_t *deleted,
                        pv_error *err);

/*
 * Text the store keeps is UTF-8 without control characters (core/text.h):
 * every write of a parameter, a device's model or serial, an account's name,
 * customer or settings is refused with PV_EINVAL naming the field otherwise.
 * This checks every key and string of a JSON value the same way, naming the
 * place ("account settings: lines[0].user: byte 3 is a control character
 * (U+0001)..."); the admin API applies it to every request body. what ("" for
 * none) starts the message; where (may be NULL) receives the path of the
 * refused string, or of the object whose key was refused.
 */
struct json_t;
int pv_store_json_text_check(const struct json_t *v, const char *what, char *where, size_t size,
                             pv_error *err);

/* ---- layered parameter sets (DESIGN 4) --------------------------------- */

/* A scope names a layer: "global", "model:<name>", "account:<id>", "device:<mac>". */
int pv_store_scope_check(const char *scope, pv_error *err);

typedef struct pv_store_param {
    char *name;
    char *value;
    char ua[3]; /* "na", "ro", "rw", or "" = no attribute (spec 3.1) */
} pv_store_param;

typedef struct pv_store_param_set {
    int64_t id;
    char *scope;
    int64_t version; /* bumped on every change of an entry: the rendering cache key */
    int64_t updated_at;
    pv_store_param *entries; /* in name order */
    size_t n;
} pv_store_param_set;

/* True for a parameter sealed at rest under the master key: its name holds "password",
 * "passwd" or "secret", in any case (Password_1_, Admin_Passwd, ...). With a master key
 * loaded (pv_store_secrets_load) such values are stored sealed and read back in plain. */
bool pv_store_param_is_secret(const char *name);

/* Sets one entry (creating the set); ua NULL or "" = no attribute. */
int pv_store_param_put(pv_store *s, const char *scope, const char *name, const char *value,
                       const char *ua, int64_t now, pv_error *err);
int pv_store_param_delete(pv_store *s, const char *scope, const char *name, int64_t now,
                          pv_error *err);
/* Replaces all entries of a set at once (one version bump). */
int pv_store_params_replace(pv_store *s, const char *scope, const pv_store_param *entries, size_t n,
                            int64_t now, pv_error *err);
/* The set with its entries; PV_ENOENT when the scope has no set. */
int pv_store_params_get(pv_store *s, const char *scope, pv_store_param_set *out, pv_error *err);
/* Only the version (0 when the scope has no set): cheap, for cache checks. */
int pv_store_params_version(pv_store *s, const char *scope, int64_t *version, pv_error *err);
int pv_store_params_delete(pv_store *s, const char *scope, pv_error *err);
/* Sets (without entries) in scope order. */
int pv_store_params_list(pv_store *s, pv_store_page *page, pv_store_param_set **rows, size_t *n,
                         pv_error *err);
void pv_store_param_set_free(pv_store_param_set *p);
void pv_store_param_sets_free(pv_store_param_set *rows, size_t n);

/* ---- device keys and secret directories (DESIGN 6) --------------------- */

/*
 * Loads the master key file that encrypts keys and directory names at rest
 * (AES-256-GCM, secrets.h), creating it (0600) when create is true and it is
 * missing. The first load stores a check value in the database; a later load
 * of another key fails with PV_EDECRYPT and says so.
 */
int pv_store_secrets_load(pv_store *s, const char *key_path, bool create, pv_error *err);
/* Whether a master key is loaded (sealing and opening work). */
bool pv_store_secrets_loaded(const pv_store *s);

typedef struct pv_store_secret {
    int64_t id;
    unsigned char key[32]; /* AES-256 key the phone holds in GPP_SA */
    char dir[64];          /* random directory ($B) */
    int64_t created_at;
    int64_t confirmed_at; /* 0 until the phone fetched with this key */
} pv_store_secret;

/*
 * Starts a new key and directory for mac (key NULL or dir NULL: random ones)
 * and returns it in *out (may be NULL). The previous key stays valid until the
 * phone confirms the new one; any older one is retired now.
 */
int pv_store_secret_rotate(pv_store *s, const char *mac, const unsigned char *key, const char *dir,
                           int64_t now, pv_store_secret *out, pv_error *err);
/* The current secret and, while it is unconfirmed, the previous one
 * (*has_previous). PV_ENOENT when the device has none. */
int pv_store_secret_get(pv_store *s, const char *mac, pv_store_secret *current,
                        pv_store_secret *previous, bool *has_previous, pv_error *err);
/* The phone fetched with secret id: confirm it and retire the older ones. */
int pv_store_secret_confirm(pv_store *s, const char *mac, int64_t id, int64_t now, pv_error *err);
/* How many secrets the device ever had (rotation history, retired ones included). */
int pv_store_secret_history(pv_store *s, const char *mac, int64_t *count, pv_error *err);

/* ---- everything one render reads (server/render.h) --------------------- */

/* The layers of DESIGN 4 in the order they apply: their scopes are "global",
 * "model:<model>", "account:<id>" and "device:<mac>". */
enum { PV_LAYER_GLOBAL, PV_LAYER_MODEL, PV_LAYER_ACCOUNT, PV_LAYER_DEVICE, PV_LAYERS };

typedef struct pv_store_firmware pv_store_firmware;
typedef struct pv_store_plan pv_store_plan;
typedef struct pv_store_rollout_view pv_store_rollout_view; /* store_rollouts.h */

typedef struct pv_store_render_input {
    pv_store_device device;
    pv_store_account *account;          /* NULL: the device belongs to no account */
    pv_store_param_set sets[PV_LAYERS]; /* by layer; id 0 (version 0): no set in that scope */
    pv_store_plan *plan;                /* NULL: no upgrade plan for the device's model */
    pv_store_rollout_view *rollout;     /* NULL: no rollout names the model (server/rollout.h) */
    pv_store_firmware *firmware;        /* with a plan or rollout: the model's images, id order */
    size_t nfirmware;
    pv_store_secret current, previous; /* with_secrets: as pv_store_secret_get */
    bool has_secret, has_previous;
} pv_store_render_input;

/*
 * Everything a render of device mac reads, in ONE statement: one round trip
 * to PostgreSQL and one consistent snapshot on either backend (issue 18). The
 * device, its account, each layer's parameter set with its entries (secret
 * values opened), the model's upgrade plan, newest rollout (with the device's
 * membership) and firmware images and, when
 * with_secrets, the device's live secrets unsealed (has_secret false when it
 * has none or no master key is loaded). PV_ENOENT for an unknown device.
 * Released with pv_store_render_input_free (a zeroed one is valid to free).
 */
int pv_store_render_load(pv_store *s, const char *mac, bool with_secrets,
                         pv_store_render_input *out, pv_error *err);
void pv_store_render_input_free(pv_store_render_input *in);

/* ---- what cached profiles must forget (server/prov_cache.h) ------------ */

/*
 * Schema step 7 logs every committed change that can alter what a device is
 * served as one row naming its scope: "device:<mac>", "account:<id>",
 * "model:<model>" or "global" (docs/store.md, render_changes). Rows are
 * numbered without gaps in commit order, so a reader that saw n has seen
 * everything up to n.
 *
 * pv_store_render_changes calls fn for each row after `after`, in order, at
 * most limit of them, and sets *last to the last one passed (after when
 * none); *gap is true when the row after `after` is gone (pruned: the reader
 * missed changes and must forget everything).
 */
typedef void (*pv_store_change_fn)(void *ctx, int64_t seq, const char *scope);
int pv_store_render_changes(pv_store *s, int64_t after, size_t limit, pv_store_change_fn fn,
                            void *ctx, int64_t *last, bool *gap, pv_error *err);
/* The number of the newest change (0: none yet). */
int pv_store_render_stamp(pv_store *s, int64_t *seq, pv_error *err);
/* Deletes up to limit rows logged before `before` (never the newest). *n: how many. */
int pv_store_render_changes_prune(pv_store *s, int64_t before, int64_t limit, int64_t *n,
                                  pv_error *err);

/*
 * Process-wide: how many write transactions (or single write statements)
 * this process's store handles have committed, except those of quiet handles.
 * It moves after the commit, so a reader of the change log that sees it move
 * and then reads the log finds the change: a node's own edits (the admin API,
 * the console, a binding) reach its caches before the next answer, with no
 * read per request (server/prov_cache.h).
 */
uint64_t pv_store_write_epoch(void);
/* Commits on s stop (true) or resume counting: for writes that change no
 * profile, such as the provisioning loop's batch of last-seen and audit rows. */
void pv_store_quiet_writes(pv_store *s, bool quiet);

/* Statements this handle has sent to its database: on PostgreSQL each one is
 * a round trip to the server, and so is the PREPARE before a statement's
 * first run on a connection. For tests and diagnostics (a render costs one). */
uint64_t pv_store_statements(const pv_store *s);

/* ---- firmware images and upgrade plans --------------------------------- */

typedef struct pv_store_firmware {
    int64_t id;
    char *model, *version, *file_name;
    char *sha256; /* hex */
    int64_t size;
    char *kind;  /* "loads" (multiplatform manifest) or "bin" (SPA image) */
    char *files; /* JSON array of the files a .loads lists ("[]" for bin) */
    int64_t created_at;
} pv_store_firmware;

/* PV_EEXIST when (model, version) is registered. */
int pv_store_firmware_add(pv_store *s, const pv_store_firmware *f, int64_t now, int64_t *id,
                          pv_error *err);
int pv_store_firmware_get(pv_store *s, int64_t id, pv_store_firmware *out, pv_error *err);
int pv_store_firmware_find(pv_store *s, const char *model, const char *version,
                           pv_store_firmware *out, pv_error *err);
int pv_store_firmware_delete(pv_store *s, int64_t id, pv_error *err);
/* Images in id order; model NULL = all models. */
int pv_store_firmware_list(pv_store *s, const char *model, pv_store_page *page,
                           pv_store_firmware **rows, size_t *n, pv_error *err);
void pv_store_firmware_free(pv_store_firmware *f);
void pv_store_firmwares_free(pv_store_firmware *rows, size_t n);

typedef struct pv_store_plan {
    char *model; /* key */
    char *target_version;
    char *stages; /* JSON array of allowed direct steps [["A","B"],["B","C"]];
                     the planner (server) validates it and walks it */
    int64_t version;
    int64_t updated_at;
} pv_store_plan;

int pv_store_plan_put(pv_store *s, const pv_store_plan *p, int64_t now, pv_error *err);
int pv_store_plan_get(pv_store *s, const char *model, pv_store_plan *out, pv_error *err);
int pv_store_plan_delete(pv_store *s, const char *model, pv_error *err);
int pv_store_plan_list(pv_store *s, pv_store_page *page, pv_store_plan **rows, size_t *n,
                       pv_error *err);
void pv_store_plan_free(pv_store_plan *p);
void pv_store_plans_free(pv_store_plan *rows, size_t n);

/* ---- reports (spec 7) -------------------------------------------------- */

typedef struct pv_store_report {
    int64_t id;
    char mac[13];
    int64_t received_at;
    char *kind; /* "full", "delta" or "status" */
    char *body; /* decrypted upload */
    size_t body_len;
} pv_store_report;

/* Reports kept per device unless pv_store_set_reports_per_device says otherwise. */
#define PV_STORE_REPORTS_PER_DEVICE 20

/* How many reports this handle keeps per device ([provisioning]
 * reports_per_device); 0 = PV_STORE_REPORTS_PER_DEVICE. */
void pv_store_set_reports_per_device(pv_store *s, unsigned n);

/* Stores a report, makes it the device's last report, and deletes the
 * device's older reports beyond the handle's reports_per_device, in one
 * transaction: the reports table stays bounded however often a device
 * (or a flood posing as it) reports. */
int pv_store_report_add(pv_store *s, const char *mac, const char *kind, const void *body,
                        size_t len, int64_t now, int64_t *id, pv_error *err);
int pv_store_report_get(pv_store *s, int64_t id, pv_store_report *out, pv_error *err);
/* Reports in id order; mac NULL = all devices. */
int pv_store_report_list(pv_store *s, const char *mac, pv_store_page *page, pv_store_report **rows,
                         size_t *n, pv_error *err);
void pv_store_report_free(pv_store_report *r);
void pv_store_reports_free(pv_store_report *rows, size_t n);

/* ---- admin tokens ------------------------------------------------------ */

typedef struct pv_store_token {
    int64_t id;
    char *name;
    char *role;         /* admin, operator, viewer or customer (server/roles.h) */
    int64_t account_id; /* the one account of a customer token; 0 for the others */
    int64_t created_at, last_used_at, revoked_at; /* 0 = never */
} pv_store_token;

/* Stores SHA-256(token) under a unique name, with its role and (customer) account.
 * Minting is server/tokens.h's: callers outside it go through pv_token_mint. */
int pv_store_token_create(pv_store *s, const char *name, const char *token, const char *role,
                          int64_t account_id, int64_t now, int64_t *id, pv_error *err);
/* Finds the token (PV_ENOENT), refuses a revoked one (PV_EACCES), records its use. */
int pv_store_token_check(pv_store *s, const char *token, int64_t now, pv_store_token *out,
                         pv_error *err);
int pv_store_token_revoke(pv_store *s, const char *name, int64_t now, pv_error *err);
int pv_store_token_list(pv_store *s, pv_store_page *page, pv_store_token **rows, size_t *n,
                        pv_error *err);
void pv_store_token_free(pv_store_token *t);
void pv_store_tokens_free(pv_store_token *rows, size_t n);

/* ---- audit log --------------------------------------------------------- */

typedef struct pv_store_audit {
    int64_t id;
    int64_t at;
    char *actor;        /* "token:<name>" or "device:<mac>" */
    char *action;       /* e.g. "profile.served", "device.update" */
    char *subject;      /* what it acted on, e.g. a MAC */
    char *content_hash; /* SHA-256 hex of what was served, or NULL */
    char *detail;       /* free text or JSON, or NULL */
} pv_store_audit;

int pv_store_audit_add(pv_store *s, const pv_store_audit *a, int64_t *id, pv_error *err);
/* Entries in id (time) order; subject NULL = all. */
int pv_store_audit_list(pv_store *s, const char *subject, pv_store_page *page,
                        pv_store_audit **rows, size_t *n, pv_error *err);
/* Retention: deletes at most chunk of the oldest entries that are older than
 * `before` (0: no age bound) or beyond the newest max_rows (0: no size
 * bound); *deleted receives how many. Call again while *deleted == chunk. */
int pv_store_audit_prune(pv_store *s, int64_t before, int64_t max_rows, int64_t chunk,
                         int64_t *deleted, pv_error *err);
void pv_store_audit_free(pv_store_audit *a);
void pv_store_audits_free(pv_store_audit *rows, size_t n);

/* ---- device action jobs (spec 5.5 NOTIFY; server/notify_record.h) ------ */

typedef struct pv_store_notify_job {
    int64_t id;          /* assigned by the store */
    char action[24];     /* resync, reboot, restart, report-request */
    char subject[80];    /* a MAC, an account, a model, "all", "macs" */
    char actor[64];      /* who asked (audit's actor) */
    int64_t total, rate; /* devices, NOTIFYs started per second */
    int64_t created_at;
    int64_t finished_at; /* 0 while running */
} pv_store_notify_job;

typedef struct pv_store_notify_outcome {
    char mac[13];
    char outcome[16]; /* pending, ok, not-registered, auth-failed, refused, timeout, error,
                         interrupted (the server stopped first) */
    int64_t status, attempts;
    bool challenged;
    char via[8];         /* proxy, direct, "" */
    int64_t finished_at; /* 0 while pending */
    int64_t job_id;      /* in lists by device */
} pv_store_notify_outcome;

/* Creates the job (j->id set) and one pending outcome per MAC, in one transaction. */
int pv_store_notify_job_create(pv_store *s, pv_store_notify_job *j, const char (*macs)[13],
                               size_t n, pv_error *err);
/* Records finished outcomes of job (one transaction); when none is pending any more the job
 * is finished at now. */
int pv_store_notify_outcomes_set(pv_store *s, int64_t job, const pv_store_notify_outcome *rows,
                                 size_t n, int64_t now, pv_error *err);
/* At a start: outcomes still pending (the previous process stopped before their answer)
 * become "interrupted" and their jobs finish. *count: outcomes changed. */
int pv_store_notify_interrupted(pv_store *s, int64_t now, int64_t *count, pv_error *err);
int pv_store_notify_job_get(pv_store *s, int64_t id, pv_store_notify_job *out, pv_error *err);
/* How many of job's outcomes each outcome name has: calls fn per (name, count). */
int pv_store_notify_job_counts(pv_store *s, int64_t id,
                               void (*fn)(void *data, const char *outcome, int64_t count),
                               void *data, pv_error *err);
/* Jobs, newest first (cursor: the last id). */
int pv_store_notify_job_list(pv_store *s, pv_store_page *page, pv_store_notify_job **rows,
                             size_t *n, pv_error *err);
/* A job's outcomes in MAC order, or (job 0) one device's outcomes newest job first. */
int pv_store_notify_outcome_list(pv_store *s, int64_t job, const char *mac, pv_store_page *page,
                                 pv_store_notify_outcome **rows, size_t *n, pv_error *err);

/* ---- small named values (import checkpoints, key check) ---------------- */

int pv_store_meta_set(pv_store *s, const char *name, const void *value, size_t len, pv_error *err);
/* Replaces out's content; PV_ENOENT when unset. */
int pv_store_meta_get(pv_store *s, const char *name, pv_buf *out, pv_error *err);

/* ---- logins and sessions (issue 10 item 3) ------------------------------
 *
 * People who log in to a web page: customers in the portal (each belongs to
 * one account and sees only it) and, later, operators in a console (no
 * account; a role). The store keeps what must be shared by every node of a
 * PostgreSQL cluster: the password hash (an argon2id string the caller
 * computed, server/password.h), the failure count and lockout, and the
 * sessions. A session is kept as the SHA-256 of its secret token, never the
 * token: a copied database opens no session. The policy (how many failures
 * lock, for how long, how long a session lives) is the caller's.
 */

typedef struct pv_store_login {
    int64_t id;
    char *name;            /* unique over every account: what the person types */
    int64_t account_id;    /* a customer's account; 0 for the operator roles */
    char role[12];         /* customer, viewer, operator or admin (server/roles.h) */
    char *password_hash;   /* argon2id PHC string */
    int64_t failed_count;  /* failures since the last success */
    int64_t locked_until;  /* 0 = not locked */
    int64_t last_login_at; /* 0 = never */
    int64_t created_at, updated_at;
} pv_store_login;

/* Login names: 1 to 64 bytes of letters, digits and . _ @ + - (an e-mail fits). */
int pv_store_login_name_check(const char *name, pv_error *err);
/* Creates l (name, account_id, role, password_hash); PV_EEXIST when the name is taken,
 * PV_EINVAL when a customer has no account or an operator role has one. */
int pv_store_login_create(pv_store *s, const pv_store_login *l, int64_t now, int64_t *id,
                          pv_error *err);
int pv_store_login_get(pv_store *s, const char *name, pv_store_login *out, pv_error *err);
int pv_store_login_get_id(pv_store *s, int64_t id, pv_store_login *out, pv_error *err);
/* A new password hash: clears the failures and the lock, and ends every session of the
 * login (whoever knew the old password is logged out). */
int pv_store_login_set_password(pv_store *s, const char *name, const char *password_hash,
                                int64_t now, pv_error *err);
/* Counts one failed attempt, atomically: once failed_count reaches max_failures the login
 * is locked until now + lock_seconds (and again at each further failure, until a success).
 * *out (may be NULL) receives the row after the update. */
int pv_store_login_failed(pv_store *s, int64_t id, int64_t now, int64_t max_failures,
                          int64_t lock_seconds, pv_store_login *out, pv_error *err);
/* A successful login: failures cleared, last_login_at = now. */
int pv_store_login_succeeded(pv_store *s, int64_t id, int64_t now, pv_error *err);
/* Deletes the login and its sessions. */
int pv_store_login_delete(pv_store *s, const char *name, pv_error *err);
/* Logins in id order; account_id > 0 restricts to one account's. */
int pv_store_login_list(pv_store *s, int64_t account_id, pv_store_page *page, pv_store_login **rows,
                        size_t *n, pv_error *err);
void pv_store_login_free(pv_store_login *l);
void pv_store_logins_free(pv_store_login *rows, size_t n);

typedef struct pv_store_session {
    int64_t login_id;
    int64_t created_at, last_seen_at, expires_at;
} pv_store_session;

/* Stores SHA-256(token) for login_id, valid until expires_at (absolute). */
int pv_store_session_create(pv_store *s, const char *token, int64_t login_id, int64_t now,
                            int64_t expires_at, pv_error *err);
/* The session of token: PV_ENOENT when unknown, when expires_at has passed or when it was
 * last seen idle_seconds or more ago (0: no idle limit). Expired rows are deleted. */
int pv_store_session_get(pv_store *s, const char *token, int64_t now, int64_t idle_seconds,
                         pv_store_session *out, pv_error *err);
/* last_seen_at = now (the caller does it at most once a minute: a write per page is waste). */
int pv_store_session_touch(pv_store *s, const char *token, int64_t now, pv_error *err);
/* Logout: the session is gone (no error when it already was). */
int pv_store_session_delete(pv_store *s, const char *token, pv_error *err);
/* Deletes at most chunk sessions that expired before `before`, or were last seen before
 * idle_before (0: no idle bound); *deleted receives how many. */
int pv_store_session_prune(pv_store *s, int64_t before, int64_t idle_before, int64_t chunk,
                           int64_t *deleted, pv_error *err);

/* ---- maintenance (provisor db) ----------------------------------------- */

/* Row counts of every table, for `provisor db check`. */
typedef struct pv_store_count {
    const char *table;
    int64_t rows;
} pv_store_count;

/* Integrity and foreign-key checks: 0 when clean, else PV_ESTORE with the
 * first problems listed in report (one per line). Appends the counts per
 * table to counts (up to max, *n set). */
int pv_store_check(pv_store *s, pv_buf *report, pv_store_count *counts, size_t max, size_t *n,
                   pv_error *err);
/* A consistent copy of the live database at path, written to a temporary
 * file and renamed, so path never holds a partial backup. SQLite only: on
 * PostgreSQL PV_ENOTSUP with a message naming pg_dump, the tool for it. */
int pv_store_backup(pv_store *s, const char *path, pv_error *err);

#endif
