/* tftp_body.c — a read's body cut into blocks; see tftp_body.h. */
#include "net/tftp_body.h"

#include "core/alloc.h"
#include "net/tftp_packet.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BATCH_BYTES 65507 /* largest UDP payload: one GSO send carries a batch */

void pv__tftp_body_cut(pv__tftp_body *b, unsigned blksize, unsigned windowsize, bool netascii)
{
    b->blksize = blksize;
    b->windowsize = windowsize;
    b->netascii = netascii;
    if (netascii) {
        b->ckpt = pv_calloc(windowsize + 1, sizeof *b->ckpt);
        b->ckpt[1 % (windowsize + 1)] = (pv__tftp_checkpoint){0, -1};
        b->raw = pv_malloc(blksize);
    } else {
        b->last = b->size / blksize + 1;
    }
}

void pv__tftp_body_free(pv__tftp_body *b)
{
    free(b->ckpt);
    free(b->raw);
    b->mem = NULL;
    b->ckpt = NULL;
    b->raw = NULL;
}

static ssize_t source_read(pv__tftp_body *b, uint8_t *out, size_t len, uint64_t offset)
{
    if (offset >= b->size)
        return 0;
    if (len > b->size - offset)
        len = (size_t)(b->size - offset);
    if (b->mem) {
        memcpy(out, b->mem + offset, len);
        return (ssize_t)len;
    }
    ssize_t n = pread(b->file->fd, out, len, (off_t)offset);
    return n == (ssize_t)len ? n : -1; /* shorter: the file changed under us */
}

ssize_t pv__tftp_body_block(pv__tftp_body *b, uint64_t seq, uint8_t *out)
{
    size_t bs = b->blksize;
    if (!b->netascii) {
        ssize_t n = source_read(b, out, bs, (seq - 1) * bs);
        if (seq == b->last && n >= 0)
            b->last_len = (size_t)n;
        return n;
    }
    /* RFC 1350 netascii: encode from the checkpoint where this block starts. */
    size_t ring = b->windowsize + 1;
    pv__tftp_checkpoint c = b->ckpt[seq % ring];
    size_t o = 0;
    while (o < bs) {
        ssize_t n = source_read(b, b->raw, bs - o, c.offset);
        if (n < 0)
            return -1;
        size_t used = 0;
        o += pv_tftp_netascii_encode(b->raw, (size_t)n, &used, out + o, bs - o, &c.pending);
        c.offset += used;
        if (n == 0 && c.pending < 0)
            break;
    }
    b->ckpt[(seq + 1) % ring] = c;
    if (o < bs) {
        b->last = seq;
        b->last_len = o;
    }
    return (ssize_t)o;
}

/* The length of octet block seq, which must exist (seq <= last). */
static size_t octet_block_len(const pv__tftp_body *b, uint64_t seq)
{
    return seq == b->last ? (size_t)(b->size - (seq - 1) * b->blksize) : b->blksize;
}

/*
 * The bytes come straight from the file's shared mapping or the response's
 * memory, so the kernel copies them once, into the datagrams; only a file
 * without a mapping is read first, with one preadv, into the buffer behind
 * the headers. The mapping is never read here, only handed to the kernel: a
 * file cut short under us then makes the send fail with EFAULT instead of
 * raising SIGBUS.
 */
int pv__tftp_body_fill_batch(pv__tftp_body *b, uint64_t next, uint8_t *buf, unsigned n,
                             struct iovec *iov)
{
    size_t stride = 4 + (size_t)b->blksize;
    const uint8_t *source = b->mem ? (const uint8_t *)b->mem : b->file->map;
    uint64_t offset = (next - 1) * b->blksize;
    struct iovec reads[PV__TFTP_BATCH_BLOCKS];
    size_t want = 0;
    for (unsigned i = 0; i < n; i++) {
        uint64_t seq = next + i;
        uint8_t *header = buf + i * stride;
        size_t len = octet_block_len(b, seq);
        pv_tftp_put_header(header, PV_TFTP_DATA, (uint16_t)seq);
        iov[2 * i] = (struct iovec){header, 4};
        if (source != NULL)
            iov[2 * i + 1] =
                (struct iovec){(void *)(source + offset + i * (uint64_t)b->blksize), len};
        else
            iov[2 * i + 1] = reads[i] = (struct iovec){header + 4, len};
        want += len;
        if (seq == b->last)
            b->last_len = len; /* the byte count the final ACK completes */
    }
    if (source == NULL && want > 0 &&
        preadv(b->file->fd, reads, (int)n, (off_t)offset) != (ssize_t)want)
        return -1; /* shorter: the file changed under us */
    /* A mapping reads zeros, not EFAULT, up to the end of the page a cut-short
     * file now ends in: the last window checks the size, so that a transfer never
     * ends well with a changed file. */
    struct stat st;
    if (source != NULL && !b->mem && next + n > b->last &&
        (fstat(b->file->fd, &st) != 0 || st.st_size != b->file->size))
        return -1;
    return 0;
}

unsigned pv__tftp_body_batch_size(const pv__tftp_body *b, uint64_t next, uint64_t end)
{
    if (b->netascii || b->last == 0)
        return 0;
    uint64_t stop = end < b->last ? end : b->last;
    if (stop < next)
        return 0;
    uint64_t n = stop - next + 1;
    size_t per_batch = BATCH_BYTES / (4 + (size_t)b->blksize);
    if (n > per_batch)
        n = per_batch;
    if (n > PV__TFTP_BATCH_BLOCKS)
        n = PV__TFTP_BATCH_BLOCKS;
    return n >= 2 ? (unsigned)n : 0;
}
