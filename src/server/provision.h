/*
 * provision.h — the provisioning server's pv_handler (issue 4, DESIGN 3–8):
 * what `provisor serve` answers on its TFTP, HTTP and HTTPS listeners when
 * provisioning is on.
 *
 * Routing of a request (path with or without the TFTP's missing '/'):
 *
 *   POST/PUT, TFTP write to /<report_prefix>/<mac>.xml   report (reports.h)
 *   /firmware/<file>          a registered image from <data>/firmware, in waves
 *   any request               identity (identity.h); a certificate that
 *                             disagrees with the path or User-Agent → 403
 *   /<binding_prefix>/<code>  retail binding over HTTPS (binding.h) → SEC-PRV-1
 *   /<dir>/<mac>.cfg          the encrypted profile (render.h) from the current
 *                             or previous secret directory (keys.h); the first
 *                             fetch moves SEC-PRV-1 → SEC-PRV-2
 *   /$PSN.xml, /spa$PSN.cfg, /ata$PSN.cfg, /init.cfg   bootstrap profile
 *   /$MA.xml, /$MA.cfg        HTTPS with the device's certificate and an
 *                             account: SEC-PRV-1 (in-house flow); otherwise
 *                             the bootstrap profile
 *   anything else             the static file handler ([server] root)
 *
 * A static file that exists under the root wins over a bootstrap or MAC path
 * (a provider's own per-MAC files keep working), and a MAC path for a device
 * the store does not know goes to the static files too.
 *
 * The audit (prov_audit.h, docs/provisioning.md): an answer that changes
 * state writes its row in the same transaction, before answering; an
 * ordinary profile fetch is held until its row (and last-seen) committed
 * with the loop pass's batch; refusals and the bootstrap profile are
 * sampled and never wait for the store. A store failure is answered 503
 * with Retry-After, never 404 or 400 (store_fault.h).
 *
 * Threads: a pv_provision is shared and read-only after creation. Each loop
 * thread gets a pv_provision_loop with its own store handle (the store is not
 * thread-safe; SQLite WAL lets the handles share the file), its own render
 * cache, and its own pv_handler: give each loop's listeners the handler of
 * that loop's pv_provision_loop.
 *
 * Storms (DESIGN 8): profile requests are never answered 503. Rendering runs
 * on the loop thread and a cached render costs a few indexed reads, so
 * requests wait their turn in the loop instead of being shed. Firmware
 * downloads start in bounded waves (firmware_wave per firmware_wave_ms across
 * the process); a download beyond the wave waits on a timer for the next one,
 * up to queue_deadline_ms, and only then gets 503 (the phone retries after
 * Upgrade_Error_Retry_Delay).
 */
#ifndef PV_SERVER_PROVISION_H
#define PV_SERVER_PROVISION_H

#include "core/error.h"
#include "net/admission.h"
#include "net/fileserver.h"
#include "net/handler.h"
#include "server/prov_policy.h"
#include "store/store.h"

#include <uv.h>

typedef struct pv_provision_config {
    const char *db_path;      /* e.g. <data>/provisor.db */
    const char *master_key;   /* e.g. <data>/master.key (created 0600 when missing) */
    const char *firmware_dir; /* e.g. <data>/firmware (created when missing) */
    pv_prov_policy policy;
    pv_fileserver *files;        /* static files ([server] root); must outlive the pv_provision */
    unsigned reports_per_device; /* [provisioning] reports_per_device; 0 = the store's default */
    size_t report_max_bytes;     /* [provisioning] report_max_bytes; 0 = PV_REPORT_MAX_DEFAULT */
    unsigned reports_per_hour;   /* [provisioning] reports_per_hour; 0 = the default */
    unsigned audit_retention_days;      /* [store] audit_retention_days; 0 = no age bound */
    unsigned long long audit_max_rows;  /* [store] audit_max_rows; 0 = no size bound */
} pv_provision_config;

typedef struct pv_provision pv_provision;
typedef struct pv_provision_loop pv_provision_loop;

/* Opens and migrates the store once, loads the master key, opens firmware_dir. */
int pv_provision_new(const pv_provision_config *cfg, pv_provision **out, pv_error *err);
/* After every pv_provision_loop is freed. */
void pv_provision_free(pv_provision *p);

/* One loop's state: its store handle, cache, timers. */
int pv_provision_loop_new(pv_provision *p, uv_loop_t *loop, pv_provision_loop **out, pv_error *err);
pv_handler *pv_provision_loop_handler(pv_provision_loop *l);
/* This loop's admission queue for the HTTPS listener's TLS handshakes ([https]
 * handshake_rate), or NULL when handshakes are not limited. */
pv_admit_queue *pv_provision_loop_admit(pv_provision_loop *l);
/* Writes the loop's batched records (last-seen, profile.served audits, sampled
 * rows) now and sends the answers held for them. The loop does it by itself
 * at the end of every iteration; tests that drive the handler without
 * running the loop call it. */
void pv_provision_loop_flush(pv_provision_loop *l);
/* Answers waiting requests (503) and closes the loop's handles; the loop must
 * then run once more (uv_run) before pv_provision_loop_free. */
void pv_provision_loop_close(pv_provision_loop *l);
void pv_provision_loop_free(pv_provision_loop *l);

/*
 * The whole setup from `provisor serve`'s configuration ([provisioning],
 * listeners, data directory): policy, store paths, firmware directory.
 * Copies what it needs, so cfg may be freed afterwards (reloads).
 */
struct pv_config;
int pv_provision_from_config(const struct pv_config *cfg, pv_fileserver *files, pv_provision **out,
                             pv_error *err);
/* Called, on the provisioning loop's thread that served it and after its commit, when a
 * device completed its binding: its first fetch of its full profile moved it SEC-PRV-1 → 2
 * (retail code, in-house, legacy first key). The server sends it a NOTIFY then (push.h). Set
 * before the loops start. */
typedef void (*pv_provision_configured_fn)(void *data, const char *mac);
void pv_provision_on_configured(pv_provision *p, pv_provision_configured_fn fn, void *data);
/* The running policy (valid as long as p), so the admin API renders what phones get. */
const pv_prov_policy *pv_provision_policy(const pv_provision *p);
/* The policy alone, e.g. for `provisor device render`; strings borrowed from cfg. */
int pv_provision_policy_from_config(const struct pv_config *cfg, pv_prov_policy *pol,
                                    pv_error *err);

/* Opens a store the way the server does (open, migrate, master key). */
int pv_provision_open_store(const char *db_path, const char *master_key, pv_store **out,
                            pv_error *err);

#endif
