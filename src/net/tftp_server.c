/*
 * tftp_server.c — the TFTP listener: receives requests with the address they
 * came to (IP_PKTINFO), applies the limits and the per-source rate limit,
 * answers refusals with one small ERROR, and starts transfers
 * (tftp_transfer.c). It also owns the open files shared between transfers
 * and the draining close. See tftp_server.h.
 *
 * libuv 1.44's uv_udp_recv_cb does not report the destination address of a
 * datagram, so the listener is our own socket watched with uv_poll_t.
 */
#include "net/tftp_server.h"

#include "core/alloc.h"
#include "core/log.h"
#include "net/metrics.h"
#include "net/sockaddr.h"
#include "net/source_count.h"
#include "net/tftp_admit.h"
#include "net/tftp_transfer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

void pv_tftp_limits_default(pv_tftp_limits *limits)
{
    *limits = (pv_tftp_limits){
        .max_transfers = 2000,
        .max_per_source = 16,
        .requests_per_second = 50,
        .max_blksize = PV_TFTP_BLKSIZE_MAX,
        .max_windowsize = 64,
        .timeout_ms = 1000,
        .max_retries = 5,
        .max_half_open = 256,
        .half_open_retries = 2,
        .max_upload_bytes = 1024 * 1024,
    };
}

void pv_tftp_server_set_limits(pv_tftp_server *server, const pv_tftp_limits *limits)
{
    if (limits)
        server->limits = *limits;
    else
        pv_tftp_limits_default(&server->limits);
    if (server->limits.max_blksize < PV_TFTP_BLKSIZE_MIN)
        server->limits.max_blksize = PV_TFTP_BLKSIZE_MIN;
    if (server->limits.max_blksize > PV_TFTP_BLKSIZE_MAX)
        server->limits.max_blksize = PV_TFTP_BLKSIZE_MAX;
    if (server->limits.timeout_ms == 0)
        server->limits.timeout_ms = 1000;
    if (server->limits.max_half_open == 0)
        server->limits.max_half_open = 1;
}

const char *pv_tftp_server_address(const pv_tftp_server *server)
{
    return server->address;
}

size_t pv_tftp_server_transfers(const pv_tftp_server *server)
{
    return server->transfer_count;
}

uint64_t pv_tftp_server_dropped(const pv_tftp_server *server)
{
    return server->dropped;
}

size_t pv_tftp_server_open_files(const pv_tftp_server *server)
{
    size_t n = 0;
    for (const pv__tftp_file *f = server->files; f; f = f->next)
        n++;
    return n;
}

/* "127.0.0.1:6969", "[::1]:69", "0.0.0.0:69", ":69" (all IPv4 addresses). */
static int parse_address(const char *text, struct sockaddr_storage *ss, pv_error *err)
{
    char host[64];
    const char *colon = strrchr(text, ':');
    if (colon == NULL)
        return pv_error_set(err, PV_ESYNTAX, "TFTP address '%s': expected ADDRESS:PORT", text);
    size_t hlen = (size_t)(colon - text);
    const char *h = text;
    if (hlen >= 2 && text[0] == '[' && text[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    }
    if (hlen >= sizeof host)
        return pv_error_set(err, PV_ESYNTAX, "TFTP address '%s': host too long", text);
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || port < 0 || port > 65535)
        return pv_error_set(err, PV_ESYNTAX, "TFTP address '%s': port must be 0..65535", text);
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    if (hlen == 0 || strcmp(host, "*") == 0)
        strcpy(host, "0.0.0.0");
    if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
    } else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
    } else {
        return pv_error_set(err, PV_ESYNTAX,
                            "TFTP address '%s': '%s' is not an IPv4 or [IPv6] address", text, host);
    }
    return 0;
}

#define IP4_OVERHEAD (20 + 8 + 4) /* IPv4 + UDP + TFTP DATA header */
#define IP6_OVERHEAD (40 + 8 + 4)

/* RFC 2348: blksize is capped by the path MTU of the connected socket. */
unsigned pv__tftp_mtu_blksize(int fd, int family)
{
    int mtu = 0;
    socklen_t len = sizeof mtu;
    bool v6 = family == AF_INET6;
    if (getsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_MTU : IP_MTU, &mtu, &len) != 0 ||
        mtu <= 0)
        mtu = 1500;
    int cap = mtu - (v6 ? IP6_OVERHEAD : IP4_OVERHEAD);
    return cap < PV_TFTP_BLKSIZE_MIN ? PV_TFTP_BLKSIZE_MIN : (unsigned)cap;
}

/* ---- per-source table: concurrent transfers and the token bucket ------- */

static void refill(pv_tftp_server *server, pv__tftp_source *s)
{
    double burst = 2.0 * server->limits.requests_per_second;
    uint64_t now = uv_now(server->loop);
    double elapsed = (double)(now - s->refill_ms);
    s->tokens += elapsed * server->limits.requests_per_second / 1000.0;
    if (s->tokens > burst)
        s->tokens = burst;
    s->allowance += elapsed * PV__TFTP_ALLOWANCE / 1000.0;
    if (s->allowance > PV__TFTP_ALLOWANCE)
        s->allowance = PV__TFTP_ALLOWANCE;
    s->refill_ms = now;
}

bool pv__tftp_source_is_proven(pv_tftp_server *server, const pv__tftp_source *s)
{
    return s->proven_ms != 0 && uv_now(server->loop) - s->proven_ms < PV__TFTP_PROVEN_MS;
}

bool pv__tftp_source_afford(pv_tftp_server *server, pv__tftp_source *s, size_t len, bool first)
{
    if (first && pv__tftp_source_is_proven(server, s))
        return true;
    refill(server, s);
    double have = s->earned + (first ? s->allowance : 0);
    if (have < (double)len)
        return false;
    double from_earned = s->earned < (double)len ? s->earned : (double)len;
    s->earned -= from_earned;
    s->allowance -= (double)len - from_earned;
    return true;
}

void pv__tftp_source_proven(pv_tftp_server *server, pv__tftp_source *s)
{
    s->proven_ms = uv_now(server->loop);
    if (s->proven_ms == 0)
        s->proven_ms = 1;
}

/*
 * A fixed table (bounded memory under spoofed floods): up to 8 probes from
 * the address's hash. A new address takes a free slot, else an idle one (no
 * transfer, bucket and allowance full: nothing to forget), else one with no
 * transfer whose address never proved itself (its charges are forgotten: a
 * flood of more addresses than slots gets one more first answer each, which
 * one request from each would get anyway). NULL when every probed slot is busy.
 */
pv__tftp_source *pv__tftp_source_find(pv_tftp_server *server, const struct sockaddr *addr)
{
    /* Keyed and hashed as every per-source table (net/source_count.h); the slots stay
     * fixed in number and compact, a bound a flood of spoofed sources cannot grow. */
    pv_source_key k;
    pv_source_key_addr(addr, &k);
    const uint8_t *key = k.bytes + 1; /* the address, zero-padded to 16 bytes */
    uint32_t h = pv_source_key_hash(&k);
    pv__tftp_source *reuse = NULL, *forget = NULL;
    for (unsigned i = 0; i < 8; i++) {
        pv__tftp_source *s = &server->sources[(h + i) % PV__TFTP_SOURCE_SLOTS];
        if (s->family == addr->sa_family && memcmp(s->addr, key, 16) == 0) {
            refill(server, s);
            return s;
        }
        if (reuse == NULL && s->family == 0)
            reuse = s;
        if (reuse == NULL && s->active == 0) {
            refill(server, s);
            if (s->tokens >= 2.0 * server->limits.requests_per_second &&
                s->allowance >= PV__TFTP_ALLOWANCE)
                reuse = s;
            else if (forget == NULL && !pv__tftp_source_is_proven(server, s))
                forget = s;
        }
    }
    if (reuse == NULL)
        reuse = forget;
    if (reuse) {
        reuse->family = addr->sa_family;
        memcpy(reuse->addr, key, 16);
        reuse->active = 0;
        reuse->tokens = 2.0 * server->limits.requests_per_second;
        reuse->refill_ms = uv_now(server->loop);
        reuse->silenced = false;
        reuse->earned = 0;
        reuse->allowance = PV__TFTP_ALLOWANCE;
        reuse->proven_ms = 0;
        reuse->half_open = 0;
        reuse->id_failures = 0;
    }
    return reuse;
}

uint8_t *pv__tftp_batch_buffer(pv_tftp_server *server)
{
    if (server->batch == NULL)
        server->batch = pv_malloc(PV__TFTP_BATCH_BUFFER);
    return server->batch;
}

/* ---- shared open files ------------------------------------------------- */

pv__tftp_file *pv__tftp_file_get(pv_tftp_server *server, int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return NULL;
    }
    for (pv__tftp_file *f = server->files; f; f = f->next) {
        if (f->dev == st.st_dev && f->ino == st.st_ino && f->size == st.st_size &&
            f->mtime.tv_sec == st.st_mtim.tv_sec && f->mtime.tv_nsec == st.st_mtim.tv_nsec) {
            close(fd); /* the same content is already open: share it */
            f->refs++;
            return f;
        }
    }
    pv__tftp_file *f = pv_calloc(1, sizeof *f);
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    f->size = st.st_size;
    f->mtime = st.st_mtim;
    f->fd = fd;
    if (st.st_size >= PV__TFTP_MAP_MIN && (uint64_t)st.st_size <= SIZE_MAX) {
        void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
        f->map = map == MAP_FAILED ? NULL : map; /* else read with preadv, as small files are */
    }
    f->refs = 1;
    f->next = server->files;
    server->files = f;
    return f;
}

void pv__tftp_file_put(pv_tftp_server *server, pv__tftp_file *file)
{
    if (--file->refs > 0)
        return;
    for (pv__tftp_file **p = &server->files; *p; p = &(*p)->next) {
        if (*p == file) {
            *p = file->next;
            break;
        }
    }
    if (file->map != NULL)
        munmap((void *)file->map, (size_t)file->size);
    close(file->fd);
    free(file);
}

/* ---- refusals ------------------------------------------------------------ */

/* Sends one ERROR from the listener, from the address the request came to, if the
 * source's amplification budget affords it (a first answer). */
static void send_refusal(pv_tftp_server *server, pv__tftp_source *src, const struct sockaddr *peer,
                         const struct sockaddr *local, uint16_t code, const char *message)
{
    pv_buf b = {0};
    pv_tftp_build_error(&b, code, message);
    if (!pv__tftp_source_afford(server, src, b.len, true)) {
        pv_buf_free(&b);
        return;
    }
    struct iovec iov = {b.data, b.len};
    union {
        char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
        struct cmsghdr align;
    } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct msghdr msg = {
        .msg_name = (void *)peer,
        .msg_namelen = pv__tftp_addr_len(peer),
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = ctl.buf,
    };
    struct cmsghdr *c = (struct cmsghdr *)ctl.buf;
    if (local->sa_family == AF_INET && server->bound.ss_family == AF_INET) {
        struct in_pktinfo pi = {.ipi_spec_dst = ((const struct sockaddr_in *)local)->sin_addr};
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof pi);
        memcpy(CMSG_DATA(c), &pi, sizeof pi);
        msg.msg_controllen = CMSG_SPACE(sizeof pi);
    } else if (local->sa_family == AF_INET6) {
        struct in6_pktinfo pi = {.ipi6_addr = ((const struct sockaddr_in6 *)local)->sin6_addr};
        c->cmsg_level = IPPROTO_IPV6;
        c->cmsg_type = IPV6_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof pi);
        memcpy(CMSG_DATA(c), &pi, sizeof pi);
        msg.msg_controllen = CMSG_SPACE(sizeof pi);
    }
    (void)!sendmsg(server->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    pv_buf_free(&b);
}

static void log_refusal(const struct sockaddr *peer, const char *why)
{
    char addr[80];
    pv_sockaddr_text(peer, addr, sizeof addr);
    pv_log_line line;
    pv_log_begin(&line, PV_LOG_INFO, "tftp.refused");
    pv_log_str(&line, "peer", addr);
    pv_log_str(&line, "reason", why);
    pv_log_end(&line);
}

static void refuse(pv_tftp_server *server, pv__tftp_source *src, const struct sockaddr *peer,
                   const struct sockaddr *local, uint16_t code, const char *message)
{
    pv_metrics_refused(PV_PROTO_TFTP);
    log_refusal(peer, message);
    send_refusal(server, src, peer, local, code, message);
}

static uint16_t port_of(const struct sockaddr *sa)
{
    return ntohs(sa->sa_family == AF_INET6 ? ((const struct sockaddr_in6 *)sa)->sin6_port
                                           : ((const struct sockaddr_in *)sa)->sin_port);
}

/*
 * Datagrams never answered, not even by an ERROR: from port 0 (no answer can reach it),
 * from a TFTP server's port (69, or this listener's own: a peer there is a server, which
 * would answer our answer — the loop of CVE-2024-2169), and from one of our own transfer
 * sockets (a request spoofed from our own address would make the server talk to itself).
 */
static bool never_answered(pv_tftp_server *server, const struct sockaddr *peer,
                           const struct sockaddr *local)
{
    uint16_t port = port_of(peer);
    if (port == 0 || port == 69 || port == port_of((const struct sockaddr *)&server->bound))
        return true;
    return pv__tftp_same_ip(peer, local) && pv__tftp_sock_is_ours(server, peer);
}

/* ---- the listener -------------------------------------------------------- */

static void on_request(pv_tftp_server *server, const uint8_t *data, size_t len,
                       const struct sockaddr *peer, const struct sockaddr *local)
{
    if (never_answered(server, peer, local)) {
        pv_metrics_refused(PV_PROTO_TFTP);
        return;
    }
    pv__tftp_source *src = pv__tftp_source_find(server, peer);
    if (src == NULL) {
        pv_metrics_refused(PV_PROTO_TFTP);
        return;
    }
    /* What it sent earns what it may be sent before it is proven (RFC 9000 §8.1's rule). */
    src->earned += (double)len * PV__TFTP_AMPLIFICATION;
    if (src->earned > PV__TFTP_EARNED_MAX)
        src->earned = PV__TFTP_EARNED_MAX;
    pv_tftp_packet pkt;
    pv_error err;
    int rc = pv_tftp_parse(data, len, &pkt, &err);
    /* A request naming a device costs its address less (an office behind one address boots
     * at once) while such names find something (tftp_admit.h). */
    bool identified = rc == 0 && (pkt.opcode == PV_TFTP_RRQ || pkt.opcode == PV_TFTP_WRQ) &&
                      pv__tftp_identified(src, pkt.filename);
    /* Every datagram costs a token, so neither requests nor the errors they
     * provoke can be reflected faster than the rate (amplification). */
    if (server->limits.requests_per_second > 0) {
        double cost = pv__tftp_request_cost(identified);
        if (src->tokens < cost) {
            pv_metrics_refused(PV_PROTO_TFTP);
            if (!src->silenced) {
                src->silenced = true; /* one ERROR per flood, then silence */
                log_refusal(peer, "rate limit");
                send_refusal(server, src, peer, local, PV_TFTP_ENOTDEFINED,
                             "rate limit: too many requests, retry later");
            }
            return;
        }
        src->tokens -= cost;
        if (src->silenced && src->tokens >= server->limits.requests_per_second)
            src->silenced = false;
    }
    char msg[160];
    if (rc == 0 && pkt.opcode == PV_TFTP_ERROR) {
        pv_metrics_refused(PV_PROTO_TFTP); /* RFC 1350 §7: an ERROR is never answered */
        return;
    }
    if (rc == 0 && pkt.opcode != PV_TFTP_RRQ && pkt.opcode != PV_TFTP_WRQ) {
        snprintf(msg, sizeof msg, "malformed request: expected RRQ or WRQ, got %s",
                 pv_tftp_opcode_name(pkt.opcode));
        refuse(server, src, peer, local, PV_TFTP_EBADOP, msg);
        return;
    }
    if (rc < 0) {
        bool options = strncmp(err.msg, "too many options", 16) == 0;
        if (strncmp(err.msg, "malformed request", 17) == 0)
            snprintf(msg, sizeof msg, "%s", err.msg);
        else
            snprintf(msg, sizeof msg, "malformed request: %s", err.msg); /* truncation ok */
        refuse(server, src, peer, local, options ? PV_TFTP_EOPTNEG : PV_TFTP_EBADOP, msg);
        return;
    }
    if (!pv__tftp_source_has_room(server, src, identified, pkt.filename)) {
        refuse(server, src, peer, local, PV_TFTP_ENOTDEFINED,
               "too many transfers from your address");
        return;
    }
    if (!pv__tftp_make_room(server, src)) {
        /* every half-open transfer is still within its time to answer: this request is
         * dropped as if lost (its client resends it), not theirs cut (tftp_admit.h) */
        pv_metrics_refused(PV_PROTO_TFTP);
        server->dropped++;
        return;
    }
    if (server->transfer_count >= server->limits.max_transfers) {
        refuse(server, src, peer, local, PV_TFTP_ENOTDEFINED, "server busy: too many transfers");
        return;
    }
    if (pv__tftp_transfer_start(server, &pkt, peer, local, src, identified, &err) < 0)
        refuse(server, src, peer, local, PV_TFTP_ENOTDEFINED, "cannot start transfer");
}

static void on_listener(uv_poll_t *handle, int status, int events)
{
    pv_tftp_server *server = handle->data;
    /* A bounded batch per wakeup keeps transfers on this loop responsive; from a shared
     * listener a smaller one, so a burst also reaches the other loops that wait. */
    int batch = server->shared ? 8 : 64;
    for (int i = 0; i < batch && !server->closing; i++) {
        struct sockaddr_storage peer, local = server->bound;
        union {
            char
                buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(struct in_pktinfo))];
            struct cmsghdr align;
        } ctl;
        struct iovec iov = {server->rx, sizeof server->rx};
        struct msghdr msg = {.msg_name = &peer,
                             .msg_namelen = sizeof peer,
                             .msg_iov = &iov,
                             .msg_iovlen = 1,
                             .msg_control = ctl.buf,
                             .msg_controllen = sizeof ctl.buf};
        ssize_t n = recvmsg(server->fd, &msg, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
                struct in_pktinfo pi;
                memcpy(&pi, CMSG_DATA(c), sizeof pi);
                ((struct sockaddr_in *)&local)->sin_addr = pi.ipi_addr;
            } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
                struct in6_pktinfo pi;
                memcpy(&pi, CMSG_DATA(c), sizeof pi);
                ((struct sockaddr_in6 *)&local)->sin6_addr = pi.ipi6_addr;
            }
        }
        if (msg.msg_flags & MSG_TRUNC) /* longer than any TFTP packet */
            n = (ssize_t)sizeof server->rx;
        on_request(server, server->rx, (size_t)n, (struct sockaddr *)&peer,
                   (struct sockaddr *)&local);
    }
}

/* A bound UDP socket on address that reports each datagram's destination address; its
 * descriptor (>= 3, see pv_tftp_server_listen) or a negative PV_E* code. */
static int udp_listener(const char *address, bool reuse_port, struct sockaddr_storage *bound,
                        pv_error *err)
{
    int rc = parse_address(address, bound, err);
    if (rc < 0)
        return rc;
    int family = bound->ss_family;
    socklen_t alen = family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0 && fd < 3) { /* listen_fd 0 means "none": never hand out 0..2 */
        int high = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        close(fd);
        fd = high;
    }
    if (fd < 0)
        return pv_error_set(err, PV_EIO, "TFTP socket: %s", strerror(errno));
    int on = 1;
    if (reuse_port)
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
    if (family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on);
    else
        setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on);
    if (bind(fd, (struct sockaddr *)bound, alen) != 0) {
        int e = errno;
        close(fd);
        return pv_error_set(err, e == EADDRINUSE ? PV_EBUSY : PV_EIO, "TFTP bind %s: %s%s",
                            address, strerror(e),
                            e == EADDRINUSE ? " (another server holds the port)" : "");
    }
    return fd;
}

int pv_tftp_server_listen(const char *address, bool reuse_port, pv_error *err)
{
    struct sockaddr_storage bound;
    if (address == NULL)
        return pv_error_set(err, PV_EINVAL, "TFTP server: an address is required");
    return udp_listener(address, reuse_port, &bound, err);
}

static int open_listener(pv_tftp_server *server, const pv_tftp_server_options *options,
                         pv_error *err)
{
    if (options->listen_fd > 0) {
        /* Each loop polls its own descriptor of the one socket; a datagram wakes the loops
         * that wait and one recvmsg gets it, the others see EAGAIN. The socket options
         * (IP_PKTINFO) belong to the shared socket. */
        server->fd = fcntl(options->listen_fd, F_DUPFD_CLOEXEC, 3);
        if (server->fd < 0)
            return pv_error_set(err, PV_EIO, "cannot share the TFTP listener: %s", strerror(errno));
        server->shared = true;
    } else {
        server->fd = udp_listener(options->address, options->reuse_port, &server->bound, err);
        if (server->fd < 0)
            return server->fd;
    }
    socklen_t alen = sizeof server->bound;
    getsockname(server->fd, (struct sockaddr *)&server->bound, &alen);
    pv_sockaddr_text((struct sockaddr *)&server->bound, server->address, sizeof server->address);
    return 0;
}

int pv_tftp_server_new(uv_loop_t *loop, const pv_tftp_server_options *options, pv_tftp_server **out,
                       pv_error *err)
{
    if (options == NULL || (options->address == NULL && options->listen_fd <= 0) ||
        options->handler == NULL)
        return pv_error_set(err, PV_EINVAL, "TFTP server: address and handler are required");
    pv_tftp_server *server = pv_calloc(1, sizeof *server);
    server->loop = loop;
    server->handler = options->handler;
    pv_tftp_server_set_limits(server, options->limits);
    int rc = open_listener(server, options, err);
    if (rc < 0) {
        free(server);
        return rc;
    }
    uv_poll_init(loop, &server->poll, server->fd);
    uv_timer_init(loop, &server->drain_timer);
    server->poll.data = server->drain_timer.data = server;
    server->handles = 2;
    uv_poll_start(&server->poll, UV_READABLE, on_listener);
    *out = server;
    return 0;
}

/* ---- draining close ------------------------------------------------------ */

static void maybe_free(pv_tftp_server *server)
{
    if (!server->closing || server->handles > 0 || server->transfer_count > 0)
        return;
    while (server->files) /* only if a transfer leaked a reference */
        pv__tftp_file_put(server, server->files);
    void (*done)(void *) = server->done_cb;
    void *data = server->done_data;
    free(server->batch);
    free(server);
    if (done)
        done(data);
}

void pv__tftp_handle_closed(pv_tftp_server *server)
{
    server->handles--;
    maybe_free(server);
}

static void on_server_handle_closed(uv_handle_t *handle)
{
    pv_tftp_server *server = handle->data;
    if (handle == (uv_handle_t *)&server->poll)
        close(server->fd);
    pv__tftp_handle_closed(server);
}

static void close_server_handles(pv_tftp_server *server)
{
    if (!uv_is_closing((uv_handle_t *)&server->drain_timer))
        uv_close((uv_handle_t *)&server->drain_timer, on_server_handle_closed);
}

void pv__tftp_transfer_removed(pv_tftp_server *server)
{
    server->transfer_count--;
    if (server->closing && server->transfer_count == 0)
        close_server_handles(server);
}

static void on_drain_timeout(uv_timer_t *timer)
{
    pv_tftp_server *server = timer->data;
    /* Transfers still running after the grace period are told and dropped. */
    while (server->transfers)
        pv__tftp_transfer_abort(server->transfers, 503, "server shutting down");
}

void pv_tftp_server_close(pv_tftp_server *server, unsigned timeout_ms, void (*done_cb)(void *data),
                          void *data)
{
    if (server->closing)
        return;
    server->closing = true;
    server->done_cb = done_cb;
    server->done_data = data;
    uv_close((uv_handle_t *)&server->poll, on_server_handle_closed);
    pv__tftp_sock_close_idle(server);
    if (server->transfer_count == 0)
        close_server_handles(server);
    else
        uv_timer_start(&server->drain_timer, on_drain_timeout, timeout_ms, 0);
}
