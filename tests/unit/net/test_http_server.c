/*
 * HTTP server over plain TCP on loopback, driven by curl and raw sockets:
 * files byte-identical, keep-alive, pipelining, Range and conditional
 * requests, HEAD, bodies, limits, slow and vanishing clients, drain, fd leaks.
 */
/* Covers src/net/http_server.c, http_conn.c and http_conn_answer.c (heads, memory and file
 * bodies). */
#include "http_test_env.h"

static pv_http_server *g_plain;  /* default limits */
static pv_http_server *g_strict; /* short timeouts, small limits */
static int g_fds_before;
static char g_url[64];

static int setup(void **state)
{
    env_start();
    char path[256];
    static const size_t sizes[] = {0, 511, 512, 513, 50 * 1024 * 1024};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        snprintf(path, sizeof path, "%s/root/f%zu", g_env->dir, sizes[i]);
        write_file(path, sizes[i]);
    }
    g_plain = env_add_server(NULL, NULL);
    pv_http_limits strict;
    pv_http_limits_default(&strict);
    strict.request_timeout_ms = 600;
    strict.idle_timeout_ms = 1500;
    strict.max_header_bytes = 2048;
    strict.max_body_bytes = 4096;
    strict.max_per_source = 2;
    g_strict = env_add_server(NULL, &strict);
    snprintf(g_url, sizeof g_url, "http://127.0.0.1:%d", port_of(g_plain));
    g_fds_before = count_fds();
    return 0;
}

static int teardown(void **state)
{
    env_stop();
    return 0;
}

/* The server still answers a fresh client (after each kind of abuse). */
static void assert_still_serving(void)
{
    pv_buf out = {0};
    assert_int_equal(sh(&out, "curl -sS -o /dev/null -w '%%{http_code}' %s/files/f511", g_url), 0);
    assert_string_equal(out.data, "200");
    pv_buf_free(&out);
}

static void files_arrive_byte_identical(void **state)
{
    static const char *const names[] = {"f0", "f511", "f512", "f513", "f52428800"};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(sh(NULL,
                            "curl -sSf -o '%s/got' %s/files/%s && cmp -s '%s/got' "
                            "'%s/root/%s'",
                            g_env->dir, g_url, names[i], g_env->dir, g_env->dir, names[i]),
                         0);
    }
    assert_true(log_has("event=http.request", "path=/files/f52428800 status=200 bytes=52428800"));
    assert_true(log_has("proto=http peer=127.0.0.1:", "identity=- method=GET path=/files/f0"));
}

static void keep_alive_serves_two_urls_on_one_connection(void **state)
{
    pv_buf out = {0};
    assert_int_equal(sh(&out,
                        "curl -sS -o /dev/null -o /dev/null -w '%%{num_connects} ' "
                        "%s/files/f512 %s/files/f513",
                        g_url, g_url),
                     0);
    assert_string_equal(out.data, "1 0 "); /* the second request reused the connection */
    pv_buf_free(&out);
}

static void pipelined_requests_are_answered_in_order(void **state)
{
    static const char req[] = "GET /info?n=1 HTTP/1.1\r\nHost: x\r\nUser-Agent: first\r\n\r\n"
                              "GET /info?n=2 HTTP/1.1\r\nHost: x\r\nUser-Agent: second\r\n\r\n"
                              "GET /files/f0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    pv_buf out = {0};
    raw_exchange(port_of(g_plain), req, sizeof req - 1, &out);
    const char *a = strstr(out.data, "query=n=1 ua=first");
    const char *b = strstr(out.data, "query=n=2 ua=second");
    const char *c = strstr(out.data, "Content-Length: 0");
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_true(a < b && b < c);
    assert_non_null(strstr(out.data, "Connection: close"));
    pv_buf_free(&out);
}

static void ranges_and_conditional_requests(void **state)
{
    pv_buf out = {0};
    /* RFC 9110 §14: a single range gives 206 with Content-Range. */
    assert_int_equal(sh(&out,
                        "curl -sS -r 10-109 -D - -o '%s/part' %s/files/f513 | "
                        "tr -d '\\r' | grep -i -e '^HTTP' -e '^content-range'; "
                        "cmp -s '%s/part' <(tail -c +11 '%s/root/f513' | head -c 100) "
                        "&& echo same",
                        g_env->dir, g_url, g_env->dir, g_env->dir),
                     0);
    assert_non_null(strstr(out.data, "HTTP/1.1 206"));
    assert_non_null(strstr(out.data, "Content-Range: bytes 10-109/513"));
    assert_non_null(strstr(out.data, "same"));
    pv_buf_reset(&out);
    /* Suffix range and an unsatisfiable one (416 with bytes * /size). */
    sh(&out,
       "curl -sS -r -13 -o /dev/null -w '%%{http_code} %%{size_download} ' %s/files/f513; "
       "curl -sS -r 1000- -D - -o /dev/null %s/files/f513 | tr -d '\\r' | "
       "grep -i -e '^HTTP' -e '^content-range'",
       g_url, g_url);
    assert_non_null(strstr(out.data, "206 13 "));
    assert_non_null(strstr(out.data, "HTTP/1.1 416"));
    assert_non_null(strstr(out.data, "Content-Range: bytes */513"));
    pv_buf_reset(&out);
    /* Two ranges may be answered with the whole body. */
    sh(&out, "curl -sS -r 0-1,5-6 -o /dev/null -w '%%{http_code} %%{size_download}' %s/files/f513",
       g_url);
    assert_string_equal(out.data, "200 513");
    pv_buf_reset(&out);
    /* HEAD: the headers of a GET, no body. */
    sh(&out, "curl -sS -I %s/files/f513 | tr -d '\\r'", g_url);
    assert_non_null(strstr(out.data, "Content-Length: 513"));
    assert_non_null(strstr(out.data, "Last-Modified: "));
    assert_non_null(strstr(out.data, "Date: "));
    const char *etag = strstr(out.data, "ETag: ");
    assert_non_null(etag);
    char tag[80];
    assert_int_equal(sscanf(etag + 6, "%79[^\n]", tag), 1);
    char lm[64];
    assert_int_equal(sscanf(strstr(out.data, "Last-Modified: ") + 15, "%63[^\n]", lm), 1);
    pv_buf_reset(&out);
    /* RFC 9110 §13.1.2 / §13.1.3: 304 on a matching tag or an unchanged date. */
    sh(&out,
       "curl -sS -o /dev/null -w '%%{http_code} ' -H 'If-None-Match: \"x\", %s' %s/files/f513;"
       "curl -sS -o /dev/null -w '%%{http_code} ' -H 'If-None-Match: W/%s' %s/files/f513;"
       "curl -sS -o /dev/null -w '%%{http_code} ' -H 'If-None-Match: \"other\"' "
       "%s/files/f513;"
       "curl -sS -o /dev/null -w '%%{http_code} ' -H 'If-Modified-Since: %s' %s/files/f513;"
       "curl -sS -o /dev/null -w '%%{http_code} ' -H 'If-Modified-Since: Sat, 01 Jan 2000 "
       "00:00:00 GMT' %s/files/f513;"
       "curl -sS -o /dev/null -w '%%{http_code}' -I -H 'If-None-Match: *' %s/files/f0",
       tag, g_url, tag, g_url, g_url, lm, g_url, g_url, g_url);
    assert_string_equal(out.data, "304 304 200 304 200 304");
    pv_buf_reset(&out);
    /* If-Range with another tag: the whole body. */
    sh(&out,
       "curl -sS -r 0-9 -H 'If-Range: \"stale\"' -o /dev/null -w '%%{http_code}' "
       "%s/files/f513",
       g_url);
    assert_string_equal(out.data, "200");
    pv_buf_free(&out);
}

static void bodies_reach_the_handler(void **state)
{
    pv_buf out = {0};
    char path[256];
    snprintf(path, sizeof path, "%s/body", g_env->dir);
    write_file(path, 300000);
    /* Chunked (RFC 9112 §7.1) and Content-Length bodies, POST and PUT. */
    assert_int_equal(sh(&out,
                        "curl -sS -H 'Transfer-Encoding: chunked' --data-binary @%s "
                        "%s/echo | cmp -s - %s && echo chunked-ok;"
                        "curl -sS -X PUT --data-binary @%s %s/echo | cmp -s - %s && "
                        "echo put-ok",
                        path, g_url, path, path, g_url, path),
                     0);
    assert_non_null(strstr(out.data, "chunked-ok"));
    assert_non_null(strstr(out.data, "put-ok"));
    pv_buf_reset(&out);
    /* 413 beyond max_body_bytes, announced or chunked (strict server: 4 KiB). */
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port_of(g_strict));
    sh(&out,
       "curl -sS -o /dev/null -w '%%{http_code} ' --data-binary @%s %s/echo;"
       "curl -sS -o /dev/null -w '%%{http_code}' -H 'Transfer-Encoding: chunked' "
       "--data-binary @%s %s/echo",
       path, url, path, url);
    assert_string_equal(out.data, "413 413");
    pv_buf_free(&out);
    assert_still_serving();
}

static void bad_input_gets_clear_errors(void **state)
{
    static const struct {
        const char *request;
        const char *status;
    } cases[] = {
        {"\x16\x03\x01garbage\r\n\r\n", "HTTP/1.1 400"},
        {"GET /a b c HTTP/1.1\r\n\r\n", "HTTP/1.1 400"},
        {"BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 405"},
        {"DELETE /files/f0 HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 405"},
        {"GET /files/f0%00.xml HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400"},
        {"GET /files/%zz HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400"},
        {"GET /files/../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 403"},
        {"GET /files/%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 403"},
        {"GET /files/f0 HTTP/9.9\r\nHost: x\r\n\r\n", "HTTP/1.1 505"},
        {"POST /echo HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
         "HTTP/1.1 400"},
        {"GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "HTTP/1.1 404"},
        /* RFC 9112 §5.1, §3.2, §6.1: smuggling shapes */
        {"GET /files/f0 HTTP/1.1\r\nHost : x\r\n\r\n", "HTTP/1.1 400"},
        {"GET /files/f0 HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", "HTTP/1.1 400"},
        {"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
         "HTTP/1.1 501"},
        {"GET /files/f0 HTTP/1.0\r\n\r\n", "HTTP/1.1 200"},
        {"GET http://h/info?x=1 HTTP/1.1\r\nConnection: close\r\n\r\n", "query=x=1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pv_buf out = {0};
        raw_exchange(port_of(g_plain), cases[i].request, strlen(cases[i].request), &out);
        if (out.data == NULL || strstr(out.data, cases[i].status) == NULL)
            fail_msg("case %zu: expected '%s', got '%s'", i, cases[i].status,
                     out.data ? out.data : "(nothing)");
        pv_buf_free(&out);
    }
    /* HTTP/1.0 without keep-alive: answered, then closed (raw_exchange saw EOF). */
    /* Oversized headers: 431 (RFC 6585 §5), also spread over many reads. */
    pv_buf big = {0};
    pv_buf_append_str(&big, "GET /files/f0 HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < 100; i++)
        pv_buf_appendf(&big, "X-Filler-%d: %0100d\r\n", i, i);
    pv_buf_append_str(&big, "\r\n");
    pv_buf out = {0};
    raw_exchange(port_of(g_strict), big.data, big.len, &out);
    assert_non_null(strstr(out.data ? out.data : "", "HTTP/1.1 431"));
    pv_buf_free(&out);
    pv_buf_free(&big);
    assert_true(log_has("status=431", "reason=\"headers too large\""));
    assert_still_serving();
}

static void query_strings_never_reach_the_log(void **state)
{
    assert_int_equal(sh(NULL, "curl -sSf -o /dev/null '%s/info?code=SECRET123'", g_url), 0);
    assert_true(log_has("path=/info", "identity=from-handler"));
    assert_false(log_has("SECRET123", NULL));
    /* spec 9: phones take credentials after '&' in the path itself */
    assert_int_equal(
        sh(NULL, "curl -s -o /dev/null '%s/info&xuser=admin&xpassword=PASSW0RD'", g_url), 0);
    assert_true(log_has("path=/info ", NULL));
    assert_false(log_has("PASSW0RD", NULL));
}

static void slow_client_is_cut_at_the_request_timeout(void **state)
{
    int fd = raw_connect(port_of(g_strict));
    static const char req[] = "GET /files/f0 HTTP/1.1\r\nHost: x\r\n\r\n";
    double start = now_seconds();
    pv_buf out = {0};
    for (size_t i = 0; i < sizeof req - 1 && now_seconds() - start < 5; i++) {
        raw_send(fd, req + i, 1); /* one byte every 100 ms: slowloris */
        raw_read_all(fd, &out, 100);
        if (out.len > 0)
            break;
    }
    raw_read_all(fd, &out, 2000);
    double took = now_seconds() - start;
    close(fd);
    assert_non_null(strstr(out.data ? out.data : "", "HTTP/1.1 408"));
    assert_true(took < 2.5);
    pv_buf_free(&out);
    assert_still_serving();
}

static void idle_keep_alive_connection_is_closed(void **state)
{
    int fd = raw_connect(port_of(g_strict));
    double start = now_seconds();
    pv_buf out = {0};
    raw_read_all(fd, &out, 4000); /* returns at EOF */
    close(fd);
    assert_int_equal(out.len, 0);
    assert_true(now_seconds() - start < 3.0);
}

/* Still open: no EOF or error pending (a read would block). */
static bool still_open(int fd)
{
    char byte;
    return recv(fd, &byte, 1, MSG_DONTWAIT | MSG_PEEK) < 0 && errno == EAGAIN;
}

/* A request on a fresh connection of the strict server; what came within timeout_ms. */
static int send_on_new(const char *request, pv_buf *out, int timeout_ms)
{
    int fd = raw_connect(port_of(g_strict));
    raw_send(fd, request, strlen(request));
    raw_read_all(fd, out, timeout_ms);
    return fd;
}

static void connections_beyond_the_per_source_limit_must_name_a_device(void **state)
{
    /* a device's file the handler serves (its path names a MAC: core/device_id.h) */
    char path[512];
    snprintf(path, sizeof path, "%s/root/000e08abcdef.xml", g_env->dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("<flat-profile/>\n", f);
    fclose(f);
    /* The strict server closes idle connections after 1.5 s: if the machine stalls that
     * long, the first two are gone before the others arrive, which are then rightly
     * served. Such a round proves nothing and is run again. */
    for (int round = 0;; round++) {
        int a = raw_connect(port_of(g_strict));
        int b = raw_connect(port_of(g_strict));
        /* The server must hold both before the others arrive, however loaded the machine is. */
        assert_int_equal(wait_connections(2), 2);
        /* beyond the limit of 2 from 127.0.0.1 (issue 15): naming no device, 503 and closed;
         * naming one the handler does not find, its answer and closed; naming one it serves,
         * kept */
        pv_buf none = {0}, missing = {0}, device = {0};
        int c = send_on_new("GET /files/f0 HTTP/1.1\r\n\r\n", &none, 2000);
        int e = send_on_new("GET /files/000e08000000.xml HTTP/1.1\r\n\r\n", &missing, 2000);
        int d = send_on_new("GET /files/000e08abcdef.xml HTTP/1.1\r\n\r\n", &device, 300);
        bool kept = still_open(d), closed = !still_open(c) && !still_open(e);
        bool held = still_open(a) && still_open(b);
        pv_buf_append(&none, "", 1);
        pv_buf_append(&missing, "", 1);
        pv_buf_append(&device, "", 1);
        close(a);
        close(b);
        close(c);
        close(d);
        close(e);
        assert_int_equal(wait_no_connections(), 0);
        if (held || round == 4) {
            assert_true(held);
            assert_true(strncmp(none.data, "HTTP/1.1 503", 12) == 0);
            assert_non_null(strstr(none.data, "\r\nRetry-After: 1\r\n"));
            assert_true(strncmp(missing.data, "HTTP/1.1 404", 12) == 0);
            assert_true(closed);
            assert_true(strncmp(device.data, "HTTP/1.1 200", 12) == 0);
            assert_true(kept);
            assert_true(log_has("event=http.refused", "naming no device"));
            pv_buf_free(&none);
            pv_buf_free(&missing);
            pv_buf_free(&device);
            return;
        }
        pv_buf_free(&none);
        pv_buf_free(&missing);
        pv_buf_free(&device);
    }
}

static void vanishing_clients_do_not_disturb_the_server(void **state)
{
    /* Mid-transfer: read 100 KB of 50 MB and disappear. */
    int fd = raw_connect(port_of(g_plain));
    static const char req[] = "GET /files/f52428800 HTTP/1.1\r\nHost: x\r\n\r\n";
    raw_send(fd, req, sizeof req - 1);
    char buf[65536];
    size_t got = 0;
    while (got < 100000) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        assert_true(n > 0);
        got += (size_t)n;
    }
    close(fd);
    /* While the handler works (asynchronous answer): the answer is discarded. */
    fd = raw_connect(port_of(g_plain));
    static const char slow[] = "GET /later-slow HTTP/1.1\r\nHost: x\r\n\r\n";
    unsigned taken = atomic_load(&g_later_taken);
    raw_send(fd, slow, sizeof slow - 1);
    assert_true(wait_later_taken(taken + 1)); /* the handler works on it */
    close(fd);
    /* Mid-request. */
    fd = raw_connect(port_of(g_plain));
    raw_send(fd, "GET /files/f0 HTTP/1.1\r\nHo", 26);
    close(fd);
    assert_int_equal(wait_no_connections(), 0);
    assert_true(wait_log_has("path=/files/f52428800 status=200", "aborted=true"));
    /* the slow handler answers to nobody */
    assert_true(wait_log_has("path=/later-slow status=200", "aborted=true"));
    assert_still_serving();
}

static void asynchronous_answers_and_redirects(void **state)
{
    pv_buf out = {0};
    sh(&out,
       "curl -sS %s/later; curl -sS -o /dev/null -w '%%{http_code} %%{redirect_url}' "
       "%s/redirect",
       g_url, g_url);
    assert_string_equal(out.data, "later\n302 http://example.invalid/new");
    pv_buf_free(&out);
}

typedef struct drain_args {
    pv_http_server *server;
    bool done;
} drain_args;

static void drained(void *data)
{
    ((drain_args *)data)->done = true;
}

static void drain_task(http_env *env, void *arg)
{
    drain_args *d = arg;
    pv_http_server_close(d->server, 3000, drained, d);
    for (size_t i = 0; i < env->server_count; i++) {
        if (env->servers[i] == d->server)
            env->servers[i] = env->servers[--env->server_count];
    }
}

static void check_done_task(http_env *env, void *arg)
{
}

static void close_drains_in_flight_requests(void **state)
{
    pv_http_server *s = env_add_server(NULL, NULL);
    int busy = raw_connect(port_of(s));
    int idle = raw_connect(port_of(s));
    static const char slow[] = "GET /later-slow HTTP/1.1\r\nHost: x\r\n\r\n";
    unsigned taken = atomic_load(&g_later_taken);
    raw_send(busy, slow, sizeof slow - 1);
    assert_true(wait_later_taken(taken + 1));
    drain_args d = {.server = s};
    run_on_loop(drain_task, &d);
    pv_buf out = {0}, none = {0};
    raw_read_all(idle, &none, 2000); /* the idle one is closed at once */
    raw_read_all(busy, &out, 3000);  /* the busy one gets its answer, then a close */
    close(busy);
    close(idle);
    assert_int_equal(none.len, 0);
    assert_non_null(strstr(out.data ? out.data : "", "later\n"));
    assert_non_null(strstr(out.data, "Connection: close"));
    for (int i = 0; i < 1500 && !d.done; i++) { /* 30 s at most */
        usleep(20000);
        run_on_loop(check_done_task, NULL);
    }
    assert_true(d.done);
    pv_buf_free(&out);
}

static void no_descriptor_leaks(void **state)
{
    assert_int_equal(wait_no_connections(), 0);
    assert_int_equal(count_fds(), g_fds_before);
    pv_buf m = {0};
    pv_metrics_render(&m);
    assert_non_null(strstr(m.data, "provisor_requests_total{proto=\"http\",status=\"200\"}"));
    pv_buf_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(files_arrive_byte_identical),
        cmocka_unit_test(keep_alive_serves_two_urls_on_one_connection),
        cmocka_unit_test(pipelined_requests_are_answered_in_order),
        cmocka_unit_test(ranges_and_conditional_requests),
        cmocka_unit_test(bodies_reach_the_handler),
        cmocka_unit_test(bad_input_gets_clear_errors),
        cmocka_unit_test(query_strings_never_reach_the_log),
        cmocka_unit_test(slow_client_is_cut_at_the_request_timeout),
        cmocka_unit_test(idle_keep_alive_connection_is_closed),
        cmocka_unit_test(connections_beyond_the_per_source_limit_must_name_a_device),
        cmocka_unit_test(vanishing_clients_do_not_disturb_the_server),
        cmocka_unit_test(asynchronous_answers_and_redirects),
        cmocka_unit_test(close_drains_in_flight_requests),
        cmocka_unit_test(no_descriptor_leaks),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
