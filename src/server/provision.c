/* provision.c — the provisioning pv_handler: routing and answers; see provision.h and
 * provision_int.h. */
#include "server/provision_int.h"

#include "core/alloc.h"
#include "net/sockaddr.h"
#include "server/binding.h"
#include "server/bootstrap.h"
#include "server/firmware.h"
#include "server/keys.h"
#include "server/job_metrics.h"
#include "server/prov_firmware.h"
#include "server/prov_route.h"
#include "server/render.h"
#include "server/reports.h"
#include "server/store_fault.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int pv_provision_open_store(const char *db_path, const char *master_key, pv_store **out,
                            pv_error *err)
{
    pv_store *s = NULL;
    int rc = pv_store_open(db_path, &s, err);
    if (rc == 0)
        rc = pv_store_migrate(s, NULL, err);
    if (rc == 0)
        rc = pv_store_secrets_load(s, master_key, true, err);
    if (rc != 0 && s != NULL) {
        pv_store_close(s);
        s = NULL;
    }
    *out = s;
    return rc;
}

int pv_provision_new(const pv_provision_config *cfg, pv_provision **out, pv_error *err)
{
    pv_provision *p = pv_calloc(1, sizeof *p);
    p->cfg = *cfg;
    /* Own the policy's strings: the configuration they came from is replaced
     * on SIGHUP. */
    const char **strs[] = {&p->cfg.policy.public_host,
                           &p->cfg.policy.binding_prefix,
                           &p->cfg.policy.bootstrap_url,
                           &p->cfg.policy.legacy_bootstrap_url,
                           &p->cfg.policy.permanent_scheme,
                           &p->cfg.policy.report_prefix,
                           &p->cfg.policy.sha256_models,
                           &p->cfg.policy.md5_models,
                           &p->cfg.policy.text_models,
                           &p->cfg.policy.known_models,
                           &p->cfg.policy.resync_error_retry_delay,
                           &p->cfg.policy.resync_periodic};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        if (*strs[i] != NULL)
            *strs[i] = p->owned[i] = pv_strdup(*strs[i]);
    p->db_path = pv_strdup(cfg->db_path);
    p->master_key = pv_strdup(cfg->master_key);
    p->firmware.root_fd = p->firmware.upload_fd = -1;
    pv__prov_admission_init(&p->admission, &p->cfg.policy);
    pv_store *s = NULL;
    int rc = pv_provision_open_store(p->db_path, p->master_key, &s, err);
    if (rc == 0 && mkdir(cfg->firmware_dir, 0755) != 0 && errno != EEXIST)
        rc = pv_error_set(err, PV_EIO, "%s: %s", cfg->firmware_dir, strerror(errno));
    if (rc == 0)
        rc = pv_fileserver_init(&p->firmware, cfg->firmware_dir, NULL, err);
    if (s != NULL)
        pv_store_close(s);
    if (rc != 0) {
        pv_provision_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

void pv_provision_free(pv_provision *p)
{
    if (p == NULL)
        return;
    pv_fileserver_free(&p->firmware);
    for (size_t i = 0; i < sizeof p->owned / sizeof p->owned[0]; i++)
        free(p->owned[i]);
    free(p->db_path);
    free(p->master_key);
    free(p);
}

/* ---- helpers ------------------------------------------------------------ */

/* The address alone ("192.0.2.7"), empty when unknown. */
void pv__prov_addr_text(const struct sockaddr *sa, char *out, size_t size)
{
    out[0] = '\0';
    (void)pv_sockaddr_host(sa, out, size);
}

/* The host phones use for us in generated rules: configured, else the
 * address this request came to. */
void pv__prov_host_for(const pv_provision *p, const pv_request *req, char *out, size_t size)
{
    const char *pub = p->cfg.policy.public_host;
    if (pub != NULL && pub[0] != '\0') {
        int n = snprintf(out, size, "%s", pub);
        if (n > 0 && (size_t)n < size)
            return;
    }
    pv__prov_addr_text(req->local, out, size);
    if (out[0] == '\0')
        (void)snprintf(out, size, "localhost");
}

void pv_provision_loop_flush(pv_provision_loop *l)
{
    (void)pv_prov_audit_flush(l->audit);
}

static void on_check(uv_check_t *h)
{
    pv_provision_loop *l = h->data;
    if (pv_prov_audit_pending(l->audit))
        (void)pv_prov_audit_flush(l->audit);
}

static void on_tick(uv_timer_t *t)
{
    pv_provision_loop *l = t->data;
    pv_audit_retention r = {l->p->cfg.audit_retention_days, l->p->cfg.audit_max_rows};
    pv_prov_audit_tick(l->audit, &r);
}

/* A refusal's row is sampled (prov_audit.h): the answer never waits for it. */
static void record_refusal(pv_provision_loop *l, const pv_request *req, const pv_ident *id,
                           int status, const char *action, const char *reason)
{
    char peer[64], detail[400];
    pv__prov_addr_text(req->peer, peer, sizeof peer);
    int n = snprintf(detail, sizeof detail, "proto=%s peer=%s status=%d reason=\"%s\"",
                     pv_proto_name(req->proto), peer, status, reason);
    if (n < 0 || (size_t)n >= sizeof detail)
        detail[sizeof detail - 1] = '\0';
    const char *mac = id && id->source != PV_ID_NONE ? id->mac.hex : NULL;
    pv_prov_row row;
    pv_prov_audit_row(&row, mac, action, NULL, detail);
    pv_prov_audit_sample(l->audit, &row);
    pv_jobm_refusal(action, status); /* action: a literal of this file, a bounded label */
}

void pv__prov_refuse(pv_provision_loop *l, pv_request *req, const pv_ident *id, int status,
                     const char *action, const char *reason)
{
    record_refusal(l, req, id, status, action, reason);
    /* Over TFTP a refused read answers exactly what a missing file does (the static file
     * handler's ERROR 1), a refused report upload one access violation: a known MAC looks
     * like an unknown one. The audit keeps why. (Binding is refused over TFTP whatever
     * the code: nothing to hide there.) */
    if (req->proto == PV_PROTO_TFTP && (status == 403 || status == 404) &&
        strncmp(action, "binding.", 8) != 0) {
        bool read = req->method == PV_METHOD_TFTP_READ;
        pv_request_respond_status(req, read ? 404 : 403,
                                  read ? "File not found" : "Access violation");
        return;
    }
    /* reason may be a stack buffer (a detail, a pv_error): the arena's copy outlives a
     * slow client's write (handler.h). */
    pv_response r = {.status = status, .fd = -1, .message = pv_request_strdup(req, reason)};
    if (status == 503)
        r.retry_after = PV_STORE_RETRY_AFTER_S;
    pv_request_respond(req, &r);
}

/* A store outcome rc != 0: the answer `status`, or for a store failure never
 * a 404 or 400 the phone would believe, but 503 + Retry-After (spec 8.3 class
 * C: it retries; issue 19 item 1). */
void pv__prov_refuse_rc(pv_provision_loop *l, pv_request *req, const pv_ident *id, int rc,
                        int status, const char *action, const pv_error *e)
{
    if (!pv_store_fault(rc)) {
        pv__prov_refuse(l, req, id, status, action, e->msg);
        return;
    }
    pv_store_health_failed(action, e);
    pv__prov_refuse(l, req, id, 503, action, "store unavailable: retry later");
}

void pv__prov_respond_body(pv_request *req, int status, pv_buf *body, const char *type,
                           const char *who)
{
    pv_response r = {.fd = -1};
    r.status = status;
    r.body_kind = PV_BODY_MEMORY;
    r.body = pv_request_keep_buf(req, body, &r.body_len);
    r.content_type = type;
    r.identity_log = who ? pv_request_strdup(req, who) : NULL;
    pv_request_respond(req, &r);
}

/* ---- the encrypted profile (DESIGN 6, 7) -------------------------------- */

static void profile_response(pv_request *req, pv_render_output *out, const char *mac,
                             pv_response *r)
{
    *r = (pv_response){.status = 200, .body_kind = PV_BODY_MEMORY, .fd = -1};
    r->body = pv_request_keep_buf(req, &out->body, &r->body_len);
    memcpy(r->etag, out->etag, sizeof r->etag);
    r->content_type = out->content_type;
    r->content_encoding = req->proto == PV_PROTO_TFTP ? NULL : out->content_encoding;
    r->identity_log = pv_request_strdup(req, mac);
}

static void served_detail(const pv_request *req, const pv_render_output *out,
                          const pv_keys_fetch *kf, char *detail, size_t size)
{
    int n = snprintf(detail, size, "proto=%s etag=%s%s%s", pv_proto_name(req->proto), out->etag,
                     kf->rotated ? " rotated=yes" : "", kf->confirmed_now ? " confirmed=yes" : "");
    if (n < 0 || (size_t)n >= size)
        detail[size - 1] = '\0';
}

/* pv_render_device (in NULL) or pv_render_loaded, timed for
 * provisor_render_duration_seconds; a failure other than an unknown device or a store fault
 * is a render error (provisor_render_errors_total). */
static int render_timed(pv_store *s, const char *mac, const pv_store_render_input *in,
                        const pv_render_options *o, pv_render_output *out, pv_error *e)
{
    double start = pv_jobm_now();
    int rc = in ? pv_render_loaded(s, in, o, out, e) : pv_render_device(s, mac, o, out, e);
    pv_jobm_render(pv_jobm_now() - start, rc != 0 && rc != PV_ENOENT && !pv_store_fault(rc));
    return rc;
}

/* A fetch that changes something (confirm, rotation, SEC-PRV-1 → 2): one
 * transaction, written before the answer. */
static int secure_slow(pv_provision_loop *l, pv_request *req, const pv_ident *id,
                       const pv_store_device *d, pv_slice dir, const pv_render_options *base,
                       pv_render_output *out, pv_error *e)
{
    const pv_prov_policy *pol = &l->p->cfg.policy;
    int64_t now = time(NULL);
    pv_keys_fetch kf;
    bool configured = false;
    int rc = pv_store_begin(l->s, e);
    if (rc == 0)
        rc = pv_keys_fetch_dir(l->s, d->mac, dir, now, pol->rotation_period, &kf, e);
    if (rc == 0 && kf.from_current && d->state == PV_STATE_SEC_PRV_1) {
        configured = true;
        rc = pv_store_device_set_state(l->s, d->mac, PV_STATE_SEC_PRV_1, PV_STATE_SEC_PRV_2, now,
                                       e); /* spec 12.2 step 4 */
    }
    pv_render_options o = *base;
    o.serve = &kf.serve;
    o.deliver = &kf.deliver;
    if (rc == 0)
        rc = render_timed(l->s, d->mac, NULL, &o, out, e);
    char peer[64];
    pv__prov_addr_text(req->peer, peer, sizeof peer); /* where a direct NOTIFY goes (spec 5.5) */
    if (rc == 0)
        rc = pv_store_device_seen(l->s, d->mac, now, id->swver[0] ? id->swver : NULL, out->etag,
                                  out->hash, peer[0] ? peer : NULL, e);
    if (rc == 0) { /* confirmed=yes: this request came from the new directory */
        char detail[160];
        served_detail(req, out, &kf, detail, sizeof detail);
        pv_prov_row row;
        pv_prov_audit_row(&row, d->mac, "profile.served", out->hash, detail);
        rc = pv_prov_audit_write(l->s, &row, e);
    }
    if (rc == 0)
        rc = pv_store_commit(l->s, e);
    else
        pv_store_rollback(l->s); /* a no-op when begin failed */
    if (rc == 0 && kf.rotated)
        pv_jobm_key_rotated();
    if (rc == 0 && configured && l->p->configured != NULL)
        l->p->configured(l->p->configured_data, d->mac); /* the NOTIFY after a binding */
    return rc;
}

/* The answer held until the loop's batch has committed its last-seen and profile.served row
 * (prov_audit.h): the common fetch, from the cache or rendered, writes nothing itself. A
 * repeat of what the batch last committed for the device (ce's record) within
 * seen_interval_s is sent at once and records nothing: that version's row exists and
 * last-seen lags by less than the interval (docs/provisioning.md "Last seen"). */
static void hold_served(pv_provision_loop *l, pv_request *req, const pv_ident *id,
                        const pv_store_device *d, const pv_prov_cached *ce, int64_t now,
                        pv_response *r, const char *hash)
{
    pv_jobm_profile_served(d->model, "SEC-PRV-2", req->proto);
    char peer[64];
    pv__prov_addr_text(req->peer, peer, sizeof peer); /* where a direct NOTIFY goes (spec 5.5) */
    pv_prov_seen seen = {d->mac, now, id->swver, r->etag, hash, peer, req->proto};
    if (ce != NULL) {
        pv_prov_recorded this;
        pv_prov_recorded_set(&this, &seen);
        if (pv_prov_recorded_repeat(&ce->rec, &this, l->p->cfg.policy.seen_interval_s)) {
            pv_prov_audit_repeat();
            pv_request_respond(req, r);
            return;
        }
    }
    char detail[160];
    int n = snprintf(detail, sizeof detail, "proto=%s etag=%s", pv_proto_name(req->proto), r->etag);
    if (n < 0 || (size_t)n >= sizeof detail)
        detail[sizeof detail - 1] = '\0';
    pv_prov_row row;
    pv_prov_audit_row(&row, d->mac, "profile.served", hash, detail);
    pv_prov_audit_hold(l->audit, req, r, &row, &seen);
}

/* The batch committed r for mac: its cache entry keeps it (hold_served). */
static void on_committed(void *data, const char *mac, const pv_prov_recorded *r)
{
    pv_provision_loop *l = data;
    pv_prov_cache_recorded(l->cache, mac, r);
}

/* A repeat fetch answered from the loop's cache (prov_cache.h): the key decision on the
 * cached secrets, the cached bytes; false when anything differs (then the store decides). */
static bool secure_cached(pv_provision_loop *l, pv_request *req, const pv_ident *id,
                          const pv_store_device *d, const pv_prov_cached *ce, pv_slice dir,
                          const char *host, int64_t now)
{
    pv_keys_fetch kf;
    bool writes = true;
    pv_error e;
    const pv_prov_answer *a = NULL;
    if (pv_keys_decide(&ce->cur, ce->has_prev ? &ce->prev : NULL, d->mac, dir, now,
                       l->p->cfg.policy.rotation_period, &kf, &writes, &e) == 0 &&
        !writes && !(kf.from_current && d->state == PV_STATE_SEC_PRV_1))
        a = pv_prov_cache_answer(ce, kf.serve.id, kf.deliver.id, host);
    if (a == NULL) {
        OPENSSL_cleanse(&kf, sizeof kf);
        return false;
    }
    pv_prov_cache_hit();
    pv_response r = {.status = 200, .body_kind = PV_BODY_MEMORY, .fd = -1};
    char *body = pv_request_alloc(req, a->len ? a->len : 1);
    memcpy(body, a->body, a->len);
    r.body = body;
    r.body_len = a->len;
    memcpy(r.etag, a->etag, sizeof r.etag);
    r.content_type = a->content_type;
    r.content_encoding = req->proto == PV_PROTO_TFTP ? NULL : a->content_encoding;
    r.identity_log = pv_request_strdup(req, d->mac);
    char hash[65];
    memcpy(hash, a->hash, sizeof hash);
    hold_served(l, req, id, d, ce, now, &r, hash);
    OPENSSL_cleanse(&kf, sizeof kf);
    return true;
}

/* loaded: what route() already read for the identity decision (the device is its
 * device), or NULL to read it here; the caller keeps it. */
static void on_secure(pv_provision_loop *l, pv_request *req, const pv_ident *id,
                      const pv_store_device *dev, const pv_prov_cached *ce,
                      pv_store_render_input *loaded, pv_slice dir)
{
    const pv_prov_policy *pol = &l->p->cfg.policy;
    const pv_store_device d = *dev; /* admitted by handle()'s identity decision */
    int64_t now = time(NULL);
    pv_error e = {""};
    char host[128];
    pv__prov_host_for(l->p, req, host, sizeof host);
    if (ce != NULL && secure_cached(l, req, id, &d, ce, dir, host, now))
        return;
    pv_prov_cache_miss();
    pv_render_options o = {.policy = pol, .host = host};
    pv_render_output out = {0};
    /* One statement: the device, its secrets and everything the render needs. The common
     * fetch changes nothing but last-seen and the audit: no write transaction of its own
     * (loops would queue on SQLite's one writer); the answer is held until the loop's batch
     * commits them (prov_audit.h). */
    pv_store_render_input own, *inp = loaded != NULL ? loaded : &own;
    pv_keys_fetch kf;
    bool writes = false;
    int rc = loaded != NULL ? 0 : pv_store_render_load(l->s, d.mac, true, &own, &e);
    if (rc == 0 && !inp->has_secret)
        rc = pv_error_set(&e, PV_ENOENT, "device %s: no secret", d.mac);
    if (rc == 0)
        rc = pv_keys_decide(&inp->current, inp->has_previous ? &inp->previous : NULL, d.mac, dir,
                            now, pol->rotation_period, &kf, &writes, &e);
    if (rc == 0 && !writes && !(kf.from_current && inp->device.state == PV_STATE_SEC_PRV_1)) {
        o.serve = &kf.serve;
        o.deliver = &kf.deliver;
        rc = render_timed(l->s, d.mac, inp, &o, &out, &e);
        if (rc == 0) {
            pv_prov_cache_put(l->cache, inp, kf.serve.id, kf.deliver.id, host, &out);
            pv_response r;
            profile_response(req, &out, d.mac, &r);
            hold_served(l, req, id, &d, NULL, now, &r, out.hash);
        }
    } else if (rc == 0) {
        pv_prov_cache_forget(l->cache, d.mac); /* this fetch changes the device */
        rc = secure_slow(l, req, id, &d, dir, &o, &out, &e);
        if (rc == 0) {
            pv_jobm_profile_served(d.model, "SEC-PRV-2", req->proto);
            pv_response r;
            profile_response(req, &out, d.mac, &r);
            pv_request_respond(req, &r);
        }
    }
    if (loaded == NULL)
        pv_store_render_input_free(&own);
    OPENSSL_cleanse(&kf, sizeof kf);
    pv_render_output_free(&out);
    if (rc == PV_ENOENT) {
        /* Unknown directory: the static files' 404 of an unknown MAC, so that
         * it never tells that the MAC exists (issue 11 item 6). */
        record_refusal(l, req, id, 404, "profile.refused", e.msg);
        pv_handler *files = &l->p->cfg.files->handler;
        files->handle(files, req);
    } else if (rc != 0) {
        pv__prov_refuse_rc(l, req, id, rc, 500, "profile.refused", &e);
    }
}

/* ---- factory defaults and /$MA.xml -------------------------------------- */

static void on_bootstrap(pv_provision_loop *l, pv_request *req, const pv_ident *id,
                         const char *model)
{
    char host[128];
    pv__prov_host_for(l->p, req, host, sizeof host);
    pv_buf body = {0};
    pv_error e;
    if (pv_bootstrap_profile(&l->p->cfg.policy, host, model, &body, &e) != 0) {
        pv_buf_free(&body);
        pv_request_respond_status(req, 500, e.msg);
        return;
    }
    char detail[96];
    (void)snprintf(detail, sizeof detail, "bootstrap proto=%s model=%s", pv_proto_name(req->proto),
                   model && model[0] ? model : "-");
    const char *mac = id->source != PV_ID_NONE ? id->mac.hex : NULL;
    /* Secret-free, for any MAC that asks: sampled (prov_audit.h). */
    pv_prov_row row;
    pv_prov_audit_row(&row, mac, "bootstrap.served", NULL, detail);
    pv_prov_audit_sample(l->audit, &row);
    pv_jobm_profile_served(model, "bootstrap", req->proto);
    pv__prov_respond_body(req, 200, &body, "application/xml", mac);
}

/* In-house pre-provisioning (HTTPS): known, assigned, its own certificate. plain: the device
 * the path names, when an SPA phone gets its first key over plain HTTP/TFTP (binding.h). */
static void on_mac_path(pv_provision_loop *l, pv_request *req, const pv_ident *id,
                        const pv_store_device *plain)
{
    pv_store_secret sec;
    pv_error e = {""};
    char host[128];
    pv__prov_host_for(l->p, req, host, sizeof host);
    pv_buf body = {0};
    /* Secret, state and row: one transaction before the answer (prov_audit.h). */
    int rc = pv_store_begin(l->s, &e);
    if (rc == 0)
        rc = plain ? pv_binding_known_plain(l->s, plain, time(NULL), &sec, &e)
                   : pv_binding_known(l->s, id, time(NULL), &sec, &e);
    if (rc == 0)
        rc = pv_binding_profile(&l->p->cfg.policy, host, plain ? plain->model : id->model, &sec,
                                &body, &e);
    if (rc == 0) {
        pv_prov_row row;
        pv_prov_audit_row(&row, id->mac.hex, "profile.served", NULL,
                          plain ? "SEC-PRV-1 (known device, first key in the clear: "
                                  "legacy_plain_key)"
                                : "SEC-PRV-1 (known device)");
        rc = pv_prov_audit_write(l->s, &row, &e);
    }
    if (rc == 0)
        rc = pv_store_commit(l->s, &e);
    else
        pv_store_rollback(l->s); /* a no-op when begin failed */
    if (rc != 0) {
        pv_buf_free(&body);
        pv__prov_refuse_rc(l, req, id, rc, rc == PV_ENOENT ? 404 : 403, "profile.refused", &e);
        return;
    }
    pv_jobm_profile_served(plain ? plain->model : id->model, "SEC-PRV-1", req->proto);
    pv__prov_respond_body(req, 200, &body, "application/xml", id->mac.hex);
}

/* ---- routing ------------------------------------------------------------ */

/* Frees route()'s device: the render input it was read with, or itself. */
static void route_free(pv_store_device *d, pv_store_render_input *in)
{
    if (in != NULL)
        pv_store_render_input_free(in);
    else
        pv_store_device_free(d);
}

void pv__prov_route(pv_provision_loop *l, pv_request *req)
{
    const pv_prov_policy *pol = &l->p->cfg.policy;
    pv_handler *fallback = &l->p->cfg.files->handler;
    pv_slice c[4];
    size_t n = pv_prov_components(req->path, c);
    /* issue 10: the binding path before anything reads a MAC from the path. */
    if (pv_prov_is_binding(pol, c, n)) {
        pv__prov_on_binding_path(l, req, n == 2 ? c[1] : PV_SLICE_LIT(""), n == 2);
        return;
    }
    bool upload = req->method == PV_METHOD_POST || req->method == PV_METHOD_PUT ||
                  req->method == PV_METHOD_TFTP_WRITE;
    pv_mac report_mac;
    const char *kind = "full";
    bool report = upload && pv_reports_path(pol, req->path, &report_mac, &kind);
    if ((upload && !report) || (!upload && !pv_prov_is_read(req->method))) {
        fallback->handle(fallback, req);
        return;
    }
    pv_ident id;
    pv_error e;
    /* A report's path names the device it is about; reports.h checks who sends it. */
    int rc =
        pv_identify(req->identity, report ? PV_SLICE_LIT("") : req->path, req->user_agent, &id, &e);
    if (rc != 0) {
        /* DESIGN 3: the audit names the certificate that asked, not "?". */
        id.source = PV_ID_CERT;
        id.mac = id.cert_mac;
        pv__prov_refuse(l, req, &id, 403, "identity.refused", e.msg);
        return;
    }
    /* DESIGN 3, issue 11.1: one identity decision with the stored device the request
     * names, before any route (a report sent by another device's is reports.h's refusal). */
    const pv_mac *subject = report ? &report_mac : id.source != PV_ID_NONE ? &id.mac : NULL;
    pv_store_device d = {0};
    pv_store_render_input in = {0}; /* loaded: the device d is in.device */
    bool loaded = false;
    const pv_prov_cached *ce = NULL;
    if (subject != NULL) {
        pv_prov_cache_sync(l->cache, l->s); /* a read at most every check_ms (prov_cache.h) */
        ce = pv_prov_cache_get(l->cache, subject->hex);
    }
    if (ce != NULL) {
        pv_prov_cache_device(ce, &d);
        rc = 0;
    } else if (subject != NULL && !report) {
        /* Issue 18: one device read per answer. Most requests that name a device not in
         * the cache fetch its profile: the render's one statement is also the identity
         * decision's read of the device. Should it fail for its other rows (a secret that
         * will not unseal), the device alone decides, as before. */
        rc = pv_store_render_load(l->s, subject->hex, true, &in, &e);
        loaded = rc == 0;
        if (loaded)
            d = in.device; /* a view: freed with in */
        else if (rc != PV_ENOENT)
            rc = pv_store_device_get(l->s, subject->hex, &d, &e);
    } else {
        rc = subject ? pv_store_device_get(l->s, subject->hex, &d, &e) : PV_ENOENT;
    }
    if (rc != 0 && rc != PV_ENOENT) { /* never "unknown": 503 (issue 19 item 1) */
        pv__prov_refuse_rc(l, req, &id, rc, 500, "profile.refused", &e);
        return;
    }
    bool known = rc == 0;
    char model[64] = "";
    pv_prov_route r =
        report ? PV_PROV_REPORT
               : pv_prov_route_of(l->p->cfg.files, req, c, n, &id, known, model, sizeof model);
    if (known && pv_identity_admit(&id, d.mac, d.require_cert, d.cert_fingerprint,
                                   pv_prov_route_kind(r), &e) != 0) {
        route_free(&d, loaded ? &in : NULL);
        pv__prov_refuse(l, req, &id, 403, "identity.refused", e.msg);
        return;
    }
    switch (r) {
    case PV_PROV_REPORT:
        pv__prov_on_report(l, req, &report_mac, kind);
        break;
    case PV_PROV_FIRMWARE:
        pv__prov_admit(l, req, PV_ADMIT_FIRMWARE); /* DESIGN 8 */
        break;
    case PV_PROV_SECURE:
        on_secure(l, req, &id, &d, ce, loaded ? &in : NULL, c[0]);
        break;
    case PV_PROV_BOOTSTRAP:
        if (known && pv_binding_plain_key_route(pol, req->proto, &id, &d))
            on_mac_path(l, req, &id, &d); /* spec 4.4: an SPA phone cannot verify our CA */
        else
            on_bootstrap(l, req, &id, id.model[0] ? id.model : model);
        break;
    case PV_PROV_MAC_PATH:
        on_mac_path(l, req, &id, NULL);
        break;
    case PV_PROV_FILES:
        fallback->handle(fallback, req);
        break;
    }
    route_free(&d, loaded ? &in : NULL);
}

/* Every provisioning read waits for a render slot first, before any store work; firmware
 * downloads wait for theirs in pv__prov_route(), once the identity is checked. */
static void handle(pv_handler *h, pv_request *req)
{
    pv_provision_loop *l = h->data;
    const pv_prov_policy *pol = &l->p->cfg.policy;
    bool firmware = pv_slice_starts_with(req->path, PV_FIRMWARE_PREFIX);
    if (pol->render_rate == 0 || firmware || !pv_prov_is_read(req->method)) {
        pv__prov_route(l, req);
        return;
    }
    pv__prov_admit(l, req, PV_ADMIT_RENDER);
}

int pv_provision_loop_new(pv_provision *p, uv_loop_t *loop, pv_provision_loop **out, pv_error *err)
{
    pv_provision_loop *l = pv_calloc(1, sizeof *l);
    l->p = p;
    l->handler.handle = handle;
    l->handler.data = l;
    int rc = pv_provision_open_store(p->db_path, p->master_key, &l->s, err);
    if (rc != 0) {
        free(l);
        return rc;
    }
    pv_store_set_reports_per_device(l->s, p->cfg.reports_per_device);
    l->cache = pv_prov_cache_new(p->cfg.policy.cache_entries, 0, p->cfg.policy.cache_check_ms);
    l->admit = pv_admit_queue_new(&p->admission, loop);
    l->audit = pv_prov_audit_new(l->s);
    pv_prov_audit_on_commit(l->audit, on_committed, l);
    uv_timer_init(loop, &l->tick);
    l->tick.data = l;
    uv_timer_start(&l->tick, on_tick, 1000, 1000);
    uv_unref((uv_handle_t *)&l->tick);
    uv_check_init(loop, &l->check);
    l->check.data = l;
    uv_check_start(&l->check, on_check);
    uv_unref((uv_handle_t *)&l->check);
    l->timer_open = true;
    *out = l;
    return 0;
}

pv_handler *pv_provision_loop_handler(pv_provision_loop *l)
{
    return &l->handler;
}

pv_admit_queue *pv_provision_loop_admit(pv_provision_loop *l)
{
    return l->p->cfg.policy.handshake_rate > 0 ? l->admit : NULL;
}

void pv_provision_loop_close(pv_provision_loop *l)
{
    if (l == NULL || !l->timer_open)
        return;
    pv_admit_queue_close(l->admit);
    (void)pv_prov_audit_flush(l->audit);
    uv_close((uv_handle_t *)&l->tick, NULL);
    uv_close((uv_handle_t *)&l->check, NULL);
    l->timer_open = false;
}

void pv_provision_loop_free(pv_provision_loop *l)
{
    if (l == NULL)
        return;
    pv_prov_audit_free(l->audit); /* flushes: a loop that was never closed */
    pv_admit_queue_free(l->admit);
    pv_prov_cache_free(l->cache);
    pv_store_close(l->s);
    free(l);
}

void pv_provision_on_configured(pv_provision *p, pv_provision_configured_fn fn, void *data)
{
    p->configured = fn;
    p->configured_data = data;
}

const pv_prov_policy *pv_provision_policy(const pv_provision *p)
{
    return &p->cfg.policy;
}
