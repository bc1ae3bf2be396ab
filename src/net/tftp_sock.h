/*
 * tftp_sock.h — the sockets TFTP transfers send from: a per-loop pool of
 * connected UDP sockets, and the batched send of a window of DATA packets.
 * Internal to the TFTP server (tftp_server.c owns the pool, tftp_transfer.c
 * borrows one socket per transfer); see tftp_server.h for the public side.
 */
#ifndef PV_NET_TFTP_SOCK_H
#define PV_NET_TFTP_SOCK_H

#include "core/error.h"
#include "net/tftp_server.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <uv.h>

typedef struct pv__tftp_transfer pv__tftp_transfer;

/*
 * A transfer's socket: bound to an ephemeral port on the address the request
 * came to, connected to the peer, watched by its poll handle. When a transfer
 * ends the socket goes back to a per-loop pool, still open and watched, and
 * the next transfer from another peer connects it anew: a short transfer then
 * costs a connect(2) instead of socket, bind, connect, close and the six
 * epoll and ioctl calls of a poll handle's life. Concurrent transfers never
 * share a port (RFC 1350 §4: the TID pair names the transfer), and a peer
 * never gets the port its previous transfer had (a late ACK of that one
 * cannot reach this one).
 */
typedef struct pv__tftp_sock {
    struct pv__tftp_sock *next;                /* in the idle pool */
    struct pv__tftp_sock *all_prev, *all_next; /* in the server's list of every socket */
    pv_tftp_server *server;
    pv__tftp_transfer *t; /* the transfer using it, NULL while idle */
    int fd;
    int events;                          /* what the poll handle watches now */
    bool failed;                         /* an error was seen on it: closed, never pooled */
    struct sockaddr_storage local, peer; /* local: its address and own ephemeral port */
    uv_poll_t poll;
} pv__tftp_sock;

#define PV__TFTP_SOCK_POOL 64 /* idle sockets kept per loop */

/* A connected socket for a new transfer (pooled or new), or NULL with err set. */
pv__tftp_sock *pv__tftp_sock_get(pv_tftp_server *server, const struct sockaddr *local,
                                 const struct sockaddr *peer, pv_error *err);
/* The transfer is done with it: back to the pool, or closed. */
void pv__tftp_sock_put(pv_tftp_server *server, pv__tftp_sock *sock);
/* Watches for readability, and writability too when asked (no call when unchanged). */
void pv__tftp_sock_watch(pv__tftp_sock *sock, bool writable);
/* The length of an IPv4 or IPv6 socket address. */
socklen_t pv__tftp_addr_len(const struct sockaddr *sa);
/* Same address (any port). */
bool pv__tftp_same_ip(const struct sockaddr *a, const struct sockaddr *b);
/* Same address and port. */
bool pv__tftp_same_endpoint(const struct sockaddr *a, const struct sockaddr *b);
/* addr is the local end (address and port) of one of the server's transfer sockets. */
bool pv__tftp_sock_is_ours(pv_tftp_server *server, const struct sockaddr *addr);
/* Idle sockets are closed (the server is closing). */
void pv__tftp_sock_close_idle(pv_tftp_server *server);

/* One sendmsg of iov that the kernel cuts into datagrams of segment bytes
 * (UDP_SEGMENT, Linux 4.18; the last may be shorter): sendmsg's result. */
ssize_t pv__udp_send_segmented(int fd, struct iovec *iov, size_t iovcnt, uint16_t segment,
                               int flags);

/* Blocks per batch: UDP_MAX_SEGMENTS of older kernels. */
#define PV__TFTP_BATCH_BLOCKS 64

/*
 * Sends n DATA packets from sock, described by 2n iovecs (header, bytes),
 * every packet stride bytes long but the last, which may be shorter: one UDP_SEGMENT send, or one
 * sendmmsg where the kernel refuses segmentation offload. Returns the packets sent (0: socket
 * full), counting a send error as sent (a lost packet, recovered by retransmission), or -1 when the
 * kernel could not read the bytes (EFAULT: a mapped file was cut short).
 */
int pv__tftp_sock_send_batch(pv__tftp_sock *sock, struct iovec *iov, unsigned n, size_t stride);

#endif
