/* provision.c — the provisioning pv_handler: routing, audit, waves; see provision.h. */
#include "server/provision.h"

#include "core/alloc.h"
#include "core/log.h"
#include "server/binding.h"
#include "server/bootstrap.h"
#include "server/firmware.h"
#include "server/identity.h"
#include "server/keys.h"
#include "server/prov_route.h"
#include "server/render.h"
#include "server/reports.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define REDACTED_SLOTS 32

struct pv_provision {
    pv_provision_config cfg; /* policy strings point into owned[] */
    char *owned[16];
    char *db_path, *master_key;
    pv_fileserver firmware; /* <data>/firmware, beneath-root opens */
    /* DESIGN 8 firmware waves, across every loop. */
    atomic_llong wave_start_ms;
    atomic_uint wave_count;
};

#define PV_BATCH_MAX 512

typedef struct pending_seen {
    char mac[13];
    int64_t at;
    char swver[64], etag[72], hash[65];
} pending_seen;

typedef struct pending_audit {
    int64_t at;
    char actor[32], action[32], subject[16], hash[65], detail[200];
} pending_audit;

typedef struct waiting {
    pv_request *req;
    uint64_t deadline_ms;
    struct waiting *next;
} waiting;

struct pv_provision_loop {
    pv_handler handler;
    pv_provision *p;
    pv_store *s;
    pv_render_cache *cache;
    uv_timer_t wave_timer;
    bool timer_open;
    waiting *queue, *queue_tail;
    /* The transport logs the request path; a binding path is replaced by a
     * redacted copy that must outlive the request (DESIGN 5, 10). */
    char redacted[REDACTED_SLOTS][96];
    unsigned next_redacted;
    /* Batched writes (see flush_batch). */
    uv_check_t check;
    pending_seen *seen;
    pending_audit *audits;
    size_t nseen, naudit;
};

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
                           &p->cfg.policy.permanent_scheme,
                           &p->cfg.policy.report_prefix,
                           &p->cfg.policy.sha256_models,
                           &p->cfg.policy.md5_models,
                           &p->cfg.policy.text_models,
                           &p->cfg.policy.resync_error_retry_delay,
                           &p->cfg.policy.resync_periodic};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        if (*strs[i] != NULL)
            *strs[i] = p->owned[i] = pv_strdup(*strs[i]);
    p->db_path = pv_strdup(cfg->db_path);
    p->master_key = pv_strdup(cfg->master_key);
    p->firmware.root_fd = p->firmware.upload_fd = -1;
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

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void addr_text(const struct sockaddr *sa, char *out, size_t size)
{
    out[0] = '\0';
    if (sa == NULL)
        return;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)size);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)size);
}

/* The host phones use for us in generated rules: configured, else the
 * address this request came to. */
static void host_for(const pv_provision *p, const pv_request *req, char *out, size_t size)
{
    const char *pub = p->cfg.policy.public_host;
    if (pub != NULL && pub[0] != '\0') {
        int n = snprintf(out, size, "%s", pub);
        if (n > 0 && (size_t)n < size)
            return;
    }
    addr_text(req->local, out, size);
    if (out[0] == '\0')
        (void)snprintf(out, size, "localhost");
}

static void audit(pv_provision_loop *l, const char *actor_mac, const char *action,
                  const char *subject, const char *hash, const char *detail)
{
    char actor[32];
    (void)snprintf(actor, sizeof actor, "device:%s", actor_mac && actor_mac[0] ? actor_mac : "?");
    pv_store_audit a = {.at = time(NULL),
                        .actor = actor,
                        .action = (char *)action,
                        .subject = (char *)(subject ? subject : ""),
                        .content_hash = (char *)hash,
                        .detail = (char *)detail};
    pv_error e;
    if (pv_store_audit_add(l->s, &a, NULL, &e) != 0)
        pv_logf(PV_LOG_ERROR, "audit.failed", "action=%s error=\"%s\"", action, e.msg);
}

/* ---- batched writes ----------------------------------------------------
 * Serving a profile records last-seen and an audit entry. Written one
 * request at a time, every fetch would take SQLite's single write lock and
 * the loops would serialize on it; instead each loop collects them and
 * writes them in one transaction at the end of its loop iteration (uv_check),
 * or sooner when PV_BATCH_MAX are waiting. A crash loses at most one
 * iteration's records; refusals, bindings and state changes are never
 * batched. */

static void flush_batch(pv_provision_loop *l)
{
    if (l->nseen == 0 && l->naudit == 0)
        return;
    pv_error e = {""};
    int rc = pv_store_begin(l->s, &e);
    for (size_t i = 0; rc == 0 && i < l->nseen; i++) {
        pending_seen *p = &l->seen[i];
        rc = pv_store_device_seen(l->s, p->mac, p->at, p->swver[0] ? p->swver : NULL, p->etag,
                                  p->hash, &e);
        if (rc == PV_ENOENT) /* deleted meanwhile: nothing to record */
            rc = 0;
    }
    for (size_t i = 0; rc == 0 && i < l->naudit; i++) {
        pending_audit *p = &l->audits[i];
        pv_store_audit a = {.at = p->at,
                            .actor = p->actor,
                            .action = p->action,
                            .subject = p->subject,
                            .content_hash = p->hash[0] ? p->hash : NULL,
                            .detail = p->detail};
        rc = pv_store_audit_add(l->s, &a, NULL, &e);
    }
    if (rc == 0)
        rc = pv_store_commit(l->s, &e);
    else
        pv_store_rollback(l->s);
    if (rc != 0)
        pv_logf(PV_LOG_ERROR, "audit.failed", "records=%zu error=\"%s\"", l->nseen + l->naudit,
                e.msg);
    l->nseen = l->naudit = 0;
}

static void on_check(uv_check_t *h)
{
    flush_batch(h->data);
}

static void copy_str(char *dst, size_t size, const char *src)
{
    int n = snprintf(dst, size, "%s", src ? src : "");
    if (n < 0 || (size_t)n >= size)
        dst[size - 1] = '\0';
}

static void seen_later(pv_provision_loop *l, const char *mac, int64_t at, const char *swver,
                       const char *etag, const char *hash)
{
    if (l->nseen == PV_BATCH_MAX)
        flush_batch(l);
    pending_seen *p = &l->seen[l->nseen++];
    copy_str(p->mac, sizeof p->mac, mac);
    p->at = at;
    copy_str(p->swver, sizeof p->swver, swver);
    copy_str(p->etag, sizeof p->etag, etag);
    copy_str(p->hash, sizeof p->hash, hash);
}

static void audit_later(pv_provision_loop *l, const char *actor_mac, const char *action,
                        const char *subject, const char *hash, const char *detail)
{
    if (l->naudit == PV_BATCH_MAX)
        flush_batch(l);
    pending_audit *p = &l->audits[l->naudit++];
    p->at = time(NULL);
    (void)snprintf(p->actor, sizeof p->actor, "device:%s",
                   actor_mac && actor_mac[0] ? actor_mac : "?");
    copy_str(p->action, sizeof p->action, action);
    copy_str(p->subject, sizeof p->subject, subject);
    copy_str(p->hash, sizeof p->hash, hash);
    copy_str(p->detail, sizeof p->detail, detail);
}

void pv_provision_loop_flush(pv_provision_loop *l)
{
    flush_batch(l);
}

/* Refusal: audited, logged, answered with status. */
static void refuse(pv_provision_loop *l, pv_request *req, const pv_ident *id, int status,
                   const char *action, const char *reason)
{
    char peer[64], detail[400];
    addr_text(req->peer, peer, sizeof peer);
    int n = snprintf(detail, sizeof detail, "proto=%s peer=%s status=%d reason=\"%s\"",
                     pv_proto_name(req->proto), peer, status, reason);
    if (n < 0 || (size_t)n >= sizeof detail)
        detail[sizeof detail - 1] = '\0';
    const char *mac = id && id->source != PV_ID_NONE ? id->mac.hex : NULL;
    audit(l, mac, action, mac, NULL, detail);
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
    pv_request_respond_status(req, status, reason);
}

static void respond_body(pv_request *req, int status, pv_buf *body, const char *type,
                         const char *who)
{
    pv_response r = {0};
    size_t len = 0;
    r.status = status;
    r.body_kind = PV_BODY_MEMORY;
    r.body = pv_buf_take(body, &len);
    r.body_len = len;
    r.content_type = type;
    r.identity_log = who;
    pv_request_respond(req, &r);
}

/* ---- reports (spec 7.1) ------------------------------------------------- */

static void on_report(pv_provision_loop *l, pv_request *req, const pv_mac *mac, const char *kind)
{
    /* ... admitted by handle()'s identity decision. */
    char ce[64] = "";
    pv_slice h = pv_request_header(req, "Content-Encoding");
    if (h.len > 0 && h.len < sizeof ce)
        memcpy(ce, h.ptr, h.len);
    pv_error e;
    int64_t id = 0;
    pv_ident cert; /* only the certificate counts here: the path names the device */
    (void)pv_identify(req->identity, PV_SLICE_LIT(""), PV_SLICE_LIT(""), &cert, NULL);
    pv_report_upload up = {.mac = mac->hex,
                           .kind = kind,
                           .body = req->body,
                           .content_encoding = ce[0] ? ce : NULL,
                           .who = &cert,
                           .max_bytes = l->p->cfg.report_max_bytes,
                           .per_hour = l->p->cfg.reports_per_hour};
    int rc = pv_reports_accept(l->s, &up, time(NULL), &id, NULL, &e);
    pv_ident who = {.source = PV_ID_PATH, .mac = *mac};
    if (rc != 0) {
        refuse(l, req, &who, pv_reports_status(rc), "report.refused", e.msg);
        return;
    }
    char detail[64];
    (void)snprintf(detail, sizeof detail, "kind=%s id=%lld", kind, (long long)id);
    audit(l, mac->hex, "report.received", mac->hex, NULL, detail);
    pv_response r = {.status = 200, .message = "report stored", .identity_log = mac->hex};
    pv_request_respond(req, &r);
}

/* ---- firmware in waves (DESIGN 8) -------------------------------------- */

static bool wave_admit(pv_provision *p)
{
    const pv_prov_policy *pol = &p->cfg.policy;
    if (pol->firmware_wave == 0)
        return true;
    long long t = (long long)now_ms();
    long long start = atomic_load(&p->wave_start_ms);
    if (t - start >= (long long)pol->firmware_wave_ms &&
        atomic_compare_exchange_strong(&p->wave_start_ms, &start, t))
        atomic_store(&p->wave_count, 0); /* a new wave */
    return atomic_fetch_add(&p->wave_count, 1) < pol->firmware_wave;
}

static void serve_firmware(pv_provision_loop *l, pv_request *req)
{
    pv_slice rel = pv_slice_make(req->path.ptr, req->path.len);
    while (rel.len > 0 && rel.ptr[0] == '/')
        rel = pv_slice_make(rel.ptr + 1, rel.len - 1);
    rel = pv_slice_make(rel.ptr + strlen(PV_FIRMWARE_PREFIX) - 1,
                        rel.len - (strlen(PV_FIRMWARE_PREFIX) - 1));
    int fd = -1;
    pv_error e;
    int rc = pv_fileserver_open(&l->p->firmware, rel, &fd, &e);
    if (rc != 0) {
        pv_request_respond_status(req, rc == PV_ENOENT ? 404 : 403, e.msg);
        return;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        pv_request_respond_status(req, 500, "cannot stat the image");
        return;
    }
    pv_response r = {.status = 200, .body_kind = PV_BODY_FILE, .fd = fd, .file_size = st.st_size};
    r.last_modified = st.st_mtime;
    r.content_type = pv_fileserver_content_type(rel);
    (void)snprintf(r.etag, sizeof r.etag, "\"%llx-%llx-%llx\"", (unsigned long long)st.st_ino,
                   (unsigned long long)st.st_size, (unsigned long long)st.st_mtime);
    pv_request_respond(req, &r);
}

static void wave_tick(uv_timer_t *t)
{
    pv_provision_loop *l = t->data;
    uint64_t now = now_ms();
    while (l->queue != NULL) {
        waiting *w = l->queue;
        bool admit = wave_admit(l->p);
        if (!admit && now < w->deadline_ms)
            break; /* wait for the next wave */
        l->queue = w->next;
        if (l->queue == NULL)
            l->queue_tail = NULL;
        if (admit)
            serve_firmware(l, w->req);
        else
            pv_request_respond_status(w->req, 503, "firmware downloads busy: retry later");
        free(w);
    }
    if (l->queue == NULL)
        uv_timer_stop(&l->wave_timer);
}

static void on_firmware(pv_provision_loop *l, pv_request *req)
{
    if (l->queue == NULL && wave_admit(l->p)) {
        serve_firmware(l, req);
        return;
    }
    waiting *w = pv_calloc(1, sizeof *w);
    w->req = req;
    w->deadline_ms = now_ms() + l->p->cfg.policy.queue_deadline_ms;
    if (l->queue_tail != NULL)
        l->queue_tail->next = w;
    else
        l->queue = w;
    l->queue_tail = w;
    unsigned period = l->p->cfg.policy.firmware_wave_ms / 4 + 1;
    if (!uv_is_active((uv_handle_t *)&l->wave_timer))
        uv_timer_start(&l->wave_timer, wave_tick, period, period);
}

/* ---- binding (DESIGN 5) ------------------------------------------------- */

static void on_bind(pv_provision_loop *l, pv_request *req, const pv_ident *id, pv_slice code)
{
    pv_log_line line;
    pv_log_begin(&line, PV_LOG_INFO, "binding.attempt");
    pv_log_redacted(&line, "code", code);
    pv_log_str(&line, "mac", id->cert_has_mac ? id->cert_mac.hex : "-");
    pv_log_end(&line);
    if (req->proto != PV_PROTO_HTTPS) {
        refuse(l, req, id, 403, "binding.refused", "binding needs HTTPS with a client certificate");
        return;
    }
    char peer[64];
    addr_text(req->peer, peer, sizeof peer);
    pv_binding_result res;
    pv_error e = {""};
    int rc = pv_binding_redeem(l->s, id, code, peer, time(NULL), &res, &e);
    if (rc != 0) {
        refuse(l, req, id, 500, "binding.failed", e.msg);
        return;
    }
    char detail[200];
    if (res.status != 200) {
        (void)snprintf(detail, sizeof detail, "%s (code %.2s…)", res.reason, res.hint);
        refuse(l, req, id, res.status, "binding.refused", detail);
        return;
    }
    char host[128];
    host_for(l->p, req, host, sizeof host);
    pv_buf body = {0};
    rc = pv_binding_profile(&l->p->cfg.policy, host, id->model, &res.secret, &body, &e);
    if (rc != 0) {
        pv_buf_free(&body);
        refuse(l, req, id, 500, "binding.failed", e.msg);
        return;
    }
    (void)snprintf(detail, sizeof detail, "account=%lld code=%.2s… state=SEC-PRV-1%s",
                   (long long)res.account_id, res.hint, res.again ? " again=yes" : "");
    audit(l, id->cert_mac.hex, res.again ? "device.bound.again" : "device.bound",
          id->cert_mac.hex, NULL, detail);
    respond_body(req, 200, &body, "application/xml", id->cert_mac.hex);
}

/*
 * Everything under /<binding_prefix>/ (issue 10): routed before any MAC is
 * read from a path — a 12-digit code reads as one — and its path redacted
 * before any transport, audit or message can carry it. Identity comes from
 * the certificate (and the User-Agent it must agree with), never the path.
 */
static void on_binding_path(pv_provision_loop *l, pv_request *req, pv_slice code, bool is_code)
{
    /* The transport logs req->path after answering: give it a redacted copy. */
    char *slot = l->redacted[l->next_redacted++ % REDACTED_SLOTS];
    int n = snprintf(slot, sizeof l->redacted[0], "/%s/%.2s...", l->p->cfg.policy.binding_prefix,
                     code.len >= 2 ? code.ptr : "??");
    req->path = pv_slice_make(slot, n > 0 && (size_t)n < sizeof l->redacted[0] ? (size_t)n : 0);
    pv_ident id;
    pv_error e;
    if (pv_identify(req->identity, PV_SLICE_LIT(""), req->user_agent, &id, &e) != 0) {
        id.source = PV_ID_CERT;
        id.mac = id.cert_mac;
        refuse(l, req, &id, 403, "identity.refused", e.msg);
        return;
    }
    if (is_code)
        on_bind(l, req, &id, code);
    else
        pv_request_respond_status(req, 404, "not a binding path");
}

/* ---- the encrypted profile (DESIGN 6, 7) -------------------------------- */

static void respond_profile(pv_request *req, pv_render_output *out, const char *mac)
{
    pv_response r = {0};
    size_t len = 0;
    r.status = 200;
    r.body_kind = PV_BODY_MEMORY;
    r.body = pv_buf_take(&out->body, &len);
    r.body_len = len;
    memcpy(r.etag, out->etag, sizeof r.etag);
    r.content_type = out->content_type;
    r.content_encoding = req->proto == PV_PROTO_TFTP ? NULL : out->content_encoding;
    r.identity_log = mac;
    pv_request_respond(req, &r);
}

static void served_detail(const pv_request *req, const pv_render_output *out,
                          const pv_keys_fetch *kf, char *detail, size_t size)
{
    int n = snprintf(detail, size, "proto=%s etag=%s%s%s", pv_proto_name(req->proto), out->etag,
                     kf->rotated ? " rotated=yes" : "", kf->confirmed_now ? " confirmed=yes" : "");
    if (n < 0 || (size_t)n >= size)
        detail[size - 1] = '\0';
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
    int rc = pv_store_begin(l->s, e);
    if (rc == 0)
        rc = pv_keys_fetch_dir(l->s, d->mac, dir, now, pol->rotation_period, &kf, e);
    if (rc == 0 && kf.from_current && d->state == PV_STATE_SEC_PRV_1)
        rc = pv_store_device_set_state(l->s, d->mac, PV_STATE_SEC_PRV_1, PV_STATE_SEC_PRV_2, now,
                                       e); /* spec 12.2 step 4 */
    pv_render_options o = *base;
    o.serve = &kf.serve;
    o.deliver = &kf.deliver;
    if (rc == 0)
        rc = pv_render_device(l->s, d->mac, &o, out, e);
    if (rc == 0)
        rc = pv_store_device_seen(l->s, d->mac, now, id->swver[0] ? id->swver : NULL, out->etag,
                                  out->hash, e);
    if (rc == 0) {
        char detail[160];
        served_detail(req, out, &kf, detail, sizeof detail);
        audit(l, d->mac, "profile.served", d->mac, out->hash, detail);
        rc = pv_store_commit(l->s, e);
    } else {
        pv_store_rollback(l->s);
    }
    return rc;
}

static void on_secure(pv_provision_loop *l, pv_request *req, const pv_ident *id,
                      const pv_store_device *dev, pv_slice dir)
{
    const pv_prov_policy *pol = &l->p->cfg.policy;
    const pv_store_device d = *dev; /* admitted by handle()'s identity decision */
    int64_t now = time(NULL);
    pv_error e = {""};
    int rc;
    char host[128];
    host_for(l->p, req, host, sizeof host);
    pv_render_options o = {.policy = pol, .host = host, .cache = l->cache};
    pv_render_output out = {0};
    /* The common fetch changes nothing but last-seen and the audit: it runs
     * without a write transaction (two loops would queue on SQLite's one
     * writer) and its records join the loop's batch. */
    pv_keys_fetch kf;
    bool writes = false;
    rc = pv_keys_fetch_plan(l->s, d.mac, dir, now, pol->rotation_period, &kf, &writes, &e);
    if (rc == 0 && !writes && !(kf.from_current && d.state == PV_STATE_SEC_PRV_1)) {
        o.serve = &kf.serve;
        o.deliver = &kf.deliver;
        rc = pv_render_device(l->s, d.mac, &o, &out, &e);
        if (rc == 0) {
            char detail[160];
            served_detail(req, &out, &kf, detail, sizeof detail);
            seen_later(l, d.mac, now, id->swver, out.etag, out.hash);
            audit_later(l, d.mac, "profile.served", d.mac, out.hash, detail);
        }
    } else if (rc == 0) {
        rc = secure_slow(l, req, id, &d, dir, &o, &out, &e);
    }
    if (rc != 0) {
        pv_render_output_free(&out);
        /* Unknown directory: 404, never a hint that the MAC exists. */
        refuse(l, req, id, rc == PV_ENOENT ? 404 : 500, "profile.refused", e.msg);
        return;
    }
    respond_profile(req, &out, d.mac);
    pv_render_output_free(&out);
}

/* ---- factory defaults and /$MA.xml -------------------------------------- */

static void on_bootstrap(pv_provision_loop *l, pv_request *req, const pv_ident *id,
                         const char *model)
{
    char host[128];
    host_for(l->p, req, host, sizeof host);
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
    audit_later(l, mac, "profile.served", mac, NULL, detail);
    respond_body(req, 200, &body, "application/xml", mac);
}

static void on_mac_path(pv_provision_loop *l, pv_request *req, const pv_ident *id)
{
    /* In-house pre-provisioning (HTTPS): known, assigned, its own certificate. */
    pv_store_secret sec;
    pv_error e;
    int rc = pv_store_begin(l->s, &e);
    if (rc == 0)
        rc = pv_binding_known(l->s, id, time(NULL), &sec, &e);
    if (rc == 0)
        rc = pv_store_commit(l->s, &e);
    else
        pv_store_rollback(l->s);
    if (rc != 0) {
        refuse(l, req, id, rc == PV_ENOENT ? 404 : 403, "profile.refused", e.msg);
        return;
    }
    char host[128];
    host_for(l->p, req, host, sizeof host);
    pv_buf body = {0};
    if (pv_binding_profile(&l->p->cfg.policy, host, id->model, &sec, &body, &e) != 0) {
        pv_buf_free(&body);
        pv_request_respond_status(req, 500, e.msg);
        return;
    }
    audit(l, id->mac.hex, "profile.served", id->mac.hex, NULL, "SEC-PRV-1 (known device)");
    respond_body(req, 200, &body, "application/xml", id->mac.hex);
}

/* ---- routing ------------------------------------------------------------ */

static void handle(pv_handler *h, pv_request *req)
{
    pv_provision_loop *l = h->data;
    const pv_prov_policy *pol = &l->p->cfg.policy;
    pv_handler *fallback = &l->p->cfg.files->handler;
    pv_slice c[4];
    size_t n = pv_prov_components(req->path, c);
    /* issue 10: the binding path before anything reads a MAC from the path. */
    if (pv_prov_is_binding(pol, c, n)) {
        on_binding_path(l, req, n == 2 ? c[1] : PV_SLICE_LIT(""), n == 2);
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
    int rc = pv_identify(req->identity, report ? PV_SLICE_LIT("") : req->path, req->user_agent,
                         &id, &e);
    if (rc != 0) {
        /* DESIGN 3: the audit names the certificate that asked, not "?". */
        id.source = PV_ID_CERT;
        id.mac = id.cert_mac;
        refuse(l, req, &id, 403, "identity.refused", e.msg);
        return;
    }
    /* DESIGN 3, issue 11.1: one identity decision with the stored device the request
     * names, before any route (a report sent by another device's is reports.h's refusal). */
    const pv_mac *subject = report ? &report_mac : id.source != PV_ID_NONE ? &id.mac : NULL;
    pv_store_device d = {0};
    rc = subject ? pv_store_device_get(l->s, subject->hex, &d, &e) : PV_ENOENT;
    if (rc != 0 && rc != PV_ENOENT) {
        refuse(l, req, &id, 503, "profile.refused", "store unavailable: retry later");
        return;
    }
    bool known = rc == 0;
    char model[64] = "";
    pv_prov_route r = report ? PV_PROV_REPORT
                             : pv_prov_route_of(l->p->cfg.files, req, c, n, &id, known, model,
                                                sizeof model);
    if (known && pv_identity_admit(&id, d.mac, d.require_cert, d.cert_fingerprint,
                                   pv_prov_route_kind(r), &e) != 0) {
        pv_store_device_free(&d);
        refuse(l, req, &id, 403, "identity.refused", e.msg);
        return;
    }
    switch (r) {
    case PV_PROV_REPORT:
        on_report(l, req, &report_mac, kind);
        break;
    case PV_PROV_FIRMWARE:
        on_firmware(l, req);
        break;
    case PV_PROV_SECURE:
        on_secure(l, req, &id, &d, c[0]);
        break;
    case PV_PROV_BOOTSTRAP:
        on_bootstrap(l, req, &id, id.model[0] ? id.model : model);
        break;
    case PV_PROV_MAC_PATH:
        on_mac_path(l, req, &id);
        break;
    case PV_PROV_FILES:
        fallback->handle(fallback, req);
        break;
    }
    pv_store_device_free(&d);
}

/* ---- per-loop lifecycle ------------------------------------------------- */

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
    l->cache = pv_render_cache_new(p->cfg.policy.cache_entries, 0);
    uv_timer_init(loop, &l->wave_timer);
    uv_unref((uv_handle_t *)&l->wave_timer); /* never keeps a draining loop alive */
    l->wave_timer.data = l;
    l->seen = pv_calloc(PV_BATCH_MAX, sizeof *l->seen);
    l->audits = pv_calloc(PV_BATCH_MAX, sizeof *l->audits);
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

void pv_provision_loop_close(pv_provision_loop *l)
{
    if (l == NULL || !l->timer_open)
        return;
    while (l->queue != NULL) {
        waiting *w = l->queue;
        l->queue = w->next;
        pv_request_respond_status(w->req, 503, "server stopping");
        free(w);
    }
    l->queue_tail = NULL;
    flush_batch(l);
    uv_close((uv_handle_t *)&l->wave_timer, NULL);
    uv_close((uv_handle_t *)&l->check, NULL);
    l->timer_open = false;
}

void pv_provision_loop_free(pv_provision_loop *l)
{
    if (l == NULL)
        return;
    flush_batch(l); /* a loop that was never closed */
    free(l->seen);
    free(l->audits);
    pv_render_cache_free(l->cache);
    pv_store_close(l->s);
    free(l);
}

const pv_prov_policy *pv_provision_policy(const pv_provision *p)
{
    return &p->cfg.policy;
}
