/*
 * tftp_transfer.h — private to the TFTP server: the listener's state
 * (tftp_server.c) and one transfer's state machine (tftp_transfer.c).
 *
 * The server owns the listener socket, the per-source table (rate limits and
 * concurrent transfers), the open files shared between transfers and the
 * list of transfers. A transfer owns its ephemeral socket, its timer, its
 * pv_request while the handler decides, and at most one window of state.
 * Everything here runs on the server's loop thread.
 */
#ifndef PV_NET_TFTP_TRANSFER_H
#define PV_NET_TFTP_TRANSFER_H

#include "core/buf.h"
#include "net/exchange.h"
#include "net/handler.h"
#include "net/tftp_packet.h"
#include "net/tftp_server.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <uv.h>

#include "net/tftp_sock.h"

/* One open file shared by every transfer of the same content (boot storms). */
typedef struct pv__tftp_file {
    struct pv__tftp_file *next;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    int fd;
    const uint8_t *map; /* the whole file mapped read-only, or NULL (small, or mmap failed) */
    unsigned refs;
} pv__tftp_file;

/* Files from this size on are mapped: one copy per block instead of two. */
#define PV__TFTP_MAP_MIN (64 * 1024)

/*
 * Per source address: concurrent transfers, a token bucket (reflection) and the
 * anti-amplification credit (the rule of RFC 9000 §8.1 applied to TFTP): until
 * the address has proven that it receives what is sent to it (a peer answered
 * one of its transfers), it is sent at most PV__TFTP_AMPLIFICATION times the
 * bytes it sent, plus one first answer of up to one block a second (RFC 1350:
 * the first DATA of a plain read request cannot be made smaller).
 */
typedef struct pv__tftp_source {
    int family; /* 0: free slot */
    uint8_t addr[16];
    unsigned active;
    double tokens;
    uint64_t refill_ms;
    bool silenced;      /* one ERROR per flood, then silence until the bucket refills */
    double earned;      /* bytes it may still be sent: PV__TFTP_AMPLIFICATION per byte received */
    double allowance;   /* bytes of first answers beyond earned: one block, refilled each second */
    uint64_t proven_ms; /* when a peer at this address last answered a transfer; 0: never */
    unsigned half_open;   /* of its transfers, those whose peer has not answered yet */
    unsigned id_failures; /* its requests naming a device that found nothing (tftp_admit.h) */
} pv__tftp_source;

#define PV__TFTP_AMPLIFICATION 3         /* bytes sent per byte received, unproven address */
#define PV__TFTP_ALLOWANCE (4 + 512)     /* one first answer a second: a plain first DATA */
#define PV__TFTP_EARNED_MAX (192 * 1024) /* earned credit kept at most */
#define PV__TFTP_PROVEN_MS (600 * 1000)  /* an address stays proven this long */

#define PV__TFTP_SOURCE_SLOTS 4096

typedef struct pv__tftp_transfer pv__tftp_transfer;

struct pv_tftp_server {
    uv_loop_t *loop;
    pv_handler *handler;
    pv_tftp_limits limits;
    int fd;
    bool shared; /* fd is a dup of a listener other loops read too */
    uv_poll_t poll;
    uv_timer_t drain_timer;
    struct sockaddr_storage bound;
    char address[64];
    pv__tftp_transfer *transfers;
    size_t transfer_count;
    /* Transfers whose peer has not answered yet, oldest first (the half-open budget). */
    pv__tftp_transfer *half_open_oldest, *half_open_newest;
    size_t half_open;
    uint64_t dropped; /* requests dropped: the half-open budget full, all within their grace */
    pv__tftp_file *files;
    unsigned handles; /* uv handles not yet closed, transfers' included */
    bool closing;
    bool no_gso; /* UDP_SEGMENT refused once: windows go out by sendmmsg */
    pv__tftp_sock *idle_socks;
    unsigned idle_count;
    pv__tftp_sock *socks; /* every transfer socket, idle or not */
    uint8_t *batch;       /* one window batch being sent (64 KiB), made on first use */
    void (*done_cb)(void *data);
    void *done_data;
    pv__tftp_source sources[PV__TFTP_SOURCE_SLOTS];
    uint8_t rx[PV_TFTP_MAX_PACKET + 1]; /* one receive buffer per loop */
};

/* tftp_server.c, for transfers */
pv__tftp_file *pv__tftp_file_get(pv_tftp_server *server, int fd);
void pv__tftp_file_put(pv_tftp_server *server, pv__tftp_file *file);
pv__tftp_source *pv__tftp_source_find(pv_tftp_server *server, const struct sockaddr *addr);
/* May len more bytes go to this source now? Charges them if so. A proven address is
 * not charged for a first answer (the transfer's first packet, or a refusal); first
 * answers of an unproven one may also use the allowance, resends only what it earned. */
bool pv__tftp_source_afford(pv_tftp_server *server, pv__tftp_source *s, size_t len, bool first);
/* A peer at this source answered one of its transfers. */
void pv__tftp_source_proven(pv_tftp_server *server, pv__tftp_source *s);
/* ... within PV__TFTP_PROVEN_MS. */
bool pv__tftp_source_is_proven(pv_tftp_server *server, const pv__tftp_source *s);
void pv__tftp_handle_closed(pv_tftp_server *server);
void pv__tftp_transfer_removed(pv_tftp_server *server);
/* RFC 2348: the largest blksize the path MTU of a connected socket carries. */
unsigned pv__tftp_mtu_blksize(int fd, int family);
/* tftp_transfer.c: the socket of transfer t has events. */
void pv__tftp_transfer_on_poll(pv__tftp_transfer *t, int status, int events);
/* The loop's buffer for one batch of DATA packets (PV__TFTP_BATCH_BUFFER bytes). */
#define PV__TFTP_BATCH_BUFFER (64 * 1024)
uint8_t *pv__tftp_batch_buffer(pv_tftp_server *server);

/* tftp_transfer.c, for the listener: starts a transfer for a parsed RRQ/WRQ
 * whose limits were checked; 0 or a negative PV_E* code (then nothing was
 * created and the listener answers the refusal). */
int pv__tftp_transfer_start(pv_tftp_server *server, const pv_tftp_packet *pkt,
                            const struct sockaddr *peer, const struct sockaddr *local,
                            pv__tftp_source *source, bool identified, pv_error *err);
/* The half-open list for the eviction rules (tftp_admit.c): the next newer transfer, its
 * source, when it started (uv_hrtime). */
pv__tftp_transfer *pv__tftp_half_open_newer(const pv__tftp_transfer *t);
pv__tftp_source *pv__tftp_transfer_source(const pv__tftp_transfer *t);
uint64_t pv__tftp_transfer_started_ns(const pv__tftp_transfer *t);
/* Every transfer (server->transfers, then the next): its source and its file name. */
pv__tftp_transfer *pv__tftp_transfer_next(const pv__tftp_transfer *t);
const char *pv__tftp_transfer_path(const pv__tftp_transfer *t);
/* Ends a half-open transfer silently: a newer request needs its room. */
void pv__tftp_transfer_evict(pv__tftp_transfer *t);
/* Ends a transfer now with an ERROR to the peer (server closing). */
void pv__tftp_transfer_abort(pv__tftp_transfer *t, int status, const char *message);

#endif
