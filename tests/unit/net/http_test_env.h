/*
 * http_test_env.h — shared by the HTTP/HTTPS server tests: a temporary
 * directory with files and a test PKI (made with the openssl command), a
 * loop thread running pv_http_server instances, a small file/identity/echo
 * handler, subprocess and raw-socket helpers, and a log capture.
 *
 * Header-only with static functions because each unit test is a single
 * source file (tests/unit/<layer>/test_<module>.c).
 */
#ifndef PV_TEST_HTTP_ENV_H
#define PV_TEST_HTTP_ENV_H

#include "pv_test.h"

#include "core/alloc.h"
#include "core/log.h"
#include "net/http_server.h"
#include "net/metrics.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <uv.h>

#define ENV_MAX_SERVERS 6

typedef struct http_env {
    char dir[128];
    uv_loop_t loop;
    uv_thread_t thread;
    uv_async_t wake;
    uv_sem_t done;
    pthread_mutex_t lock;
    /* A function to run on the loop thread (run_on_loop). */
    void (*task)(struct http_env *env, void *arg);
    void *task_arg;
    pv_handler handler;
    pv_http_server *servers[ENV_MAX_SERVERS];
    size_t server_count;
    int closed_servers;
    bool stopping;
    pv_buf log; /* captured log lines, under lock */
} http_env;

static http_env *g_env;
/* Requests the /later handlers have taken: a test waits for one instead of sleeping. */
static atomic_uint g_later_taken;

/* ---- shell and files --------------------------------------------------------------------- */

/* Runs a shell command, returns its exit status; output (stdout) appended to out when given. */
static inline int sh(pv_buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline int sh(pv_buf *out, const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof cmd);
    /* Through a script file so that the command may use bash (pipefail, <(...)). */
    char script[] = "/tmp/pv-http-sh-XXXXXX";
    int sfd = mkstemp(script);
    assert_true(sfd >= 0);
    assert_int_equal(write(sfd, cmd, (size_t)n), n);
    close(sfd);
    char run[64];
    snprintf(run, sizeof run, "bash %s", script);
    FILE *p = popen(run, "r");
    assert_non_null(p);
    char buf[4096];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, p)) > 0) {
        if (out != NULL)
            pv_buf_append(out, buf, got);
    }
    int st = pclose(p);
    unlink(script);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static inline void write_file(const char *path, size_t size)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    uint32_t x = (uint32_t)size * 2654435761u + 1;
    for (size_t i = 0; i < size; i++) {
        x = x * 1103515245u + 12345u;
        fputc((int)(x >> 16) & 0xff, f);
    }
    fclose(f);
}

static inline int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1; /* the directory itself */
}

/* The test PKI: server CA + server cert, manufacturer CA + phone cert, unknown CA + phone. */
static inline void make_pki(const char *dir)
{
    int rc =
        sh(NULL,
           "exec >/dev/null 2>&1; set -e; cd '%s'; mkdir -p pki; cd pki\n"
           "K='-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes'\n"
           "ca() { openssl req -x509 $K -keyout $1.key -out $1.crt -days 2 -subj \"$2\" "
           "  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign,cRLSign; }\n"
           "leaf() { openssl req $K -keyout $1.key -out $1.csr -subj \"$3\";"
           "  printf '%%s\\n' \"$4\" > $1.ext;"
           "  openssl x509 -req -in $1.csr -CA $2.crt -CAkey $2.key -CAcreateserial -days 2 "
           "  -extfile $1.ext -out $1.crt; }\n"
           "ca server-ca '/CN=Provisor Test Server CA'\n"
           "ca mfg-ca '/O=Test Phone Maker/CN=Test Manufacturing CA'\n"
           "ca rogue-ca '/CN=Unknown Rogue CA'\n"
           "leaf server server-ca '/CN=localhost' 'subjectAltName=DNS:localhost,IP:127.0.0.1'\n"
           "leaf phone mfg-ca '/CN=SEP000E08ABCDEF/OU=CP-8841-3PCC/L=88012BA01234/ST=000e08abcdef' "
           "  'subjectAltName=DNS:phone.example,URI:urn:dev:mac:000e08abcdef'\n"
           "leaf rogue rogue-ca '/CN=ROGUE/OU=CP-8841-3PCC/L=X/ST=000e08abcdef' "
           "  'subjectAltName=DNS:rogue.example'\n",
           dir);
    assert_int_equal(rc, 0);
}

/* ---- the test handler -------------------------------------------------------------------- */

typedef struct later {
    uv_timer_t timer;
    pv_request *req;
} later;

static inline void later_closed(uv_handle_t *h)
{
    free(h->data);
}

static inline void later_fire(uv_timer_t *t)
{
    later *l = t->data;
    pv_response resp = {.fd = -1};
    pv_response_set_body(l->req, &resp, 200, "later\n", 6, "text/plain");
    pv_request_respond(l->req, &resp);
    uv_close((uv_handle_t *)&l->timer, later_closed);
}

static inline void serve_file(pv_request *req, const char *name)
{
    char path[512];
    int n = snprintf(path, sizeof path, "%s/root/%s", g_env->dir, name);
    if (n < 0 || (size_t)n >= sizeof path || strstr(name, "..") != NULL) {
        pv_request_respond_status(req, 403, "bad name");
        return;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0)
            close(fd);
        pv_request_respond_status(req, 404, "no such file");
        return;
    }
    pv_response resp = {.status = 200,
                        .body_kind = PV_BODY_FILE,
                        .fd = fd,
                        .file_size = st.st_size,
                        .last_modified = st.st_mtime,
                        .content_type = "application/octet-stream"};
    snprintf(resp.etag, sizeof resp.etag, "\"%llx-%llx\"", (unsigned long long)st.st_ino,
             (unsigned long long)st.st_size);
    pv_request_respond(req, &resp);
}

static inline void test_handle(pv_handler *self, pv_request *req)
{
    pv_buf b = {0};
    pv_response resp = {.fd = -1};
    if (pv_slice_starts_with(req->path, "/files/")) {
        char *name = pv_memdup0(req->path.ptr + 7, req->path.len - 7);
        serve_file(req, name);
        free(name);
        return;
    }
    if (pv_slice_eq_cstr(req->path, "/identity")) {
        const pv_peer_identity *id = req->identity;
        if (id == NULL)
            pv_buf_append_str(&b, "none\n");
        else
            pv_buf_appendf(&b, "cn=%s\nou=%s\nl=%s\nst=%s\nsan=%s\nfp=%s\nissuer=%s\n",
                           pv_peer_identity_attr(id, "CN"), pv_peer_identity_attr(id, "OU"),
                           pv_peer_identity_attr(id, "L"), pv_peer_identity_attr(id, "ST"),
                           id->san, id->fingerprint, id->issuer);
    } else if (pv_slice_eq_cstr(req->path, "/echo")) {
        pv_buf_append_slice(&b, req->body);
    } else if (pv_slice_eq_cstr(req->path, "/info")) {
        pv_buf_appendf(&b, "method=%.*s query=%.*s ua=%.*s proto=%s\n",
                       PV_SLICE_ARG(req->method_name), PV_SLICE_ARG(req->query),
                       PV_SLICE_ARG(req->user_agent), pv_proto_name(req->proto));
    } else if (pv_slice_starts_with(req->path, "/later")) {
        atomic_fetch_add(&g_later_taken, 1);
        later *l = pv_calloc(1, sizeof *l);
        l->req = req;
        uv_timer_init(&g_env->loop, &l->timer);
        l->timer.data = l;
        uv_timer_start(&l->timer, later_fire, pv_slice_eq_cstr(req->path, "/later-slow") ? 400 : 50,
                       0);
        return;
    } else if (pv_slice_eq_cstr(req->path, "/redirect")) {
        resp.status = 302;
        resp.location = "http://example.invalid/new";
        pv_request_respond(req, &resp);
        return;
    } else {
        pv_request_respond_status(req, 404, "not here");
        return;
    }
    /* Who the handler decided this is; /identity: the phone's MAC in S= (spec 4.4), as
     * src/server decides it. */
    resp.identity_log = "from-handler";
    if (req->identity != NULL && pv_slice_eq_cstr(req->path, "/identity"))
        resp.identity_log = pv_request_strdup(req, pv_peer_identity_attr(req->identity, "ST"));
    pv_response_set_body(req, &resp, 200, b.data ? b.data : "", b.len, "text/plain");
    pv_buf_free(&b);
    pv_request_respond(req, &resp);
}

/* ---- the loop thread --------------------------------------------------------------------- */

static inline void capture_log(pv_log_level level, const char *line, size_t len, void *data)
{
    pthread_mutex_lock(&g_env->lock);
    pv_buf_append(&g_env->log, line, len);
    pv_buf_append_char(&g_env->log, '\n');
    pthread_mutex_unlock(&g_env->lock);
}

/* Finds a captured log line containing every one of the given fragments (NULL-terminated). */
static inline bool log_has(const char *a, const char *b)
{
    bool found = false;
    pthread_mutex_lock(&g_env->lock);
    const char *p = g_env->log.data ? g_env->log.data : "";
    while (*p && !found) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char *line = pv_memdup0(p, len);
        found = strstr(line, a) != NULL && (b == NULL || strstr(line, b) != NULL);
        free(line);
        p += len + (nl != NULL);
    }
    pthread_mutex_unlock(&g_env->lock);
    return found;
}

static inline void server_closed(void *data)
{
    g_env->closed_servers++;
}

static inline void on_wake(uv_async_t *a)
{
    if (g_env->task != NULL) {
        g_env->task(g_env, g_env->task_arg);
        g_env->task = NULL;
        uv_sem_post(&g_env->done);
    }
    if (g_env->stopping)
        uv_close((uv_handle_t *)&g_env->wake, NULL);
}

static inline void loop_main(void *arg)
{
    http_env *env = arg;
    uv_run(&env->loop, UV_RUN_DEFAULT);
    uv_sem_post(&env->done);
}

/* Runs fn(env, arg) on the loop thread and waits for it. */
static inline void run_on_loop(void (*fn)(http_env *, void *), void *arg)
{
    g_env->task = fn;
    g_env->task_arg = arg;
    uv_async_send(&g_env->wake);
    uv_sem_wait(&g_env->done);
}

typedef struct add_server_args {
    pv_http_server_options options;
    pv_http_server *server;
    int rc;
    pv_error err;
} add_server_args;

static inline void add_server_task(http_env *env, void *arg)
{
    add_server_args *a = arg;
    a->rc = pv_http_server_new(&env->loop, &a->options, &a->server, &a->err);
    if (a->rc == 0)
        env->servers[env->server_count++] = a->server;
}

/* Starts a server on 127.0.0.1 with an ephemeral port; returns it. */
static inline pv_http_server *env_add_server(pv_tls_slot *tls, const pv_http_limits *limits)
{
    add_server_args a = {
        .options = {
            .address = "127.0.0.1:0", .handler = &g_env->handler, .tls = tls, .limits = limits}};
    run_on_loop(add_server_task, &a);
    if (a.rc != 0)
        fprintf(stderr, "server: %s\n", a.err.msg);
    assert_int_equal(a.rc, 0);
    return a.server;
}

/* A TLS slot with the test PKI's server certificate (make_pki first), no client certificates
 * asked; the caller frees it after env_stop. */
static inline pv_tls_slot *env_server_tls(void)
{
    char cert[256], key[256];
    snprintf(cert, sizeof cert, "%s/pki/server.crt", g_env->dir);
    snprintf(key, sizeof key, "%s/pki/server.key", g_env->dir);
    pv_tls_config c = {.cert_file = cert, .key_file = key, .security_level = -1};
    pv_tls_context *ctx = NULL;
    pv_error err;
    if (pv_tls_context_new(&c, &ctx, &err) != 0)
        fail_msg("context: %s", err.msg);
    return pv_tls_slot_new(ctx);
}

static inline void env_start(void)
{
    g_env = pv_calloc(1, sizeof *g_env);
    snprintf(g_env->dir, sizeof g_env->dir, "/tmp/pv-http-test-XXXXXX");
    assert_non_null(mkdtemp(g_env->dir));
    pthread_mutex_init(&g_env->lock, NULL);
    pv_log_set_sink(capture_log, NULL);
    g_env->handler.handle = test_handle;
    uv_loop_init(&g_env->loop);
    uv_async_init(&g_env->loop, &g_env->wake, on_wake);
    uv_sem_init(&g_env->done, 0);
    assert_int_equal(uv_thread_create(&g_env->thread, loop_main, g_env), 0);
    char path[256];
    snprintf(path, sizeof path, "%s/root", g_env->dir);
    mkdir(path, 0700);
}

static inline void stop_task(http_env *env, void *arg)
{
    unsigned timeout = (unsigned)(uintptr_t)arg;
    for (size_t i = 0; i < env->server_count; i++)
        pv_http_server_close(env->servers[i], timeout, server_closed, NULL);
    env->stopping = true;
}

/* Closes every server (drain), ends the loop thread, removes the directory. */
static inline void env_stop(void)
{
    run_on_loop(stop_task, (void *)(uintptr_t)1000);
    uv_sem_wait(&g_env->done); /* loop_main returned */
    uv_thread_join(&g_env->thread);
    assert_int_equal(g_env->closed_servers, (int)g_env->server_count);
    assert_int_equal(uv_loop_close(&g_env->loop), 0);
    sh(NULL, "rm -rf '%s'", g_env->dir);
    pv_log_set_sink(NULL, NULL);
    pv_buf_free(&g_env->log);
    free(g_env);
    g_env = NULL;
}

typedef struct count_args {
    size_t total;
} count_args;

static inline void count_task(http_env *env, void *arg)
{
    count_args *c = arg;
    c->total = 0;
    for (size_t i = 0; i < env->server_count; i++)
        c->total += pv_http_server_connections(env->servers[i]);
}

/* Waits (up to 15 s: CI runs tests in parallel on 2 cores) until the servers hold exactly
 * want open connections; returns how many they hold. */
static inline size_t wait_connections(size_t want)
{
    count_args c = {0};
    for (int i = 0; i < 1500; i++) {
        run_on_loop(count_task, &c);
        if (c.total == want)
            break;
        usleep(10000);
    }
    return c.total;
}

static inline size_t wait_no_connections(void)
{
    return wait_connections(0);
}

/* Waits (up to 30 s) until the /later handlers have taken n requests in all. */
static inline bool wait_later_taken(unsigned n)
{
    for (int i = 0; i < 3000 && atomic_load(&g_later_taken) < n; i++)
        usleep(10000);
    return atomic_load(&g_later_taken) >= n;
}

/* Waits (up to 30 s) until a log line holds a and b (b may be NULL). */
static inline bool wait_log_has(const char *a, const char *b)
{
    for (int i = 0; i < 3000 && !log_has(a, b); i++)
        usleep(10000);
    return log_has(a, b);
}

static inline int port_of(const pv_http_server *s)
{
    const char *colon = strrchr(pv_http_server_address(s), ':');
    return atoi(colon + 1);
}

/* ---- raw sockets ------------------------------------------------------------------------- */

static inline int raw_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static inline void raw_send(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n <= 0)
            return; /* the server may have closed: the caller checks the answer */
        data += n;
        len -= (size_t)n;
    }
}

/* Reads until EOF or timeout_ms without data; returns what came. */
static inline void raw_read_all(int fd, pv_buf *out, int timeout_ms)
{
    char buf[65536];
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, timeout_ms) <= 0)
            return;
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            return;
        pv_buf_append(out, buf, (size_t)n);
    }
}

/* One request on a fresh connection; returns the whole answer (the server closes). */
static inline void raw_exchange(int port, const char *request, size_t len, pv_buf *out)
{
    int fd = raw_connect(port);
    raw_send(fd, request, len);
    raw_read_all(fd, out, 3000);
    close(fd);
}

static inline double now_seconds(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

#endif
