/*
 * tftp_negotiate.h — what a TFTP transfer agrees to (RFC 2347 option
 * negotiation) and the OACK that says so.
 *
 * A request asks for options (pv_tftp_requested, parsed by tftp_packet); the
 * server decides blksize (RFC 2348, capped by its limit and the path MTU),
 * windowsize (RFC 7440, capped by its limit and by what a peer's socket buffer
 * holds), timeout (RFC 2349, then fixed; declined above PV__TFTP_RTO_MAX_MS) and
 * tsize (RFC 2349), and answers
 * only the options it was asked for. Pure: no sockets, no clocks — the caller
 * measures the path MTU and owns the OACK buffer.
 */
#ifndef PV_NET_TFTP_NEGOTIATE_H
#define PV_NET_TFTP_NEGOTIATE_H

#include "core/buf.h"
#include "net/tftp_packet.h"
#include "net/tftp_server.h"

#include <stdbool.h>
#include <stdint.h>

/* At most this much data in flight per transfer: a window must fit the peer's socket buffer
 * (Linux default 208 KiB), or most of it is dropped on arrival and every window times out. */
#define PV__TFTP_WINDOW_BYTES (128 * 1024)

typedef struct pv__tftp_agreed {
    unsigned blksize;    /* 512 unless negotiated */
    unsigned windowsize; /* 1 unless negotiated */
    unsigned timeout_ms; /* 0 unless negotiated; then fixed, no RTT estimate (RFC 2349) */
} pv__tftp_agreed;

/* What the transfer is, as far as negotiation cares. */
typedef struct pv__tftp_offer {
    bool write;           /* WRQ: tsize is the client's announced size, echoed */
    bool size_known;      /* RRQ: octet mode (netascii sizes are unknown before conversion) */
    uint64_t size;        /* RRQ: the body's size */
    unsigned mtu_blksize; /* the largest blksize the path carries (pv__tftp_mtu_blksize) */
} pv__tftp_offer;

/* Decides the options from opt within lim and offer into *out, and replaces oack's
 * contents with the OACK. Returns false (oack left empty) when no option is answered:
 * the transfer then starts as plain RFC 1350 (first DATA, or ACK 0 for a write). */
bool pv__tftp_negotiate(const pv_tftp_requested *opt, const pv_tftp_limits *lim,
                        const pv__tftp_offer *offer, pv__tftp_agreed *out, pv_buf *oack);

#endif
