/*
 * test_fetch.c — the fetcher (net/fetch.h), both engines (libcurl's and the
 * native one the fleet uses: every test runs once per engine), against real peers on one loop:
 * Provisor's own HTTP, HTTPS (test PKI made with the openssl command) and
 * TFTP servers, a listener that never answers, and a closed port. Checks
 * statuses, headers, bodies, bounds, error classes, client certificates,
 * uploads and the connection accounting the fleet relies on.
 * Covers src/net/fetch.c, fetch_curl.c, fetch_native.c, fetch_native_conn.c, fetch_tftp.c (the
 * native engine's tftp:// transfers) and tls_cred.c (the credentials the native engine parses
 * once).
 */
#include "http_test_env.h"

#include "net/fetch.h"
#include "net/fileserver.h"
#include "net/tftp_server.h"
#include "net/tls.h"

#include <sys/socket.h>

typedef struct world {
    char dir[128];
    uv_loop_t loop;
    pv_handler handler;
    pv_fileserver fs;
    pv_http_server *http, *https;
    pv_tftp_server *tftp;
    pv_tls_slot *slot;
    pv_fetcher *f;
    int silent_fd; /* a listener that never accepts */
    int silent_port, closed_port;
    char http_base[64], https_base[64], tftp_base[64];
} world;

static world W;
static int engine; /* the group being run: PV_FETCH_ENGINE_CURL, then _NATIVE */

typedef struct outcome {
    bool done;
    int error, status;
    char location[256], encoding[64], text[256];
    pv_buf body;
    unsigned conns;
    double tls_ms;
} outcome;

static void handle(pv_handler *self, pv_request *req)
{
    pv_buf b = {0};
    pv_response resp = {.fd = -1};
    if (pv_slice_eq_cstr(req->path, "/redirect")) {
        resp.status = 302;
        resp.location = "/moved/here.xml";
        pv_request_respond(req, &resp);
        return;
    }
    if (pv_slice_eq_cstr(req->path, "/gz")) {
        resp.content_encoding = "gzip";
        pv_response_set_body(req, &resp, 200, "\x1f\x8bnot-really", 12, "application/xml");
        pv_request_respond(req, &resp);
        return;
    }
    if (pv_slice_eq_cstr(req->path, "/big")) {
        size_t n = (size_t)2 << 20;
        char *big = pv_malloc(n);
        memset(big, 'x', n);
        pv_response_set_body(req, &resp, 200, big, n, NULL);
        free(big);
        pv_request_respond(req, &resp);
        return;
    }
    if (pv_slice_eq_cstr(req->path, "/echo")) {
        pv_slice ct = pv_request_header(req, "Content-Type");
        pv_slice ce = pv_request_header(req, "Content-Encoding");
        pv_buf_appendf(&b, "%.*s|%.*s|%.*s|%.*s|", PV_SLICE_ARG(req->method_name), PV_SLICE_ARG(ct),
                       PV_SLICE_ARG(ce), PV_SLICE_ARG(req->user_agent));
        pv_buf_append_slice(&b, req->body);
    } else if (pv_slice_eq_cstr(req->path, "/whoami")) {
        pv_buf_appendf(&b, "%s", req->identity ? pv_peer_identity_attr(req->identity, "ST") : "nobody");
    } else if (pv_slice_eq_cstr(req->path, "/status/503")) {
        pv_request_respond_status(req, 503, "busy");
        return;
    } else {
        pv_request_respond_status(req, 404, "not here");
        return;
    }
    pv_response_set_body(req, &resp, 200, b.data ? b.data : "", b.len, "text/plain");
    pv_buf_free(&b);
    pv_request_respond(req, &resp);
}

static int addr_port(const char *addr)
{
    const char *c = strrchr(addr, ':');
    return c ? atoi(c + 1) : 0;
}

static int setup(void **state)
{
    snprintf(W.dir, sizeof W.dir, "/tmp/pv-fetch-XXXXXX");
    assert_non_null(mkdtemp(W.dir));
    make_pki(W.dir);
    assert_int_equal(sh(NULL, "mkdir -p %s/root %s/up && printf 'hello tftp' > %s/root/t.cfg",
                        W.dir, W.dir, W.dir),
                     0);
    pv_log_set_level(PV_LOG_WARN);
    assert_int_equal(uv_loop_init(&W.loop), 0);
    pv_error err;
    W.handler.handle = handle;
    pv_http_server_options ho = {.address = "127.0.0.1:0", .handler = &W.handler};
    assert_int_equal(pv_http_server_new(&W.loop, &ho, &W.http, &err), 0);
    char cert[256], key[256], ca[256];
    snprintf(cert, sizeof cert, "%s/pki/server.crt", W.dir);
    snprintf(key, sizeof key, "%s/pki/server.key", W.dir);
    snprintf(ca, sizeof ca, "%s/pki/mfg-ca.crt", W.dir);
    pv_tls_config tc = {.cert_file = cert,
                        .key_file = key,
                        .client_ca_file = ca,
                        .client_cert = PV_CLIENT_CERT_OPTIONAL,
                        .security_level = -1};
    pv_tls_context *ctx;
    assert_int_equal(pv_tls_context_new(&tc, &ctx, &err), 0);
    W.slot = pv_tls_slot_new(ctx);
    ho.tls = W.slot;
    assert_int_equal(pv_http_server_new(&W.loop, &ho, &W.https, &err), 0);
    char root[256], up[256];
    snprintf(root, sizeof root, "%s/root", W.dir);
    snprintf(up, sizeof up, "%s/up", W.dir);
    assert_int_equal(pv_fileserver_init(&W.fs, root, up, &err), 0);
    pv_tftp_server_options to = {.address = "127.0.0.1:0", .handler = &W.fs.handler};
    assert_int_equal(pv_tftp_server_new(&W.loop, &to, &W.tftp, &err), 0);
    snprintf(W.http_base, sizeof W.http_base, "http://127.0.0.1:%d",
             addr_port(pv_http_server_address(W.http)));
    snprintf(W.https_base, sizeof W.https_base, "https://localhost:%d",
             addr_port(pv_http_server_address(W.https)));
    snprintf(W.tftp_base, sizeof W.tftp_base, "tftp://127.0.0.1:%d",
             addr_port(pv_tftp_server_address(W.tftp)));
    /* a listener whose backlog completes connections nobody ever answers */
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    W.silent_fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(bind(W.silent_fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(W.silent_fd, 8), 0);
    socklen_t sl = sizeof sa;
    getsockname(W.silent_fd, (struct sockaddr *)&sa, &sl);
    W.silent_port = ntohs(sa.sin_port);
    int c = socket(AF_INET, SOCK_STREAM, 0); /* a port with nothing behind it */
    sa.sin_port = 0;
    bind(c, (struct sockaddr *)&sa, sizeof sa);
    sl = sizeof sa;
    getsockname(c, (struct sockaddr *)&sa, &sl);
    W.closed_port = ntohs(sa.sin_port);
    close(c);
    pv_fetcher_options fo;
    pv_fetcher_options_default(&fo);
    char sca[256], pc[256], pk[256];
    snprintf(sca, sizeof sca, "%s/pki/server-ca.crt", W.dir);
    snprintf(pc, sizeof pc, "%s/pki/phone.crt", W.dir);
    snprintf(pk, sizeof pk, "%s/pki/phone.key", W.dir);
    fo.ca_file = sca;
    fo.cert_file = pc;
    fo.key_file = pk;
    fo.timeout_ms = 1500;
    fo.connect_timeout_ms = 1000;
    fo.engine = engine;
    assert_int_equal(pv_fetcher_new(&W.loop, &fo, &W.f, &err), 0);
    (void)state;
    return 0;
}

static void closed_cb(void *data)
{
    (*(int *)data)++;
}

static int teardown(void **state)
{
    int closed = 0;
    pv_fetcher_close(W.f, closed_cb, &closed);
    pv_http_server_close(W.http, 0, closed_cb, &closed);
    pv_http_server_close(W.https, 0, closed_cb, &closed);
    pv_tftp_server_close(W.tftp, 0, closed_cb, &closed);
    while (closed < 4)
        uv_run(&W.loop, UV_RUN_ONCE);
    uv_run(&W.loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&W.loop), 0);
    pv_tls_slot_free(W.slot);
    pv_fileserver_free(&W.fs);
    close(W.silent_fd);
    sh(NULL, "rm -rf %s", W.dir);
    (void)state;
    return 0;
}

static void on_done(pv_fetch *fetch, const pv_fetch_result *r, void *data)
{
    outcome *o = data;
    o->done = true;
    o->error = r->error;
    o->status = r->status;
    o->conns = r->new_connections;
    o->tls_ms = r->tls_ms;
    snprintf(o->location, sizeof o->location, "%s", r->location ? r->location : "");
    snprintf(o->encoding, sizeof o->encoding, "%s", r->content_encoding ? r->content_encoding : "");
    snprintf(o->text, sizeof o->text, "%s", r->error_text);
    pv_buf_append(&o->body, r->body, r->body_len);
    pv_buf_append_char(&o->body, '\0');
    o->body.len--;
}

/* Runs one request to its end on the loop. */
static void fetch_on(pv_fetcher *f, const pv_fetch_request *req, outcome *o)
{
    memset(o, 0, sizeof *o);
    pv_error err;
    assert_int_equal(pv_fetch_start(f, req, on_done, o, NULL, &err), 0);
    assert_false(o->done); /* never from inside pv_fetch_start */
    while (!o->done)
        uv_run(&W.loop, UV_RUN_ONCE);
}

static void fetch(const pv_fetch_request *req, outcome *o)
{
    fetch_on(W.f, req, o);
}

static void get(const char *url, outcome *o)
{
    pv_fetch_request req = {.url = url, .user_agent = "Cisco/SPA504G-7.6.2 (test)"};
    fetch(&req, o);
}

static void url(char *buf, const char *base, const char *path)
{
    snprintf(buf, 256, "%s%s", base, path);
}

static void test_http_statuses_and_headers(void **state)
{
    char u[256];
    outcome o;
    url(u, W.http_base, "/redirect");
    get(u, &o);
    assert_int_equal(o.error, 0);
    assert_int_equal(o.status, 302); /* spec 8.3: the engine follows, not libcurl */
    assert_string_equal(o.location, "/moved/here.xml");
    pv_buf_free(&o.body);
    url(u, W.http_base, "/gz");
    get(u, &o);
    assert_int_equal(o.status, 200);
    assert_string_equal(o.encoding, "gzip");
    assert_int_equal(o.body.len, 12); /* not decoded: that is the engine's job */
    pv_buf_free(&o.body);
    url(u, W.http_base, "/status/503");
    get(u, &o);
    assert_int_equal(o.error, 0);
    assert_int_equal(o.status, 503);
    pv_buf_free(&o.body);
    url(u, W.http_base, "/nope");
    get(u, &o);
    assert_int_equal(o.status, 404);
    pv_buf_free(&o.body);
    (void)state;
}

static void test_post_put_bodies(void **state)
{
    char u[256];
    outcome o;
    url(u, W.http_base, "/echo");
    pv_fetch_request req = {.url = u,
                            .method = "POST",
                            .body = "a=1&b=2",
                            .body_len = 7,
                            .content_type = "application/x-www-form-urlencoded",
                            .user_agent = "UA/1"};
    fetch(&req, &o);
    assert_int_equal(o.status, 200);
    assert_string_equal(o.body.data, "POST|application/x-www-form-urlencoded||UA/1|a=1&b=2");
    pv_buf_free(&o.body);
    req.method = "PUT";
    req.body = "\x00\x01report";
    req.body_len = 8;
    req.content_type = "application/octet-stream";
    req.content_encoding = "aes128gcm";
    fetch(&req, &o);
    assert_int_equal(o.status, 200);
    assert_int_equal(o.body.len, strlen("PUT|application/octet-stream|aes128gcm|UA/1|") + 8);
    assert_memory_equal(o.body.data + o.body.len - 8, "\x00\x01report", 8);
    pv_buf_free(&o.body);
    req.method = "DELETE";
    pv_error err;
    assert_int_equal(pv_fetch_start(W.f, &req, on_done, &o, NULL, &err), PV_EINVAL);
    (void)state;
}

static void test_body_bound(void **state)
{
    char u[256];
    outcome o;
    url(u, W.http_base, "/big");
    pv_fetch_request req = {.url = u, .max_body = (size_t)1 << 20};
    fetch(&req, &o);
    assert_int_equal(o.error, PV_ETOOBIG);
    assert_int_equal(o.body.len, 0);
    pv_buf_free(&o.body);
    req.max_body = (size_t)4 << 20;
    fetch(&req, &o);
    assert_int_equal(o.error, 0);
    assert_int_equal(o.body.len, (size_t)2 << 20);
    pv_buf_free(&o.body);
    (void)state;
}

static void test_transport_errors(void **state)
{
    char u[256];
    outcome o;
    snprintf(u, sizeof u, "http://127.0.0.1:%d/x", W.closed_port);
    get(u, &o);
    assert_int_equal(o.error, PV_ECONN);
    assert_int_equal(o.status, 0);
    assert_true(strlen(o.text) > 0);
    pv_buf_free(&o.body);
    snprintf(u, sizeof u, "http://127.0.0.1:%d/x", W.silent_port);
    uint64_t t0 = uv_hrtime();
    get(u, &o);
    assert_int_equal(o.error, PV_ETIMEDOUT);
    assert_true((uv_hrtime() - t0) / 1000000 < 5000); /* bounded by timeout_ms */
    pv_buf_free(&o.body);
    get("gopher://127.0.0.1/x", &o);
    assert_int_equal(o.error, PV_EINVAL);
    pv_buf_free(&o.body);
    (void)state;
}

static void test_https_client_cert(void **state)
{
    char u[256];
    outcome o;
    url(u, W.https_base, "/whoami");
    pv_fetch_request req = {.url = u, .client_cert = true};
    fetch(&req, &o);
    assert_int_equal(o.error, 0);
    assert_int_equal(o.status, 200);
    assert_string_equal(o.body.data, "000e08abcdef"); /* spec 4.4: S= of the certificate */
    assert_int_equal(o.conns, 1);
    assert_true(o.tls_ms > 0);
    pv_buf_free(&o.body);
    req.client_cert = false;
    fetch(&req, &o);
    assert_string_equal(o.body.data, "nobody");
    pv_buf_free(&o.body);
    /* a server the CA bundle does not vouch for */
    pv_fetcher_options fo;
    pv_fetcher_options_default(&fo);
    char rogue[256];
    snprintf(rogue, sizeof rogue, "%s/pki/rogue-ca.crt", W.dir);
    fo.ca_file = rogue;
    fo.engine = engine;
    pv_fetcher *other;
    pv_error err;
    assert_int_equal(pv_fetcher_new(&W.loop, &fo, &other, &err), 0);
    fetch_on(other, &req, &o);
    assert_int_equal(o.error, PV_ECONN);
    pv_buf_free(&o.body);
    int closed = 0;
    pv_fetcher_close(other, closed_cb, &closed);
    while (!closed)
        uv_run(&W.loop, UV_RUN_ONCE);
    (void)state;
}

static void test_tftp_read_write(void **state)
{
    char u[256];
    outcome o;
    url(u, W.tftp_base, "/t.cfg");
    get(u, &o);
    assert_int_equal(o.error, 0);
    assert_int_equal(o.status, 200);
    assert_string_equal(o.body.data, "hello tftp");
    pv_buf_free(&o.body);
    url(u, W.tftp_base, "/missing.cfg");
    get(u, &o);
    assert_int_equal(o.error, 0);
    assert_int_equal(o.status, 404); /* agent.h: TFTP file not found → 404 */
    pv_buf_free(&o.body);
    url(u, W.tftp_base, "/report.xml");
    pv_fetch_request req = {.url = u, .method = "PUT", .body = "<report/>", .body_len = 9};
    fetch(&req, &o);
    assert_int_equal(o.error, 0);
    assert_int_equal(o.status, 200);
    pv_buf_free(&o.body);
    pv_buf out = {0};
    assert_int_equal(sh(&out, "cat %s/up/*report.xml", W.dir), 0);
    assert_int_equal(out.len, 9);
    assert_memory_equal(out.data, "<report/>", 9);
    pv_buf_free(&out);
    req.method = "POST";
    pv_error err;
    assert_int_equal(pv_fetch_start(W.f, &req, on_done, &o, NULL, &err), PV_EINVAL);
    (void)state;
}

/* Connection costs are visible: each transfer connects unless reuse is asked for. */
static void test_connection_accounting(void **state)
{
    char u[256];
    outcome o;
    pv_fetcher_stats before, after;
    pv_fetcher_stats_get(W.f, &before);
    url(u, W.http_base, "/echo");
    for (int i = 0; i < 3; i++) {
        get(u, &o);
        assert_int_equal(o.conns, 1);
        pv_buf_free(&o.body);
    }
    pv_fetcher_stats_get(W.f, &after);
    assert_int_equal(after.connections - before.connections, 3);
    assert_int_equal(after.completed - before.completed, 3);
    assert_int_equal(after.active, 0);

    pv_fetcher_options fo;
    pv_fetcher_options_default(&fo);
    fo.reuse_connections = true;
    fo.engine = engine;
    pv_fetcher *keep;
    pv_error err;
    assert_int_equal(pv_fetcher_new(&W.loop, &fo, &keep, &err), 0);
    pv_fetch_request req = {.url = u};
    for (int i = 0; i < 3; i++) {
        fetch_on(keep, &req, &o);
        assert_int_equal(o.status, 200);
        pv_buf_free(&o.body);
    }
    pv_fetcher_stats st;
    pv_fetcher_stats_get(keep, &st);
    /* keep-alive served the other two; the native engine always connects afresh (fetch.h) */
    assert_int_equal(st.connections, engine == PV_FETCH_ENGINE_NATIVE ? 3 : 1);
    /* closing with a kept connection and a transfer in flight: no callback, no leak */
    memset(&o, 0, sizeof o);
    snprintf(u, sizeof u, "http://127.0.0.1:%d/x", W.silent_port);
    assert_int_equal(pv_fetch_start(keep, &req, on_done, &o, NULL, &err), 0);
    uv_run(&W.loop, UV_RUN_NOWAIT);
    int closed = 0;
    pv_fetcher_close(keep, closed_cb, &closed);
    while (!closed)
        uv_run(&W.loop, UV_RUN_ONCE);
    assert_false(o.done);
    (void)state;
}

/* Many transfers at once on one multi handle, and a cancel among them. */
static void test_concurrent_and_cancel(void **state)
{
    enum { N = 40 };
    outcome o[N];
    pv_fetch *h[N];
    char u[256];
    url(u, W.http_base, "/echo");
    pv_error err;
    for (int i = 0; i < N; i++) {
        memset(&o[i], 0, sizeof o[i]);
        pv_fetch_request req = {.url = u, .method = "POST", .body = "x", .body_len = 1};
        assert_int_equal(pv_fetch_start(W.f, &req, on_done, &o[i], &h[i], &err), 0);
    }
    pv_fetch_cancel(h[7]);
    for (;;) {
        int done = 0;
        for (int i = 0; i < N; i++)
            done += o[i].done;
        if (done == N - 1)
            break;
        uv_run(&W.loop, UV_RUN_ONCE);
    }
    for (int i = 0; i < N; i++) {
        if (i == 7) {
            assert_false(o[i].done);
            continue;
        }
        assert_int_equal(o[i].status, 200);
        pv_buf_free(&o[i].body);
    }
    pv_fetcher_stats st;
    pv_fetcher_stats_get(W.f, &st);
    assert_int_equal(st.active, 0);
    (void)state;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_statuses_and_headers),
        cmocka_unit_test(test_post_put_bodies),
        cmocka_unit_test(test_body_bound),
        cmocka_unit_test(test_transport_errors),
        cmocka_unit_test(test_https_client_cert),
        cmocka_unit_test(test_tftp_read_write),
        cmocka_unit_test(test_connection_accounting),
        cmocka_unit_test(test_concurrent_and_cancel),
    };
    engine = PV_FETCH_ENGINE_CURL;
    int failed = cmocka_run_group_tests_name("curl", tests, setup, teardown);
    engine = PV_FETCH_ENGINE_NATIVE;
    failed += cmocka_run_group_tests_name("native", tests, setup, teardown);
    return failed;
}
