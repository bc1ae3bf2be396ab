/* Unit tests for server/provision: the pv_handler driven directly through
 * pv_request values (no sockets) over a real SQLite store and a real static
 * root: bootstrap names per family, static files first, binding over HTTPS
 * only with the code never logged whole, the encrypted profile and its
 * SEC-PRV-2 move, ETag → 304 (as the HTTP transport plans it), identity
 * mismatch and require_cert refused and audited, reports → 200/403/404 (plain
 * only with the device's own certificate). */
/* Covers src/server/provision.c, prov_policy.c, prov_binding.c (a binding with a code) and
 * prov_report.c (report uploads). */
#include "server/prov_test.h"

#include "core/param.h"
#include "core/salted.h"
#include "core/xml_profile.h"
#include "net/exchange.h"
#include "net/http_response.h"
#include "server/provision.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <uv.h>

#define MAC_A "000e08aaaaaa"
#define MAC_B "000e08bbbbbb"
#define CODE "AB12CD34ef"

/* The answer, as a transport receives it: an exchange of its own (net/exchange.h). */
typedef struct answer {
    pv_exchange ex;
    int calls;
    int status;
    pv_buf body;
    pv_response resp; /* headers of the answer (body copied into body) */
    char logged_path[160]; /* the path as every transport logs it */
} answer;

static void on_respond(pv_exchange *ex)
{
    answer *a = ex->owner;
    const pv_response *resp = &ex->resp;
    a->calls++;
    a->status = resp->status;
    a->resp = *resp;
    pv_buf_reset(&a->body);
    if (resp->body_kind == PV_BODY_MEMORY) {
        pv_buf_append(&a->body, resp->body, resp->body_len);
    } else if (resp->body_kind == PV_BODY_FILE) {
        char chunk[4096];
        ssize_t n;
        while ((n = read(resp->fd, chunk, sizeof chunk)) > 0)
            pv_buf_append(&a->body, chunk, (size_t)n);
    }
    a->resp.body = NULL;
    a->resp.message = a->resp.identity_log = NULL; /* the arena's: gone with the exchange */
    pv_slice lp = pv_exchange_log_path(ex);
    snprintf(a->logged_path, sizeof a->logged_path, "%.*s", (int)lp.len, lp.ptr);
}

static void never_orphaned(pv_exchange *ex)
{
    fail_msg("the exchange outlived its owner here");
}

static const pv_exchange_ops answer_ops = {.send = on_respond, .owner_free = never_orphaned};

/* Opens a's exchange for a request from w's peer; the caller fills the rest of the request. */
static pv_request *answer_open(answer *a, pv_proto proto, const struct sockaddr_in *peer,
                               const struct sockaddr_in *local)
{
    pv_exchange_init(&a->ex, &answer_ops, a, proto, "test.request",
                     (const struct sockaddr *)peer, (const struct sockaddr *)local);
    pv_exchange_open(&a->ex, 0);
    a->calls = 0;
    return &a->ex.req;
}

/* The transport is done: the exchange writes its line and frees its arena. */
static void answer_end(answer *a)
{
    pv_exchange_end(&a->ex, a->status, NULL, false);
}

typedef struct world {
    store_fixture *f;
    char root[320], keyfile[320], fwdir[320];
    pv_fileserver files;
    pv_provision *p;
    uv_loop_t loop;
    pv_provision_loop *l;
    struct sockaddr_in peer, local;
    answer a;
} world;

static world *world_new(store_fixture *f)
{
    world *w = pv_calloc(1, sizeof *w);
    w->f = f;
    snprintf(w->root, sizeof w->root, "%s/root", f->dir);
    snprintf(w->keyfile, sizeof w->keyfile, "%s/master.key", f->dir);
    snprintf(w->fwdir, sizeof w->fwdir, "%s/firmware", f->dir);
    assert_int_equal(mkdir(w->root, 0755), 0);
    assert_ok(pv_fileserver_init(&w->files, w->root, NULL, e));
    pv_provision_config cfg = {
        .db_path = f->db, .master_key = w->keyfile, .firmware_dir = w->fwdir, .files = &w->files};
    pv_prov_policy_defaults(&cfg.policy);
    cfg.policy.tftp_port = 69;
    cfg.policy.http_port = 8080;
    cfg.policy.https_port = 8443;
    assert_ok(pv_provision_new(&cfg, &w->p, e));
    assert_int_equal(uv_loop_init(&w->loop), 0);
    assert_ok(pv_provision_loop_new(w->p, &w->loop, &w->l, e));
    /* The seeding handle keeps codes under the same master key (store.h). */
    assert_ok(pv_store_secrets_load(f->s, w->keyfile, false, e));
    w->peer = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(40000)};
    w->local = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(8080)};
    inet_pton(AF_INET, "127.0.0.2", &w->peer.sin_addr);
    inet_pton(AF_INET, "127.0.0.1", &w->local.sin_addr);
    return w;
}

static void world_free(world *w)
{
    pv_provision_loop_close(w->l);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    pv_provision_loop_free(w->l);
    assert_int_equal(uv_loop_close(&w->loop), 0);
    pv_provision_free(w->p);
    pv_fileserver_free(&w->files);
    pv_buf_free(&w->a.body);
    free(w);
}

typedef struct call {
    pv_proto proto;
    pv_method method;
    const char *path;
    const char *ua;
    const pv_peer_identity *cert;
    const pv_header *headers;
    size_t nheaders;
    pv_slice body;
} call;

/* Runs one request through the handler; returns the status. req_path
 * (may be NULL) receives the path as the transport would log it. */
static int run(world *w, const call *c, char *req_path, size_t size)
{
    pv_request *req = answer_open(&w->a, c->proto, &w->peer, &w->local);
    req->method = c->method;
    req->path = pv_slice_from(c->path);
    req->user_agent = pv_slice_from(c->ua ? c->ua : "");
    req->headers = c->headers;
    req->header_count = c->nheaders;
    req->body = c->body;
    req->identity = c->cert;
    pv_exchange_dispatch(&w->a.ex, pv_provision_loop_handler(w->l));
    /* What the loop does at the end of its pass: commit the held answers'
     * records, then send them. */
    pv_provision_loop_flush(w->l);
    assert_int_equal(w->a.calls, 1); /* answered exactly once */
    if (req_path != NULL)
        snprintf(req_path, size, "%s", w->a.logged_path);
    answer_end(&w->a);
    return w->a.status;
}

static int get(world *w, pv_proto proto, const char *path, const pv_peer_identity *cert)
{
    call c = {.proto = proto,
              .method = proto == PV_PROTO_TFTP ? PV_METHOD_TFTP_READ : PV_METHOD_GET,
              .path = path,
              .cert = cert};
    return run(w, &c, NULL, 0);
}

static int64_t audits(pv_store *s, const char *action, const char *subject, const char *needle)
{
    pv_store_page page = {.limit = 1000};
    pv_store_audit *rows = NULL;
    size_t n = 0;
    int64_t count = 0;
    assert_ok(pv_store_audit_list(s, subject, &page, &rows, &n, e));
    for (size_t i = 0; i < n; i++)
        if (strcmp(rows[i].action, action) == 0 &&
            (needle == NULL || (rows[i].detail && strstr(rows[i].detail, needle))))
            count++;
    pv_store_audits_free(rows, n);
    return count;
}

static const char *param(world *w, pv_params *p, const char *name)
{
    pv_params_free(p);
    assert_ok(pv_xml_parse(pv_buf_slice(&w->a.body), p, NULL, e));
    return pv_params_value(p, name);
}

static void bootstrap_names_per_family(void **state)
{
    world *w = world_new(*state);
    static const struct {
        pv_proto proto;
        const char *path, *delay;
    } cases[] = {
        {PV_PROTO_HTTP, "/8841-3PCC.xml", "120"}, /* MPP: seconds */
        {PV_PROTO_HTTP, "/spa2102.cfg", "6"},     /* SPA: 20 s units */
        {PV_PROTO_TFTP, "spa504G.cfg", "6"},      /* TFTP names have no '/' */
        {PV_PROTO_HTTP, "/ata191.cfg", "6"},       {PV_PROTO_TFTP, "init.cfg", "6"}, /* PAP2T */
        {PV_PROTO_HTTP, "/000e08abcdef.xml", "6"}, /* $MA.xml of an unknown phone */
        {PV_PROTO_TFTP, "000E08ABCDEF.cfg", "6"},  /* $MA.cfg */
    };
    pv_params p = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(get(w, cases[i].proto, cases[i].path, NULL), 200);
        assert_string_equal(param(w, &p, "Profile_Rule"), "https://127.0.0.1:8443/$MA.xml");
        assert_string_equal(pv_params_value(&p, "Profile_Rule_B"),
                            "https://127.0.0.1:8443/$MA.xml");
        assert_string_equal(pv_params_value(&p, "Resync_Random_Delay"), cases[i].delay);
        assert_string_equal(pv_params_value(&p, "Resync_Error_Retry_Delay"),
                            "30+30,60+60,120+120,240+240,600+600"); /* DESIGN 8 */
    }
    pv_params_free(&p);
    assert_int_equal(audits(w->f->s, "bootstrap.served", NULL, "bootstrap"), 7);
    assert_int_equal(audits(w->f->s, "bootstrap.served", NULL, "model=CP-8841-3PCC"), 1);
    assert_int_equal(audits(w->f->s, "bootstrap.served", NULL, "model=PAP2T"), 1);
    world_free(w);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void static_files_win(void **state)
{
    world *w = world_new(*state);
    write_file(w->root, "spa2102.cfg", "provider's own bootstrap\n");
    write_file(w->root, "000e08abcdef.xml", "provider's own per-MAC file\n");
    assert_int_equal(get(w, PV_PROTO_HTTP, "/spa2102.cfg", NULL), 200);
    assert_slice_equal(pv_buf_slice(&w->a.body), "provider's own bootstrap\n");
    assert_int_equal(get(w, PV_PROTO_TFTP, "000e08abcdef.xml", NULL), 200);
    assert_slice_equal(pv_buf_slice(&w->a.body), "provider's own per-MAC file\n");
    assert_int_equal(get(w, PV_PROTO_HTTP, "/nothing.txt", NULL), 404);
    assert_int_equal(get(w, PV_PROTO_HTTP, "/a/b/c/d.cfg", NULL), 404);
    assert_int_equal(audits(w->f->s, "bootstrap.served", NULL, NULL), 0);
    world_free(w);
}

/* Binds phone A over HTTPS with its certificate; returns its key and directory. */
static void bind_a(world *w, char key[65], char dir[64])
{
    store_fixture *f = w->f;
    pv_store_account got = {0};
    if (pv_store_account_get_by_name(f->s, "C-1", &got, NULL) != 0) {
        int64_t acct = seed_account(f->s, "C-1");
        assert_ok(pv_store_code_create(f->s, acct, CODE, 1LL << 40, 0, 1000, NULL, e));
    }
    pv_store_account_free(&got);
    assert_ok(
        pv_store_param_put(f->s, "account:1", "User_ID_1_", "{{line1.user_id}}", "ro", 1000, e));
    pv_peer_identity cert = phone_cert(MAC_A, "SPA504G");
    char logged[128];
    log_capture_start();
    call c = {
        .proto = PV_PROTO_HTTPS, .method = PV_METHOD_GET, .path = "/init/" CODE, .cert = &cert};
    assert_int_equal(run(w, &c, logged, sizeof logged), 200);
    log_capture_stop();
    /* DESIGN 5, 10: the code never whole in a log line nor in the path the
     * transport logs, nor in the audit. */
    assert_non_null(captured_log.data);
    assert_non_null(strstr(captured_log.data, "binding.attempt"));
    assert_null(strstr(captured_log.data, CODE));
    assert_null(strstr(captured_log.data, "AB12CD"));
    assert_null(strstr(logged, "AB12CD"));
    assert_non_null(strstr(logged, "/init/AB"));
    assert_int_equal(audits(f->s, "device.bound", MAC_A, "code=AB"), 1);
    pv_params p = {0};
    snprintf(key, 65, "%s", param(w, &p, "GPP_SA"));
    snprintf(dir, 64, "%s", pv_params_value(&p, "GPP_B"));
    assert_string_equal(pv_params_value(&p, "Profile_Rule"),
                        "[--key $SA] http://127.0.0.1:8080/$B/$MA.cfg");
    pv_params_free(&p);
}

static void binding_needs_https(void **state)
{
    world *w = world_new(*state);
    int64_t acct = seed_account(w->f->s, "C-1");
    assert_ok(pv_store_code_create(w->f->s, acct, CODE, 1LL << 40, 0, 1000, NULL, e));
    char logged[128];
    call c = {.proto = PV_PROTO_HTTP, .method = PV_METHOD_GET, .path = "/init/" CODE};
    assert_int_equal(run(w, &c, logged, sizeof logged), 403);
    assert_null(strstr(logged, CODE));
    c.proto = PV_PROTO_HTTPS; /* no certificate */
    assert_int_equal(run(w, &c, logged, sizeof logged), 403);
    assert_int_equal(audits(w->f->s, "binding.refused", NULL, NULL), 2);
    assert_int_equal(audits(w->f->s, "binding.refused", NULL, CODE), 0);
    char key[65], dir[64];
    bind_a(w, key, dir); /* the code was not spent by the refusals */
    world_free(w);
}

static void encrypted_profile_etag_and_sec_prv_2(void **state)
{
    world *w = world_new(*state);
    char key[65], dir[64], path[128];
    bind_a(w, key, dir);
    snprintf(path, sizeof path, "/%s/" MAC_A ".cfg", dir);
    assert_int_equal(get(w, PV_PROTO_HTTP, path, NULL), 200);
    assert_true(pv_salted_detect(pv_buf_slice(&w->a.body)));
    pv_buf plain = {0};
    assert_ok(pv_salted_decrypt(pv_buf_slice(&w->a.body), pv_slice_from(key), PV_MD_MD5, 1 << 20,
                                &plain, e)); /* SPA: md5 (DESIGN 7) */
    assert_non_null(strstr(plain.data, "<User_ID_1_ ua=\"ro\">1001</User_ID_1_>"));
    pv_store_device d = {0};
    assert_ok(pv_store_device_get(w->f->s, MAC_A, &d, e));
    assert_int_equal(d.state, PV_STATE_SEC_PRV_2); /* spec 12.2 step 4 */
    char etag[72];
    snprintf(etag, sizeof etag, "%s", w->a.resp.etag);
    assert_true(etag[0] == '"');
    assert_string_equal(d.served_version, etag);
    pv_store_device_free(&d);
    assert_int_equal(audits(w->f->s, "profile.served", MAC_A, "etag="), 1);
    /* Same content version: same bytes, same ETag; the transport then answers
     * If-None-Match with 304 (RFC 9110 §13.1.2). */
    pv_buf first = {0};
    pv_buf_append(&first, w->a.body.data, w->a.body.len);
    assert_int_equal(get(w, PV_PROTO_TFTP, path + 1, NULL), 200);
    assert_int_equal(w->a.body.len, first.len);
    assert_memory_equal(w->a.body.data, first.data, first.len);
    pv_header inm = {PV_SLICE_LIT("If-None-Match"), pv_slice_from(etag)};
    call c = {.proto = PV_PROTO_HTTP,
              .method = PV_METHOD_GET,
              .path = path,
              .headers = &inm,
              .nheaders = 1};
    assert_int_equal(run(w, &c, NULL, 0), 200);
    pv_http_plan plan;
    pv_http_plan_response(PV_METHOD_GET, &inm, 1, &w->a.resp, w->a.body.len, &plan);
    assert_int_equal(plan.status, 304);
    assert_false(plan.send_body);
    /* A changed parameter: new ETag, the old one no longer matches. */
    assert_ok(pv_store_param_put(w->f->s, "global", "Proxy_1_", "new.example", NULL, 3000, e));
    assert_int_equal(run(w, &c, NULL, 0), 200);
    assert_string_not_equal(w->a.resp.etag, etag);
    pv_http_plan_response(PV_METHOD_GET, &inm, 1, &w->a.resp, w->a.body.len, &plan);
    assert_int_equal(plan.status, 200);
    /* An unknown directory: 404, audited, never echoed. */
    assert_int_equal(get(w, PV_PROTO_HTTP, "/WrongDir/" MAC_A ".cfg", NULL), 404);
    assert_int_equal(audits(w->f->s, "profile.refused", MAC_A, NULL), 1);
    assert_int_equal(audits(w->f->s, "profile.refused", MAC_A, "WrongDir"), 0);
    pv_buf_free(&first);
    pv_buf_free(&plain);
    world_free(w);
}

static void on_tick(uv_timer_t *t)
{
    uv_close((uv_handle_t *)t, NULL);
}

/* Phone A bound and at SEC-PRV-2 after its first encrypted-profile fetch (written at once);
 * path: that profile's. */
static void secured_a(world *w, char *path, size_t size)
{
    char key[65], dir[64];
    bind_a(w, key, dir);
    snprintf(path, size, "/%s/" MAC_A ".cfg", dir);
    assert_int_equal(get(w, PV_PROTO_HTTP, path, NULL), 200);
}

/* A repeat of the answer the loop last recorded for a device — same profile, firmware, address
 * and protocol — within [provisioning] seen_interval_s (60 s by default) is sent at once and
 * writes nothing: that version's row exists and last-seen lags by less than the interval
 * (issue 18). Anything that differs is held and recorded again. */
static void a_repeat_within_the_interval_records_nothing(void **state)
{
    world *w = world_new(*state);
    char path[128];
    secured_a(w, path, sizeof path);
    assert_int_equal(get(w, PV_PROTO_HTTP, path, NULL), 200); /* held, recorded by the pass */
    assert_int_equal(audits(w->f->s, "profile.served", MAC_A, NULL), 2);
    pv_store_device d = {0};
    assert_ok(pv_store_device_get(w->f->s, MAC_A, &d, e));
    assert_non_null(d.served_version); /* the ETag the batch recorded, not an empty string */
    assert_int_equal(d.served_version[0], '"');
    int64_t seen = d.last_seen;
    pv_store_device_free(&d);
    answer a = {0};
    pv_request *req = answer_open(&a, PV_PROTO_HTTP, &w->peer, &w->local);
    req->method = PV_METHOD_GET;
    req->path = pv_slice_from(path);
    pv_exchange_dispatch(&a.ex, pv_provision_loop_handler(w->l));
    assert_int_equal(a.calls, 1); /* not held: sent at once */
    assert_int_equal(a.status, 200);
    answer_end(&a);
    pv_buf_free(&a.body);
    pv_provision_loop_flush(w->l);
    assert_int_equal(audits(w->f->s, "profile.served", MAC_A, NULL), 2);
    assert_ok(pv_store_device_get(w->f->s, MAC_A, &d, e));
    assert_int_equal(d.last_seen, seen);
    pv_store_device_free(&d);
    /* Another address (where a direct NOTIFY goes), another protocol: recorded. */
    inet_pton(AF_INET, "127.0.0.3", &w->peer.sin_addr);
    assert_int_equal(get(w, PV_PROTO_HTTP, path, NULL), 200);
    assert_int_equal(audits(w->f->s, "profile.served", MAC_A, NULL), 3);
    assert_ok(pv_store_device_get(w->f->s, MAC_A, &d, e));
    assert_string_equal(d.last_address, "127.0.0.3");
    pv_store_device_free(&d);
    assert_int_equal(get(w, PV_PROTO_TFTP, path, NULL), 200);
    assert_int_equal(audits(w->f->s, "profile.served", MAC_A, "proto=tftp"), 1);
    world_free(w);
}

/* An ordinary fetch's records are batched and written by the loop at the
 * end of its pass, and its answer is held until they are committed: no
 * phone receives a profile the audit does not show (issue 19 item 4). */
static void served_answers_wait_for_their_records(void **state)
{
    world *w = world_new(*state);
    char path[128];
    secured_a(w, path, sizeof path);
    assert_int_equal(audits(w->f->s, "profile.served", MAC_A, NULL), 1);
    answer ans[3] = {0};
    for (int i = 0; i < 3; i++) {
        pv_request *req = answer_open(&ans[i], PV_PROTO_HTTP, &w->peer, &w->local);
        req->method = PV_METHOD_GET;
        req->path = pv_slice_from(path);
        pv_exchange_dispatch(&ans[i].ex, pv_provision_loop_handler(w->l));
        assert_int_equal(ans[i].calls, 0); /* held */
    }
    assert_int_equal(audits(w->f->s, "profile.served", MAC_A, NULL), 1);
    uv_timer_t t;
    uv_timer_init(&w->loop, &t);
    uv_timer_start(&t, on_tick, 1, 0);
    uv_run(&w->loop, UV_RUN_DEFAULT); /* the loop's pass commits, then answers */
    assert_int_equal(audits(w->f->s, "profile.served", MAC_A, NULL), 4);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ans[i].calls, 1);
        assert_int_equal(ans[i].status, 200);
        answer_end(&ans[i]);
        pv_buf_free(&ans[i].body);
    }
    world_free(w);
}

/* issue 10: a 12-digit code (what `provisor code create` issues) also reads as
 * a MAC: the binding path is routed before identity reads one from a path, on
 * every transport, and the code reaches no log line and no audit entry. */
static void numeric_codes_route_before_identity(void **state)
{
    world *w = world_new(*state);
    int64_t acct = seed_account(w->f->s, "C-1");
    assert_ok(pv_store_code_create(w->f->s, acct, "602885080253", 1LL << 40, 0, 1000, NULL, e));
    pv_peer_identity cert = phone_cert(MAC_A, "SPA504G");
    char logged[128];
    log_capture_start();
    call c = {.proto = PV_PROTO_TFTP, .method = PV_METHOD_TFTP_READ, .path = "init/602885080253"};
    assert_int_equal(run(w, &c, logged, sizeof logged), 403);
    assert_string_equal(logged, "/init/60...");
    c = (call){.proto = PV_PROTO_HTTPS,
               .method = PV_METHOD_GET,
               .path = "/init/602885080253/",
               .cert = &cert};
    assert_int_equal(run(w, &c, logged, sizeof logged), 200);
    assert_string_equal(logged, "/init/60...");
    c.path = "/init/602885080253/x";
    assert_int_equal(run(w, &c, logged, sizeof logged), 404);
    assert_null(strstr(logged, "602885080253"));
    log_capture_stop();
    assert_null(strstr(captured_log.data, "602885080253"));
    assert_null(strstr(captured_log.data, "2885080253"));
    assert_int_equal(audits(w->f->s, "identity.refused", NULL, NULL), 0);
    assert_int_equal(audits(w->f->s, "device.bound", MAC_A, "code=60"), 1);
    assert_int_equal(audits(w->f->s, "binding.refused", NULL, "602885080253"), 0);
    world_free(w);
}

static void identity_mismatch_and_require_cert(void **state)
{
    world *w = world_new(*state);
    char key[65], dir[64], path[128];
    bind_a(w, key, dir);
    snprintf(path, sizeof path, "/%s/" MAC_A ".cfg", dir);
    /* B's certificate asks for A's profile. */
    pv_peer_identity b = phone_cert(MAC_B, "SPA504G");
    assert_int_equal(get(w, PV_PROTO_HTTPS, path, &b), 403);
    assert_int_equal(w->a.body.len, 0);
    assert_int_equal(audits(w->f->s, "identity.refused", MAC_B, MAC_A), 1);
    /* A's certificate with B's User-Agent (spec 8.1). */
    pv_peer_identity a = phone_cert(MAC_A, "SPA504G");
    call c = {.proto = PV_PROTO_HTTPS,
              .method = PV_METHOD_GET,
              .path = path,
              .ua = "Cisco/SPA504G-7.6.2 (000E08BBBBBB)(CBT141400UK)",
              .cert = &a};
    assert_int_equal(run(w, &c, NULL, 0), 403);
    assert_int_equal(audits(w->f->s, "identity.refused", MAC_A, NULL), 1);
    /* Its own certificate works. */
    assert_int_equal(get(w, PV_PROTO_HTTPS, path, &a), 200);
    /* require_cert: plain HTTP now refused and audited. */
    pv_store_device d = {0};
    assert_ok(pv_store_device_get(w->f->s, MAC_A, &d, e));
    d.require_cert = true;
    assert_ok(pv_store_device_update(w->f->s, &d, 3000, e));
    pv_store_device_free(&d);
    assert_int_equal(get(w, PV_PROTO_HTTP, path, NULL), 403);
    /* TFTP: refused as a missing file is, so that a known MAC looks like an unknown one. */
    assert_int_equal(get(w, PV_PROTO_TFTP, path + 1, NULL), 404);
    assert_int_equal(audits(w->f->s, "identity.refused", MAC_A, "client certificate"), 2);
    /* Another certificate naming A (not the fingerprint bound): refused. */
    pv_peer_identity forged = a;
    forged.fingerprint[0] = forged.fingerprint[0] == 'f' ? 'e' : 'f';
    assert_int_equal(get(w, PV_PROTO_HTTPS, path, &forged), 403);
    assert_int_equal(get(w, PV_PROTO_HTTPS, path, &a), 200);
    world_free(w);
}

static void in_house_mac_path(void **state)
{
    world *w = world_new(*state);
    seed_device(w->f->s, MAC_B, "CP-8841-3PCC", seed_account(w->f->s, "C-2"));
    pv_peer_identity b = phone_cert(MAC_B, "CP-8841-3PCC");
    /* A known, assigned device asking /$MA.xml with its certificate: SEC-PRV-1. */
    assert_int_equal(get(w, PV_PROTO_HTTPS, "/" MAC_B ".xml", &b), 200);
    pv_params p = {0};
    assert_int_equal(strlen(param(w, &p, "GPP_SA")), 64);
    pv_params_free(&p);
    pv_store_device d = {0};
    assert_ok(pv_store_device_get(w->f->s, MAC_B, &d, e));
    assert_int_equal(d.state, PV_STATE_SEC_PRV_1);
    pv_store_device_free(&d);
    /* An unknown phone with a certificate: nothing here yet. */
    pv_peer_identity a = phone_cert(MAC_A, "SPA504G");
    assert_int_equal(get(w, PV_PROTO_HTTPS, "/" MAC_A ".xml", &a), 404);
    world_free(w);
}

static void reports_through_the_handler(void **state)
{
    world *w = world_new(*state);
    char key[65], dir[64];
    bind_a(w, key, dir);
    static const char xml[] = "<flat-profile><Proxy_1_>x</Proxy_1_></flat-profile>";
    pv_buf enc = {0};
    const uint8_t salt[8] = {7};
    assert_ok(pv_salted_encrypt(PV_SLICE_LIT(xml), pv_slice_from(key), PV_MD_MD5, salt, &enc, e));
    call c = {.proto = PV_PROTO_HTTP,
              .method = PV_METHOD_POST,
              .path = "/report/" MAC_A ".xml",
              .body = pv_buf_slice(&enc)};
    assert_int_equal(run(w, &c, NULL, 0), 200);
    c.proto = PV_PROTO_TFTP;
    c.method = PV_METHOD_TFTP_WRITE;
    c.path = "report/" MAC_A "-status.xml";
    assert_int_equal(run(w, &c, NULL, 0), 200);
    c.body = PV_SLICE_LIT("garbage");
    c.proto = PV_PROTO_HTTP;
    c.method = PV_METHOD_PUT;
    c.path = "/report/" MAC_A ".xml";
    assert_int_equal(run(w, &c, NULL, 0), 403); /* plain: anyone's word */
    c.path = "/report/" MAC_B ".xml";
    assert_int_equal(run(w, &c, NULL, 0), 404);
    /* Plain over HTTPS with the device's own certificate; not with another's. */
    pv_peer_identity a = phone_cert(MAC_A, "SPA504G"), b = phone_cert(MAC_B, "SPA504G");
    c.proto = PV_PROTO_HTTPS;
    c.path = "/report/" MAC_A ".xml";
    c.body = PV_SLICE_LIT(xml);
    c.cert = &b;
    assert_int_equal(run(w, &c, NULL, 0), 403);
    c.cert = &a;
    assert_int_equal(run(w, &c, NULL, 0), 200);
    assert_int_equal(audits(w->f->s, "report.received", MAC_A, NULL), 3);
    assert_int_equal(audits(w->f->s, "report.refused", MAC_A, NULL), 2);
    pv_buf_free(&enc);
    world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        STORE_TEST(bootstrap_names_per_family),
        STORE_TEST(static_files_win),
        STORE_TEST(binding_needs_https),
        STORE_TEST(encrypted_profile_etag_and_sec_prv_2),
        STORE_TEST(served_answers_wait_for_their_records),
        STORE_TEST(a_repeat_within_the_interval_records_nothing),
        STORE_TEST(numeric_codes_route_before_identity),
        STORE_TEST(identity_mismatch_and_require_cert),
        STORE_TEST(in_house_mac_path),
        STORE_TEST(reports_through_the_handler),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
