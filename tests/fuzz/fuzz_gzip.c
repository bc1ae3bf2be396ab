/*
 * fuzz_gzip — bounded inflation (core/gzip) on any bytes. The output cap must
 * hold for the one-shot helper and for the stream fed in pieces the input
 * chooses, and both must agree; what inflates must deflate and inflate back
 * to the same bytes.
 */
#include "core/gzip.h"
#include "fuzz_reads.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OUT ((size_t)1 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pv_buf one = {0}, streamed = {0};
    int rc = pv_gzip_decompress(pv_slice_make(data, size), MAX_OUT, &one, NULL);
    if ((rc != 0 && one.len != 0) || one.len > MAX_OUT || (one.data && one.cap > MAX_OUT + 2))
        abort(); /* never more memory than the cap */
    pv_gzip *ctx = NULL;
    if (pv_gzip_inflate_init(&ctx, MAX_OUT, NULL) != 0)
        abort();
    int src = 0;
    for (size_t off = 0; off < size && src == 0;) {
        size_t piece = pv_fuzz_piece_at(data, size, off, 63);
        src = pv_gzip_update(ctx, data + off, piece, &streamed, NULL);
        off += piece;
    }
    if (src == 0)
        src = pv_gzip_final(ctx, &streamed, NULL);
    pv_gzip_free(ctx);
    if ((src == 0) != (rc == 0) || streamed.len > MAX_OUT)
        abort();
    if (rc == 0) {
        if (streamed.len != one.len || (one.len > 0 && memcmp(streamed.data, one.data, one.len)))
            abort();
        pv_buf z = {0}, back = {0};
        if (pv_gzip_compress(pv_buf_slice(&one), 1, &z, NULL) != 0 ||
            pv_gzip_decompress(pv_buf_slice(&z), MAX_OUT, &back, NULL) != 0 ||
            back.len != one.len || (one.len > 0 && memcmp(back.data, one.data, one.len)))
            abort();
        pv_buf_free(&z);
        pv_buf_free(&back);
    }
    pv_buf_free(&one);
    pv_buf_free(&streamed);
    return 0;
}
