/* gzip.c — zlib deflate/inflate in gzip framing, capped inflation; see gzip.h. */
#include "core/gzip.h"

#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define OUT_CHUNK ((size_t)65536)
#define IN_PIECE ((size_t)1 << 30) /* zlib lengths are uInt */
#define GZIP_WBITS (15 + 16)       /* zlib: window 2^15, gzip wrapper only */

struct pv_gzip {
    z_stream zs;
    bool inflate;
    bool member_done; /* inflate: a member ended; more bytes start another */
    bool any_input;
    int failed; /* sticky: the stream takes no more input */
    size_t max_out, out_total;
};

bool pv_gzip_detect(pv_slice data)
{
    return data.len >= 2 && (uint8_t)data.ptr[0] == 0x1f && (uint8_t)data.ptr[1] == 0x8b;
}

static pv_gzip *ctx_new(bool inflate, size_t max_out)
{
    pv_gzip *ctx = pv_calloc(1, sizeof *ctx);
    ctx->inflate = inflate;
    ctx->max_out = max_out;
    return ctx;
}

int pv_gzip_deflate_init(pv_gzip **out, int level, pv_error *err)
{
    if (level < 0 || level > 9)
        return pv_error_set(err, PV_EINVAL, "gzip level %d: expected 1 to 9", level);
    pv_gzip *ctx = ctx_new(false, SIZE_MAX);
    int rc = deflateInit2(&ctx->zs, level == 0 ? Z_DEFAULT_COMPRESSION : level, Z_DEFLATED,
                          GZIP_WBITS, 8, Z_DEFAULT_STRATEGY);
    if (rc != Z_OK) {
        free(ctx);
        if (rc == Z_MEM_ERROR)
            abort(); /* out of memory: decided in core/alloc.h */
        return pv_error_set(err, PV_EINVAL, "zlib deflateInit2 failed (%d)", rc);
    }
    *out = ctx;
    return 0;
}

int pv_gzip_inflate_init(pv_gzip **out, size_t max_out, pv_error *err)
{
    pv_gzip *ctx = ctx_new(true, max_out);
    int rc = inflateInit2(&ctx->zs, GZIP_WBITS);
    if (rc != Z_OK) {
        free(ctx);
        if (rc == Z_MEM_ERROR)
            abort();
        return pv_error_set(err, PV_EINVAL, "zlib inflateInit2 failed (%d)", rc);
    }
    *out = ctx;
    return 0;
}

void pv_gzip_free(pv_gzip *ctx)
{
    if (ctx == NULL)
        return;
    if (ctx->inflate)
        inflateEnd(&ctx->zs);
    else
        deflateEnd(&ctx->zs);
    free(ctx);
}

/*
 * Makes room for extra more bytes (and the NUL) like pv_buf_reserve, but never
 * grows the capacity past limit: the memory of an inflater stays under its cap.
 */
static void reserve_capped(pv_buf *out, size_t extra, size_t limit)
{
    size_t need = out->len + extra + 1;
    if (need <= out->cap)
        return;
    size_t cap = out->cap == 0 ? 4096 : out->cap > SIZE_MAX / 2 ? SIZE_MAX : out->cap * 2;
    if (cap < need)
        cap = need;
    if (cap > limit && limit >= need)
        cap = limit;
    out->data = pv_realloc(out->data, cap);
    out->cap = cap;
}

/* One inflate step into at most room + 1 bytes: one byte more than allowed is the alarm. */
static int inflate_step(pv_gzip *ctx, pv_buf *out, int *zrc, pv_error *err)
{
    size_t room = ctx->max_out - ctx->out_total;
    size_t chunk = room < OUT_CHUNK ? room + 1 : OUT_CHUNK;
    size_t limit = room <= SIZE_MAX - out->len - 2 ? out->len + room + 2 : SIZE_MAX;
    reserve_capped(out, chunk, limit);
    ctx->zs.next_out = (Bytef *)out->data + out->len;
    ctx->zs.avail_out = (uInt)chunk;
    *zrc = inflate(&ctx->zs, Z_NO_FLUSH);
    size_t produced = chunk - ctx->zs.avail_out;
    if (produced > room) { /* spec 3.2: no zip bomb gets through */
        out->data[out->len] = '\0';
        return pv_error_set(err, PV_ETOOBIG, "gzip data inflates to more than the %zu-byte limit",
                            ctx->max_out);
    }
    ctx->out_total += produced;
    out->len += produced;
    out->data[out->len] = '\0';
    switch (*zrc) {
    case Z_OK:
    case Z_STREAM_END:
    case Z_BUF_ERROR: /* no progress possible: needs more input */
        return 0;
    case Z_MEM_ERROR:
        abort();
    default:
        return pv_error_set(err, PV_EFORMAT, "corrupt gzip data: %s",
                            ctx->zs.msg ? ctx->zs.msg : "inflate failed");
    }
}

static int inflate_piece(pv_gzip *ctx, const uint8_t *in, size_t len, pv_buf *out, pv_error *err)
{
    ctx->zs.next_in = (Bytef *)in;
    ctx->zs.avail_in = (uInt)len;
    for (;;) {
        if (ctx->member_done) {
            if (ctx->zs.avail_in == 0)
                return 0;
            /* RFC 1952 §2.2: a file is a series of members. */
            inflateReset(&ctx->zs);
            ctx->member_done = false;
        }
        int zrc = Z_OK;
        int rc = inflate_step(ctx, out, &zrc, err);
        if (rc != 0)
            return rc;
        if (zrc == Z_STREAM_END) {
            ctx->member_done = true;
            continue;
        }
        /* Done with this input once zlib stops filling the space it was given. */
        if (ctx->zs.avail_in == 0 && ctx->zs.avail_out != 0)
            return 0;
    }
}

static int deflate_run(pv_gzip *ctx, const uint8_t *in, size_t len, int flush, pv_buf *out,
                       pv_error *err)
{
    ctx->zs.next_in = (Bytef *)in;
    ctx->zs.avail_in = (uInt)len;
    for (;;) {
        pv_buf_reserve(out, OUT_CHUNK);
        ctx->zs.next_out = (Bytef *)out->data + out->len;
        ctx->zs.avail_out = (uInt)OUT_CHUNK;
        int zrc = deflate(&ctx->zs, flush);
        out->len += OUT_CHUNK - ctx->zs.avail_out;
        out->data[out->len] = '\0';
        if (zrc == Z_STREAM_END)
            return 0;
        if (zrc != Z_OK && zrc != Z_BUF_ERROR)
            return pv_error_set(err, PV_EINVAL, "zlib deflate failed (%d)", zrc);
        if (flush == Z_NO_FLUSH && ctx->zs.avail_in == 0 && ctx->zs.avail_out != 0)
            return 0;
    }
}

int pv_gzip_update(pv_gzip *ctx, const void *in, size_t len, pv_buf *out, pv_error *err)
{
    if (ctx->failed)
        return pv_error_set(err, ctx->failed, "gzip stream already finished or failed");
    const uint8_t *p = in;
    int rc = 0;
    if (len > 0)
        ctx->any_input = true;
    while (rc == 0 && len > 0) {
        size_t piece = len < IN_PIECE ? len : IN_PIECE;
        rc = ctx->inflate ? inflate_piece(ctx, p, piece, out, err)
                          : deflate_run(ctx, p, piece, Z_NO_FLUSH, out, err);
        p += piece;
        len -= piece;
    }
    if (rc != 0)
        ctx->failed = rc;
    return rc;
}

int pv_gzip_final(pv_gzip *ctx, pv_buf *out, pv_error *err)
{
    if (ctx->failed)
        return pv_error_set(err, ctx->failed, "gzip stream already finished or failed");
    int rc = 0;
    if (!ctx->inflate)
        rc = deflate_run(ctx, NULL, 0, Z_FINISH, out, err);
    else if (!ctx->any_input)
        rc = pv_error_set(err, PV_ETRUNC, "empty input: a gzip file has at least 18 bytes");
    else if (!ctx->member_done)
        rc = pv_error_set(err, PV_ETRUNC,
                          "truncated gzip data: it ends before the end of the compressed "
                          "stream and its CRC trailer");
    ctx->failed = rc != 0 ? rc : PV_EINVAL;
    return rc;
}

static int one_shot(pv_gzip *ctx, pv_slice in, pv_buf *out, pv_error *err)
{
    size_t start = out->len;
    int rc = pv_gzip_update(ctx, in.ptr, in.len, out, err);
    if (rc == 0)
        rc = pv_gzip_final(ctx, out, err);
    pv_gzip_free(ctx);
    if (rc != 0 && out->data != NULL) {
        out->len = start;
        out->data[start] = '\0';
    }
    return rc;
}

int pv_gzip_compress(pv_slice in, int level, pv_buf *out, pv_error *err)
{
    pv_gzip *ctx = NULL;
    int rc = pv_gzip_deflate_init(&ctx, level, err);
    return rc != 0 ? rc : one_shot(ctx, in, out, err);
}

int pv_gzip_decompress(pv_slice in, size_t max_out, pv_buf *out, pv_error *err)
{
    pv_gzip *ctx = NULL;
    int rc = pv_gzip_inflate_init(&ctx, max_out, err);
    return rc != 0 ? rc : one_shot(ctx, in, out, err);
}
