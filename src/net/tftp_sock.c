/* tftp_sock.c — pooled transfer sockets and batched sends; see tftp_sock.h. */
#include "net/tftp_sock.h"

#include "core/alloc.h"
#include "net/tftp_transfer.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103 /* linux/udp.h: generic segmentation offload for UDP (4.18) */
#endif

socklen_t pv__tftp_addr_len(const struct sockaddr *sa)
{
    return sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

bool pv__tftp_same_ip(const struct sockaddr *a, const struct sockaddr *b)
{
    if (a->sa_family != b->sa_family)
        return false;
    if (a->sa_family == AF_INET6)
        return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                      &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
    return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
           ((const struct sockaddr_in *)b)->sin_addr.s_addr;
}

bool pv__tftp_same_endpoint(const struct sockaddr *a, const struct sockaddr *b)
{
    if (!pv__tftp_same_ip(a, b))
        return false;
    return a->sa_family == AF_INET6 ? ((const struct sockaddr_in6 *)a)->sin6_port ==
                                          ((const struct sockaddr_in6 *)b)->sin6_port
                                    : ((const struct sockaddr_in *)a)->sin_port ==
                                          ((const struct sockaddr_in *)b)->sin_port;
}

static void on_sock_closed(uv_handle_t *handle)
{
    pv__tftp_sock *sock = handle->data;
    pv_tftp_server *server = sock->server;
    if (sock->all_prev)
        sock->all_prev->all_next = sock->all_next;
    else
        server->socks = sock->all_next;
    if (sock->all_next)
        sock->all_next->all_prev = sock->all_prev;
    close(sock->fd);
    free(sock);
    pv__tftp_handle_closed(server);
}

static void sock_close(pv__tftp_sock *sock)
{
    uv_close((uv_handle_t *)&sock->poll, on_sock_closed);
}

static void on_sock_poll(uv_poll_t *handle, int status, int events)
{
    pv__tftp_sock *sock = handle->data;
    if (status < 0)
        sock->events = 0; /* libuv stops a handle on POLLERR */
    if (sock->t != NULL) {
        pv__tftp_transfer_on_poll(sock->t, status, events);
        return;
    }
    if (status < 0) { /* idle and in error (an ICMP error of the last peer): not reused */
        for (pv__tftp_sock **p = &sock->server->idle_socks; *p; p = &(*p)->next) {
            if (*p == sock) {
                *p = sock->next;
                sock->server->idle_count--;
                break;
            }
        }
        sock_close(sock);
        return;
    }
    /* Idle: a late packet of the previous transfer; dropped. */
    for (int i = 0; i < 64; i++) {
        ssize_t n = recv(sock->fd, sock->server->rx, sizeof sock->server->rx, MSG_DONTWAIT);
        if (n < 0 && errno != EINTR && errno != ECONNREFUSED)
            break;
    }
}

void pv__tftp_sock_watch(pv__tftp_sock *sock, bool writable)
{
    int events = UV_READABLE | (writable ? UV_WRITABLE : 0);
    if (sock->events != events && uv_poll_start(&sock->poll, events, on_sock_poll) == 0)
        sock->events = events;
}

/* An idle socket on the request's local address that did not last serve this peer. */
static pv__tftp_sock *take_idle(pv_tftp_server *server, const struct sockaddr *local,
                                const struct sockaddr *peer)
{
    for (pv__tftp_sock **p = &server->idle_socks; *p; p = &(*p)->next) {
        pv__tftp_sock *s = *p;
        if (pv__tftp_same_ip((struct sockaddr *)&s->local, local) &&
            !pv__tftp_same_endpoint((struct sockaddr *)&s->peer, peer)) {
            *p = s->next;
            s->next = NULL;
            server->idle_count--;
            return s;
        }
    }
    return NULL;
}

pv__tftp_sock *pv__tftp_sock_get(pv_tftp_server *server, const struct sockaddr *local,
                                 const struct sockaddr *peer, pv_error *err)
{
    pv__tftp_sock *sock = take_idle(server, local, peer);
    if (sock != NULL) {
        if (connect(sock->fd, peer, pv__tftp_addr_len(peer)) != 0) {
            pv_error_set(err, PV_EIO, "transfer socket: %s", strerror(errno));
            sock_close(sock);
            return NULL;
        }
        /* A late packet of the previous peer may still be queued: transfers read with
         * recvfrom() and drop what does not come from their peer. A socket that saw an
         * error is never pooled (pv__tftp_sock_put), so none is pending here. */
        memcpy(&sock->peer, peer, pv__tftp_addr_len(peer));
        pv__tftp_sock_watch(sock, false);
        return sock;
    }
    struct sockaddr_storage bind_to;
    memcpy(&bind_to, local, pv__tftp_addr_len(local));
    if (bind_to.ss_family == AF_INET6)
        ((struct sockaddr_in6 *)&bind_to)->sin6_port = 0;
    else
        ((struct sockaddr_in *)&bind_to)->sin_port = 0;
    int fd = socket(local->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        pv_error_set(err, PV_EIO, "socket: %s", strerror(errno));
        return NULL;
    }
    /* One ephemeral port per transfer, on the address the request came to. */
    if (bind(fd, (struct sockaddr *)&bind_to, pv__tftp_addr_len(local)) != 0 ||
        connect(fd, peer, pv__tftp_addr_len(peer)) != 0) {
        pv_error_set(err, PV_EIO, "transfer socket: %s", strerror(errno));
        close(fd);
        return NULL;
    }
    sock = pv_calloc(1, sizeof *sock);
    sock->server = server;
    sock->fd = fd;
    /* Its own port, not the listener's: pv__tftp_same_endpoint() compares it. */
    socklen_t local_len = sizeof sock->local;
    if (getsockname(fd, (struct sockaddr *)&sock->local, &local_len) != 0)
        memcpy(&sock->local, local, pv__tftp_addr_len(local));
    memcpy(&sock->peer, peer, pv__tftp_addr_len(peer));
    uv_poll_init(server->loop, &sock->poll, fd);
    sock->poll.data = sock;
    sock->all_next = server->socks;
    if (server->socks)
        server->socks->all_prev = sock;
    server->socks = sock;
    server->handles++;
    pv__tftp_sock_watch(sock, false);
    return sock;
}

void pv__tftp_sock_put(pv_tftp_server *server, pv__tftp_sock *sock)
{
    sock->t = NULL;
    if (server->closing || server->idle_count >= PV__TFTP_SOCK_POOL || sock->failed) {
        sock_close(sock);
        return;
    }
    sock->next = server->idle_socks;
    server->idle_socks = sock;
    server->idle_count++;
}

bool pv__tftp_sock_is_ours(pv_tftp_server *server, const struct sockaddr *addr)
{
    for (const pv__tftp_sock *s = server->socks; s; s = s->all_next) {
        if (pv__tftp_same_endpoint(addr, (const struct sockaddr *)&s->local))
            return true;
    }
    return false;
}

void pv__tftp_sock_close_idle(pv_tftp_server *server)
{
    while (server->idle_socks) {
        pv__tftp_sock *s = server->idle_socks;
        server->idle_socks = s->next;
        sock_close(s);
    }
    server->idle_count = 0;
}

/* ---- batched sends -------------------------------------------------------- */

ssize_t pv__udp_send_segmented(int fd, struct iovec *iov, size_t iovcnt, uint16_t segment,
                               int flags)
{
    union {
        char buf[CMSG_SPACE(sizeof(uint16_t))];
        struct cmsghdr align;
    } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct msghdr msg = {.msg_iov = iov,
                         .msg_iovlen = iovcnt,
                         .msg_control = ctl.buf,
                         .msg_controllen = sizeof ctl.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_UDP;
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    memcpy(CMSG_DATA(c), &segment, sizeof segment);
    return sendmsg(fd, &msg, flags);
}

/*
 * Sends a laid-out batch: one sendmsg with UDP_SEGMENT, which the kernel cuts
 * into one datagram per stride bytes (only the last may be shorter, as TFTP's
 * last block is), or else one sendmmsg. A window then costs two system calls
 * instead of two per block.
 */
int pv__tftp_sock_send_batch(pv__tftp_sock *sock, struct iovec *iov, unsigned n, size_t stride)
{
    pv_tftp_server *server = sock->server;
    if (!server->no_gso) {
        ssize_t r = pv__udp_send_segmented(sock->fd, iov, 2 * (size_t)n, (uint16_t)stride,
                                           MSG_DONTWAIT | MSG_NOSIGNAL);
        if (r >= 0)
            return (int)n;
        if (errno == EFAULT)
            return -1;
        if (errno == EAGAIN || errno == ENOBUFS)
            return 0;
        if (errno != EINVAL && errno != EIO && errno != ENOPROTOOPT && errno != EOPNOTSUPP)
            return (int)n;     /* as a lost packet would be: retransmission recovers */
        server->no_gso = true; /* this kernel or route cannot: sendmmsg from now on */
    }
    struct mmsghdr msgs[PV__TFTP_BATCH_BLOCKS];
    for (unsigned i = 0; i < n; i++)
        msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[2 * i], .msg_iovlen = 2}};
    int sent = sendmmsg(sock->fd, msgs, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (sent < 0 && errno == EFAULT)
        return -1;
    if (sent < 0)
        return errno == EAGAIN || errno == ENOBUFS ? 0 : (int)n;
    return sent;
}
