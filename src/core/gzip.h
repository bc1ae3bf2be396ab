/*
 * gzip.h — gzip (RFC 1952) both ways, with a hard cap on what inflating yields.
 *
 * Profiles may be gzipped before they are encrypted (spec 3.2); the phone
 * recognises the 1f 8b magic and inflates. Anything that inflates data from
 * the network must survive a zip bomb (a few kilobytes that claim gigabytes),
 * so an inflater is created with max_out and fails with PV_ETOOBIG as soon as
 * the output would pass it: zlib is never given room to write past the cap,
 * and the size claimed in the gzip trailer is not trusted for anything.
 *
 * Streaming contexts (init, update..., final, free) append to a caller-owned
 * pv_buf; each call adds at most what is left under max_out (inflate) or a
 * little more than the input (deflate). Concatenated gzip members are read as
 * one stream, as gzip(1) does. The one-shot helpers wrap the contexts.
 */
#ifndef PV_CORE_GZIP_H
#define PV_CORE_GZIP_H

#include "core/buf.h"
#include "core/error.h"

#include <stdbool.h>
#include <stddef.h>

/* True when data starts with the gzip magic 1f 8b (RFC 1952 §2.3.1). */
bool pv_gzip_detect(pv_slice data);

typedef struct pv_gzip pv_gzip;

/* A compressor; level 1..9, or 0 for zlib's default (6). */
int pv_gzip_deflate_init(pv_gzip **ctx, int level, pv_error *err);
/* A decompressor that refuses to produce more than max_out bytes in total. */
int pv_gzip_inflate_init(pv_gzip **ctx, size_t max_out, pv_error *err);
int pv_gzip_update(pv_gzip *ctx, const void *in, size_t len, pv_buf *out, pv_error *err);
/* Flushes (deflate) or checks the stream ended cleanly (inflate: PV_ETRUNC if not). */
int pv_gzip_final(pv_gzip *ctx, pv_buf *out, pv_error *err);
void pv_gzip_free(pv_gzip *ctx);

int pv_gzip_compress(pv_slice in, int level, pv_buf *out, pv_error *err);
/* Inflates a whole gzip file; on failure out keeps only what it held before. */
int pv_gzip_decompress(pv_slice in, size_t max_out, pv_buf *out, pv_error *err);

#endif
