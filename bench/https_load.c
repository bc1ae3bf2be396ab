/*
 * https_load.c — the phone side of the issue 4 benchmark (bench/provision.sh):
 * K concurrent connections to 127.0.0.1:PORT, each a new TCP connection, a
 * full TLS handshake with a phone's client certificate (no session
 * resumption), one `GET PATH` with `Connection: close`, the answer read to
 * its Content-Length; then the next connection. Non-blocking, one thread,
 * loopback only, bounded in time (and optionally in count).
 *
 *   https_load -p PORT -t TARGETS -C PHONES -a CA [-P PATH] [-c K] [-d SEC] [-n MAX]
 *   https_load -p PORT -l PATHS [-c K] [-d SEC] [-n MAX]          (plain HTTP)
 *
 * TARGETS lines are "<i> <path> ..." (seed_store's targets.txt); connection j
 * uses phone j mod the count: PHONES/<i>.pem (certificate then key) and its
 * own path, or PATH for every request when -P is given (nginx's one static
 * file). PATHS (plain HTTP) holds one path a line; each request picks one at
 * random. Prints one JSON line: requests, answers by class, errors, rate,
 * p50/p99 latency of a whole connection (connect to last byte), bytes.
 */
#include "core/alloc.h"
#include "core/buf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONC 1024
#define MAX_LAT 4000000

typedef struct phone {
    X509 *cert;
    EVP_PKEY *key;
    char *path;
} phone;

typedef enum { S_IDLE, S_CONNECT, S_HANDSHAKE, S_WRITE, S_READ } state;

typedef struct conn {
    state st;
    int fd;
    SSL *ssl;
    double started;
    char req[512];
    size_t req_len, req_off;
    char head[2048];
    size_t head_len;
    long long body_left; /* -1 until the head is complete */
    int status;
} conn;

static struct {
    int port;
    bool tls;
    SSL_CTX *ctx;
    phone *phones;
    size_t nphones, next;
    char **paths;
    size_t npaths;
    const char *fixed;
    uint64_t rng;
    unsigned long long done, ok, s3xx, s4xx, s5xx, errors, bytes;
    double *lat;
    size_t nlat;
} g = {.rng = 88172645463325252ull};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "https_load: %s: %s\n", what, errno ? strerror(errno) : "failed");
    ERR_print_errors_fp(stderr);
    exit(1);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        die(path);
    pv_buf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        pv_buf_append(&b, chunk, n);
    fclose(f);
    size_t len;
    return pv_buf_take(&b, &len);
}

/* Splits text into lines (in place); returns the count. */
static size_t lines_of(char *text, char ***out)
{
    size_t cap = 1024, n = 0;
    char **v = pv_malloc(cap * sizeof *v);
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        if (n == cap)
            v = pv_realloc(v, (cap *= 2) * sizeof *v);
        v[n++] = l;
    }
    *out = v;
    return n;
}

static void load_phones(const char *targets, const char *dir)
{
    char **lines;
    size_t n = lines_of(read_text(targets), &lines);
    g.phones = pv_calloc(n ? n : 1, sizeof *g.phones);
    for (size_t i = 0; i < n; i++) {
        char idx[32], path[512], file[1024];
        if (sscanf(lines[i], "%31s %511s", idx, path) != 2)
            die("targets: want \"<i> <path> ...\" lines");
        if (snprintf(file, sizeof file, "%s/%s.pem", dir, idx) >= (int)sizeof file)
            die("phones path too long");
        FILE *f = fopen(file, "r");
        if (f == NULL)
            die(file);
        phone *p = &g.phones[g.nphones++];
        p->cert = PEM_read_X509(f, NULL, NULL, NULL);
        p->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        fclose(f);
        if (p->cert == NULL || p->key == NULL)
            die(file);
        p->path = pv_strdup(path);
    }
    free(lines);
    if (g.nphones == 0)
        die("no phones in the targets file");
}

static void finish(conn *c, bool error)
{
    if (c->ssl != NULL)
        SSL_free(c->ssl);
    if (c->fd >= 0)
        close(c->fd);
    c->ssl = NULL;
    c->fd = -1;
    c->st = S_IDLE;
    g.done++;
    if (error) {
        g.errors++;
        return;
    }
    if (c->status == 200)
        g.ok++;
    else if (c->status >= 500)
        g.s5xx++;
    else if (c->status >= 400)
        g.s4xx++;
    else
        g.s3xx++;
    if (g.nlat < MAX_LAT)
        g.lat[g.nlat++] = now_s() - c->started;
}

static void start(conn *c)
{
    memset(c, 0, sizeof *c);
    c->fd = -1;
    c->body_left = -1;
    c->started = now_s();
    const char *path;
    size_t who = g.next++;
    if (g.tls) {
        phone *p = &g.phones[who % g.nphones];
        path = g.fixed ? g.fixed : p->path;
        c->ssl = SSL_new(g.ctx);
        if (c->ssl == NULL || SSL_use_certificate(c->ssl, p->cert) != 1 ||
            SSL_use_PrivateKey(c->ssl, p->key) != 1)
            die("SSL_new");
    } else {
        g.rng ^= g.rng << 13, g.rng ^= g.rng >> 7, g.rng ^= g.rng << 17;
        path = g.paths[g.rng % g.npaths];
    }
    int n = snprintf(c->req, sizeof c->req,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: https_load\r\n"
                     "Connection: close\r\n\r\n",
                     path);
    if (n < 0 || (size_t)n >= sizeof c->req)
        die("path too long");
    c->req_len = (size_t)n;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c->fd < 0)
        die("socket");
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g.port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS) {
        finish(c, true);
        return;
    }
    c->st = S_CONNECT;
    if (c->ssl != NULL) {
        SSL_set_fd(c->ssl, c->fd);
        SSL_set_connect_state(c->ssl);
    }
}

/* Parses the head once complete: status and Content-Length. */
static bool head_done(conn *c)
{
    c->head[c->head_len < sizeof c->head ? c->head_len : sizeof c->head - 1] = '\0';
    char *end = strstr(c->head, "\r\n\r\n");
    if (end == NULL)
        return false;
    c->status = atoi(c->head + 9);
    long long len = 0;
    for (char *h = strstr(c->head, "\r\n"); h && h < end; h = strstr(h + 2, "\r\n"))
        if (strncasecmp(h + 2, "Content-Length:", 15) == 0)
            len = atoll(h + 17);
    size_t have = c->head_len - (size_t)(end + 4 - c->head);
    c->body_left = len - (long long)have;
    g.bytes += have;
    return true;
}

/* Advances one connection; returns the events it waits for (0: finished). */
static short step(conn *c)
{
    for (;;) {
        ssize_t n;
        int want = 0;
        switch (c->st) {
        case S_IDLE:
            return 0;
        case S_CONNECT: {
            int err = 0;
            socklen_t len = sizeof err;
            getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err == EINPROGRESS)
                return POLLOUT;
            if (err != 0) {
                finish(c, true);
                return 0;
            }
            c->st = c->ssl ? S_HANDSHAKE : S_WRITE;
            continue;
        }
        case S_HANDSHAKE: {
            int r = SSL_do_handshake(c->ssl);
            if (r == 1) {
                c->st = S_WRITE;
                continue;
            }
            want = SSL_get_error(c->ssl, r);
            if (want == SSL_ERROR_WANT_READ)
                return POLLIN;
            if (want == SSL_ERROR_WANT_WRITE)
                return POLLOUT;
            finish(c, true);
            return 0;
        }
        case S_WRITE:
            if (c->ssl) {
                int r = SSL_write(c->ssl, c->req + c->req_off, (int)(c->req_len - c->req_off));
                n = r > 0 ? r : -1;
                want = r > 0 ? 0 : SSL_get_error(c->ssl, r);
            } else {
                n = send(c->fd, c->req + c->req_off, c->req_len - c->req_off, MSG_NOSIGNAL);
                want = n < 0 && errno == EAGAIN ? SSL_ERROR_WANT_WRITE : 0;
            }
            if (n < 0) {
                if (want == SSL_ERROR_WANT_READ)
                    return POLLIN;
                if (want == SSL_ERROR_WANT_WRITE)
                    return POLLOUT;
                finish(c, true);
                return 0;
            }
            c->req_off += (size_t)n;
            if (c->req_off == c->req_len)
                c->st = S_READ;
            continue;
        case S_READ: {
            char buf[16384];
            char *into = c->body_left < 0 ? c->head + c->head_len : buf;
            size_t room = c->body_left < 0 ? sizeof c->head - 1 - c->head_len : sizeof buf;
            if (room == 0) {
                finish(c, true); /* a head larger than 2 KiB: not ours */
                return 0;
            }
            if (c->ssl) {
                int r = SSL_read(c->ssl, into, (int)room);
                n = r > 0 ? r : -1;
                want = r > 0 ? 0 : SSL_get_error(c->ssl, r);
            } else {
                n = recv(c->fd, into, room, 0);
                want = n < 0 && errno == EAGAIN ? SSL_ERROR_WANT_READ : 0;
            }
            if (n <= 0) {
                if (want == SSL_ERROR_WANT_READ)
                    return POLLIN;
                if (want == SSL_ERROR_WANT_WRITE)
                    return POLLOUT;
                finish(c, true); /* closed before the whole answer */
                return 0;
            }
            if (c->body_left < 0) {
                c->head_len += (size_t)n;
                if (!head_done(c))
                    continue;
            } else {
                c->body_left -= n;
                g.bytes += (size_t)n;
            }
            if (c->body_left <= 0) {
                finish(c, false);
                return 0;
            }
            continue;
        }
        }
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    const char *targets = NULL, *phones = NULL, *ca = NULL, *paths = NULL;
    int conc = 32, opt;
    double seconds = 10;
    unsigned long long max = 0;
    while ((opt = getopt(argc, argv, "p:t:C:a:P:l:c:d:n:")) != -1) {
        switch (opt) {
        case 'p':
            g.port = atoi(optarg);
            break;
        case 't':
            targets = optarg;
            break;
        case 'C':
            phones = optarg;
            break;
        case 'a':
            ca = optarg;
            break;
        case 'P':
            g.fixed = optarg;
            break;
        case 'l':
            paths = optarg;
            break;
        case 'c':
            conc = atoi(optarg);
            break;
        case 'd':
            seconds = strtod(optarg, NULL);
            break;
        case 'n':
            max = strtoull(optarg, NULL, 10);
            break;
        default:
            return 2;
        }
    }
    g.tls = targets != NULL;
    if (g.port <= 0 || conc < 1 || conc > MAX_CONC || seconds <= 0 || seconds > 600 ||
        (g.tls ? phones == NULL || ca == NULL : paths == NULL)) {
        fprintf(stderr, "usage: https_load -p PORT -t TARGETS -C PHONES -a CA [-P PATH] [-c K] "
                        "[-d SEC<=600] [-n MAX]\n"
                        "       https_load -p PORT -l PATHS [-c K] [-d SEC] [-n MAX]\n");
        return 2;
    }
    if (g.tls) {
        g.ctx = SSL_CTX_new(TLS_client_method());
        if (g.ctx == NULL || SSL_CTX_load_verify_locations(g.ctx, ca, NULL) != 1)
            die(ca);
        SSL_CTX_set_verify(g.ctx, SSL_VERIFY_PEER, NULL);
        /* Full handshakes every time, as a phone after boot. */
        SSL_CTX_set_session_cache_mode(g.ctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_options(g.ctx, SSL_OP_NO_TICKET);
        load_phones(targets, phones);
    } else {
        g.npaths = lines_of(read_text(paths), &g.paths);
        if (g.npaths == 0)
            die("no paths");
    }
    g.lat = pv_malloc(MAX_LAT * sizeof *g.lat);
    conn *cs = pv_calloc((size_t)conc, sizeof *cs);
    struct pollfd *pf = pv_calloc((size_t)conc, sizeof *pf);
    double t0 = now_s(), end = t0 + seconds, hard = end + 5;
    unsigned long long started = 0;
    for (;;) {
        double t = now_s();
        bool launching = t < end && (max == 0 || started < max);
        int live = 0;
        for (int i = 0; i < conc; i++) {
            conn *c = &cs[i];
            /* Only connections poll woke (or new ones) move: the load tool
             * shares the two cores with the servers it measures. */
            short ev = pf[i].events;
            if (c->st == S_IDLE)
                ev = 0;
            else if (pf[i].revents != 0 || ev == 0)
                ev = step(c);
            while (ev == 0 && launching && (max == 0 || started < max)) {
                start(c);
                started++;
                ev = c->st == S_IDLE ? 0 : step(c);
            }
            pf[i].fd = ev ? c->fd : -1;
            pf[i].events = ev;
            pf[i].revents = 0;
            live += ev != 0;
        }
        if (live == 0 || t > hard)
            break;
        if (poll(pf, (nfds_t)conc, 100) < 0 && errno != EINTR)
            die("poll");
    }
    double total = now_s() - t0;
    qsort(g.lat, g.nlat, sizeof *g.lat, cmp_double);
    printf("{\"requests\":%llu,\"ok\":%llu,\"3xx\":%llu,\"4xx\":%llu,\"5xx\":%llu,\"errors\":%llu,"
           "\"seconds\":%.2f,\"per_s\":%.1f,\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"bytes\":%llu,"
           "\"concurrency\":%d,\"tls\":%s}\n",
           g.done, g.ok, g.s3xx, g.s4xx, g.s5xx, g.errors, total, (double)g.ok / total,
           g.nlat ? g.lat[g.nlat / 2] * 1e3 : 0, g.nlat ? g.lat[g.nlat * 99 / 100] * 1e3 : 0,
           g.bytes, conc, g.tls ? "true" : "false");
    return 0;
}
