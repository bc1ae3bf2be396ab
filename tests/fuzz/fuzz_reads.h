/*
 * fuzz_reads.h — a fuzz input fed in pieces, so that the fuzzer reaches a
 * parser's or a stream's state across piece boundaries too. Two ways:
 *  - as a socket delivers it, for parsers fed by reads (fuzz_http.c,
 *    fuzz_http_reply.c): the first byte chooses the size of every read (1 to
 *    max bytes), the rest is the bytes (pv_fuzz_reads);
 *  - for streaming decoders checked against their one-shot form (fuzz_gzip.c,
 *    fuzz_rfc8188.c, fuzz_salted.c): the whole input is the stream, and the
 *    byte where each piece starts chooses its size (pv_fuzz_piece_at).
 */
#ifndef PV_FUZZ_READS_H
#define PV_FUZZ_READS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pv_fuzz_reads {
    const char *p; /* the next byte to read */
    size_t left;   /* bytes not read yet */
    size_t piece;  /* the size of a read */
} pv_fuzz_reads;

/* False for an empty input (nothing to choose the read size with). */
static inline bool pv_fuzz_reads_init(pv_fuzz_reads *r, const uint8_t *data, size_t size,
                                      size_t max)
{
    if (size == 0)
        return false;
    r->piece = (size_t)(data[0] % max) + 1;
    r->p = (const char *)data + 1;
    r->left = size - 1;
    return true;
}

/* The size of the next read: 0 once everything is read. */
static inline size_t pv_fuzz_reads_next(const pv_fuzz_reads *r)
{
    return r->left < r->piece ? r->left : r->piece;
}

/* The reader took used bytes of what it was given. */
static inline void pv_fuzz_reads_took(pv_fuzz_reads *r, size_t used)
{
    r->p += used;
    r->left -= used;
}

/* The piece of data (size bytes) starting at off: 1 to mask + 1 bytes as the byte at off
 * says, cut at the end. */
static inline size_t pv_fuzz_piece_at(const uint8_t *data, size_t size, size_t off,
                                      unsigned mask)
{
    size_t piece = 1 + (data[off] & mask);
    return piece > size - off ? size - off : piece;
}

#endif
