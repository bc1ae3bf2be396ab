/*
 * fuzz_reads.h — a fuzz input read as a socket delivers it, for the targets of
 * parsers fed by reads (fuzz_http.c, fuzz_http_reply.c): the first byte
 * chooses the size of every read (1 to max bytes), the rest is the bytes, so
 * that the fuzzer reaches a parser's state across piece boundaries too.
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

#endif
