/* http_server.c — the HTTP/HTTPS listener: bind, accept, limits, drain; see http_server.h. */
#include "net/http_server.h"

#include "core/alloc.h"
#include "core/log.h"
#include "net/http_conn.h"
#include "net/metrics.h"
#include "net/sockaddr.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LISTEN_BACKLOG 1024

void pv_http_limits_default(pv_http_limits *limits)
{
    *limits = (pv_http_limits){
        .max_header_bytes = 16 * 1024,
        .max_body_bytes = 1024 * 1024,
        .request_timeout_ms = 10000,
        .idle_timeout_ms = 30000,
        .handshake_timeout_ms = 10000,
        .handshake_max_ms = 60000,
        .max_connections = 10000,
        .max_per_source = 256,
        .max_requests_per_connection = 1000,
    };
}

/* ---- per-source counts (the per-source limit; net/source_count.h) ----------------------- */

static unsigned source_count(pv_http_server *server, const struct sockaddr_storage *ss)
{
    pv_source_key k;
    pv_source_key_addr((const struct sockaddr *)ss, &k);
    return pv_source_counts_get(&server->sources, &k);
}

static void source_add(pv_http_server *server, const struct sockaddr_storage *ss, int delta)
{
    pv_source_key k;
    pv_source_key_addr((const struct sockaddr *)ss, &k);
    pv_source_counts_add(&server->sources, &k, delta);
}

/* ---- draining and freeing ---------------------------------------------------------------- */

static void server_free(uv_handle_t *handle)
{
    pv_http_server *server = handle->data;
    void (*done)(void *) = server->done_cb;
    void *data = server->done_data;
    pv_source_counts_clear(&server->sources);
    free(server->read_buf);
    free(server->file_buf);
    pv_buf_free(&server->head_out);
    pv_buf_free(&server->tls_out);
    free(server);
    if (done != NULL)
        done(data);
}

static void maybe_finish(pv_http_server *server)
{
    if (!server->closing || !server->listener_closed || server->conn_count > 0 ||
        server->drain_timer_closing)
        return;
    server->drain_timer_closing = true;
    uv_close((uv_handle_t *)&server->drain_timer, server_free);
}

void pv__http_server_detach(pv_http_server *server, pv__http_conn *conn)
{
    if (conn->prev)
        conn->prev->next = conn->next;
    else
        server->conns = conn->next;
    if (conn->next)
        conn->next->prev = conn->prev;
    conn->prev = conn->next = NULL;
    conn->server = NULL;
    if (!conn->identified)
        source_add(server, &conn->peer, -1);
    server->conn_count--;
    pv_metrics_open(server->tls ? PV_PROTO_HTTPS : PV_PROTO_HTTP, -1);
    maybe_finish(server);
}

void pv__http_server_identified(pv_http_server *server, pv__http_conn *conn)
{
    if (conn->identified)
        return;
    conn->identified = true;
    source_add(server, &conn->peer, -1);
}

static void on_listener_closed(uv_handle_t *handle)
{
    pv_http_server *server = handle->data;
    server->listener_closed = true;
    maybe_finish(server);
}

static void close_all(pv_http_server *server, bool idle_only)
{
    pv__http_conn *c = server->conns;
    while (c != NULL) {
        pv__http_conn *next = c->next; /* closing does not unlink before the close callbacks */
        if (!idle_only || pv__http_conn_idle(c))
            pv__http_conn_close(c);
        c = next;
    }
}

static void on_drain_timeout(uv_timer_t *timer)
{
    close_all(timer->data, false); /* in-flight requests had their chance */
}

void pv_http_server_close(pv_http_server *server, unsigned timeout_ms, void (*done_cb)(void *data),
                          void *data)
{
    assert(!server->closing);
    server->closing = true;
    server->done_cb = done_cb;
    server->done_data = data;
    uv_close((uv_handle_t *)&server->listener, on_listener_closed);
    close_all(server, true); /* idle keep-alive connections go at once */
    uv_timer_start(&server->drain_timer, on_drain_timeout, timeout_ms, 0);
}

/* ---- accepting --------------------------------------------------------------------------- */

static void free_refused(uv_handle_t *handle)
{
    free(handle->data);
}

static void on_connection(uv_stream_t *listener, int status)
{
    pv_http_server *server = listener->data;
    if (status < 0 || server->closing)
        return;
    pv__http_conn *conn = pv_calloc(1, sizeof *conn);
    uv_tcp_init(server->loop, &conn->tcp);
    conn->tcp.data = conn;
    if (uv_accept(listener, (uv_stream_t *)&conn->tcp) != 0) {
        uv_close((uv_handle_t *)&conn->tcp, free_refused);
        return;
    }
    int len = sizeof conn->peer;
    uv_tcp_getpeername(&conn->tcp, (struct sockaddr *)&conn->peer, &len);
    pv_proto proto = server->tls ? PV_PROTO_HTTPS : PV_PROTO_HTTP;
    /* Beyond a limit: accept and close at once, so the backlog never fills with them. Over
     * HTTPS the per-source limit counts an address only for connections that have not proved
     * an identity (issue 15): a connection whose handshake verified a client certificate
     * leaves the count (pv__http_server_identified), and while handshakes are under way up to
     * PV_HTTP_IDENTIFIED_PER_SOURCE times the limit may come in — phones behind one NAT
     * address booting at once — each closed after its handshake unless a verified client
     * certificate came with it. */
    unsigned from_source = server->limits.max_per_source ? source_count(server, &conn->peer) : 0;
    bool beyond = server->limits.max_per_source && from_source >= server->limits.max_per_source;
    if ((server->limits.max_connections && server->conn_count >= server->limits.max_connections) ||
        (beyond && (server->tls == NULL ||
                    from_source >= (uint64_t)server->limits.max_per_source *
                                       PV_HTTP_IDENTIFIED_PER_SOURCE))) {
        pv_metrics_refused(proto);
        uv_close((uv_handle_t *)&conn->tcp, free_refused);
        return;
    }
    conn->next = server->conns;
    if (server->conns)
        server->conns->prev = conn;
    server->conns = conn;
    server->conn_count++;
    conn->beyond_source = beyond;
    source_add(server, &conn->peer, +1);
    pv_metrics_open(proto, +1);
    pv__http_conn_start(server, conn);
}

/* ---- binding ----------------------------------------------------------------------------- */

/* "127.0.0.1:8080", "[::1]:8443", "0.0.0.0:80", "localhost:8080". */
static int parse_address(const char *text, struct sockaddr_storage *ss, pv_error *err)
{
    char host[64];
    const char *colon = strrchr(text, ':');
    if (colon == NULL)
        return pv_error_set(err, PV_EINVAL, "address '%s' has no port (expected host:port)", text);
    const char *h = text;
    size_t hlen = (size_t)(colon - text);
    if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    }
    if (hlen >= sizeof host)
        return pv_error_set(err, PV_EINVAL, "address '%s': host too long", text);
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    if (strcmp(host, "localhost") == 0 || hlen == 0)
        snprintf(host, sizeof host, "%s", hlen == 0 ? "0.0.0.0" : "127.0.0.1");
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || *end != '\0' || port < 0 || port > 65535)
        return pv_error_set(err, PV_EINVAL, "address '%s': port must be 0..65535", text);
    if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss) == 0)
        return 0;
    if (uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)ss) == 0)
        return 0;
    return pv_error_set(err, PV_EINVAL, "address '%s': '%s' is not an IPv4 or IPv6 address", text,
                        host);
}

static int bind_socket(const struct sockaddr_storage *ss, bool reuse_port, const char *text,
                       pv_error *err)
{
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return pv_error_set(err, PV_EIO, "socket for %s: %s", text, strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    /* One listener per loop thread on the same address: the kernel spreads connections. */
    if (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
        int e = errno;
        close(fd);
        return pv_error_set(err, PV_ENOTSUP, "SO_REUSEPORT on %s: %s", text, strerror(e));
    }
    socklen_t len =
        ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (bind(fd, (const struct sockaddr *)ss, len) != 0) {
        int e = errno;
        close(fd);
        return pv_error_set(err, e == EACCES ? PV_EACCES : PV_EIO, "cannot listen on %s: %s%s",
                            text, strerror(e),
                            e == EADDRINUSE ? " (another server holds the port)" : "");
    }
    return fd;
}

static void format_address(pv_http_server *server)
{
    struct sockaddr_storage ss = {0};
    int len = sizeof ss;
    uv_tcp_getsockname(&server->listener, (struct sockaddr *)&ss, &len);
    pv_sockaddr_text((struct sockaddr *)&ss, server->address, sizeof server->address);
}

/* A socket of our own never takes 0..2: pv_http_server_options.listen_fd 0 means "none", and a
 * stray write to a standard stream must not reach a peer. */
static int high_fd(int fd, const char *text, pv_error *err)
{
    if (fd >= 3)
        return fd;
    int high = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    int e = errno;
    close(fd);
    if (high < 0)
        return pv_error_set(err, PV_EIO, "socket for %s: %s", text, strerror(e));
    return high;
}

int pv_http_server_listen(const char *address, bool reuse_port, pv_error *err)
{
    if (address == NULL)
        return pv_error_set(err, PV_EINVAL, "a listener needs an address");
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    int rc = parse_address(address, &ss, err);
    if (rc != 0)
        return rc;
    int fd = bind_socket(&ss, reuse_port, address, err);
    if (fd >= 0)
        fd = high_fd(fd, address, err);
    if (fd >= 0 && listen(fd, LISTEN_BACKLOG) != 0) {
        int e = errno;
        close(fd);
        return pv_error_set(err, PV_EIO, "cannot listen on %s: %s", address, strerror(e));
    }
    return fd;
}

int pv_http_server_new(uv_loop_t *loop, const pv_http_server_options *options, pv_http_server **out,
                       pv_error *err)
{
    *out = NULL;
    if (options->handler == NULL || (options->address == NULL && options->listen_fd <= 0))
        return pv_error_set(err, PV_EINVAL, "an HTTP server needs an address and a handler");
    const char *name = options->address != NULL ? options->address : "a shared listener";
    int fd;
    if (options->listen_fd > 0) {
        /* Every loop's epoll watches its own descriptor of the one socket: a new connection
         * wakes the loops that wait, one accept(2) wins and the others see EAGAIN, which
         * libuv's accept loop takes as "nothing left" (unix/stream.c, uv__server_io). */
        fd = fcntl(options->listen_fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
            return pv_error_set(err, PV_EIO, "cannot share the listener of %s: %s", name,
                                strerror(errno));
    } else {
        struct sockaddr_storage ss;
        memset(&ss, 0, sizeof ss);
        int rc = parse_address(options->address, &ss, err);
        if (rc != 0)
            return rc;
        fd = bind_socket(&ss, options->reuse_port, options->address, err);
        if (fd < 0)
            return fd;
    }
    /* A peer that leaves mid-answer makes write(2) and sendfile(2) raise SIGPIPE, whose
     * default action ends the process: a server wants EPIPE instead (as nginx does). A
     * handler the program installed itself is left alone. */
    struct sigaction sa;
    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
        signal(SIGPIPE, SIG_IGN);
    pv_http_server *server = pv_calloc(1, sizeof *server);
    server->loop = loop;
    server->handler = options->handler;
    server->tls = options->tls;
    server->admit = options->tls != NULL ? options->admit : NULL;
    server->allow_other_methods = options->allow_other_methods;
    if (options->limits != NULL)
        server->limits = *options->limits;
    else
        pv_http_limits_default(&server->limits);
    server->read_buf = pv_malloc(PV_HTTP_READ_CHUNK);
    server->file_buf = pv_malloc(PV_HTTP_FILE_CHUNK);
    uv_tcp_init(loop, &server->listener);
    server->listener.data = server;
    uv_timer_init(loop, &server->drain_timer);
    server->drain_timer.data = server;
    int uv_rc = uv_tcp_open(&server->listener, fd);
    if (uv_rc != 0)
        close(fd); /* not adopted by the handle */
    else
        uv_rc = uv_listen((uv_stream_t *)&server->listener, LISTEN_BACKLOG, on_connection);
    if (uv_rc != 0) {
        pv_error_set(err, PV_EIO, "cannot listen on %s: %s", name, uv_strerror(uv_rc));
        /* Closing the handles frees the server; nobody waits for it. */
        server->closing = true;
        uv_close((uv_handle_t *)&server->listener, on_listener_closed);
        return PV_EIO;
    }
    format_address(server);
    *out = server;
    return 0;
}

const char *pv_http_server_address(const pv_http_server *server)
{
    return server->address;
}

void pv_http_server_set_limits(pv_http_server *server, const pv_http_limits *limits)
{
    server->limits = *limits; /* connections keep the limits they started with */
}

size_t pv_http_server_connections(const pv_http_server *server)
{
    return server->conn_count;
}
