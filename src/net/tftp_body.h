/*
 * tftp_body.h — private to the TFTP server: what a read request sends, cut
 * into blocks. A body is a shared open file (tftp_server.c's pv__tftp_file)
 * or bytes in memory; octet blocks are slices of it, netascii blocks are
 * encoded from checkpoints (where each block of the window starts in the
 * source), so a window can be sent again after a loss. The transfer
 * (tftp_transfer.c) owns its body: it puts the file back, pv__tftp_body_free
 * releases the rest.
 */
#ifndef PV_NET_TFTP_BODY_H
#define PV_NET_TFTP_BODY_H

#include "net/tftp_transfer.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

typedef struct pv__tftp_checkpoint { /* netascii: where a block starts in the source */
    uint64_t offset;
    int pending;
} pv__tftp_checkpoint;

typedef struct pv__tftp_body {
    pv__tftp_file *file; /* a shared open file, or NULL */
    const char *mem;     /* or bytes in memory (the exchange's arena: borrowed), or NULL */
    uint64_t size;
    unsigned blksize, windowsize;
    bool netascii;
    pv__tftp_checkpoint *ckpt; /* netascii: windowsize + 1 checkpoints */
    uint8_t *raw;              /* netascii: one block of source bytes */
    uint64_t last;             /* the last block's number; 0 while unknown (netascii) */
    size_t last_len;           /* its length, once produced */
} pv__tftp_body;

/* The block size and window are agreed: prepares the cutting. */
void pv__tftp_body_cut(pv__tftp_body *b, unsigned blksize, unsigned windowsize, bool netascii);
/* Frees what the body owns, but the file (the transfer puts it back). */
void pv__tftp_body_free(pv__tftp_body *b);

/* Fills out (blksize bytes) with block seq; its length, or -1 when the file
 * changed. Learns b->last at the end of a netascii body. */
ssize_t pv__tftp_body_block(pv__tftp_body *b, uint64_t seq, uint8_t *out);
/* How many octet blocks from next (up to end) go out as one batch; below 2, none. */
unsigned pv__tftp_body_batch_size(const pv__tftp_body *b, uint64_t next, uint64_t end);
/* Lays out octet blocks next .. next+n-1 as 2n iovecs (DATA header in buf, then
 * the bytes) for pv__tftp_sock_send_batch; 0, or -1 when the file changed. */
int pv__tftp_body_fill_batch(pv__tftp_body *b, uint64_t next, uint8_t *buf, unsigned n,
                             struct iovec *iov);

#endif
