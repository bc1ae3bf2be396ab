/*
 * fuzz_rfc8188 — aes128gcm decoding (core/rfc8188) on any bytes, with the
 * IKMs of RFC 8188 §3.1 and §3.2 (the seeds are those examples, so records
 * authenticate and the delimiter and padding checks are reached). The stream,
 * fed in pieces the input chooses, must agree with the one-shot helper; the
 * record-size and output limits must hold.
 */
#include "core/rfc8188.h"
#include "core/sniff.h"
#include "fuzz_reads.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OUT ((size_t)1 << 20)
#define MAX_RS ((size_t)1 << 16)

/* base64url yqdlZ-tYemfogSmv7Ws5PQ and BO3ZVPxUlnLORbVGMpbT1Q. */
static const uint8_t IKM1[16] = {0xca, 0xa7, 0x65, 0x67, 0xeb, 0x58, 0x7a, 0x67,
                                 0xe8, 0x81, 0x29, 0xaf, 0xed, 0x6b, 0x39, 0x3d};
static const uint8_t IKM2[16] = {0x04, 0xed, 0xd9, 0x54, 0xfc, 0x54, 0x96, 0x72,
                                 0xce, 0x45, 0xb5, 0x46, 0x32, 0x96, 0xd3, 0xd5};

static void check(const uint8_t *data, size_t size, pv_slice ikm)
{
    pv_buf one = {0}, streamed = {0};
    int rc = pv_rfc8188_decrypt(pv_slice_make(data, size), ikm, MAX_OUT, &one, NULL);
    if ((rc != 0 && one.len != 0) || one.len > MAX_OUT)
        abort();
    pv_rfc8188 *ctx = NULL;
    if (pv_rfc8188_decrypt_init(&ctx, ikm, MAX_RS, MAX_OUT, NULL) != 0)
        abort();
    int src = 0;
    for (size_t off = 0; off < size && src == 0;) {
        size_t piece = pv_fuzz_piece_at(data, size, off, 31);
        src = pv_rfc8188_update(ctx, data + off, piece, &streamed, NULL);
        off += piece;
    }
    if (src == 0)
        src = pv_rfc8188_final(ctx, &streamed, NULL);
    pv_rfc8188_free(ctx);
    /* A stream that stayed under MAX_RS must reach the one-shot's verdict. */
    if (src != PV_ELIMIT && (src == 0) != (rc == 0))
        abort();
    if (rc == 0 && src == 0 &&
        (streamed.len != one.len || (one.len > 0 && memcmp(streamed.data, one.data, one.len))))
        abort();
    pv_buf_free(&one);
    pv_buf_free(&streamed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check(data, size, pv_slice_make(IKM1, sizeof IKM1));
    check(data, size, pv_slice_make(IKM2, sizeof IKM2));
    pv_slice ikm = pv_slice_make(IKM2, sizeof IKM2);
    pv_buf plain = {0};
    (void)pv_profile_decode(pv_slice_make(data, size), NULL, &ikm, "aes128gcm", NULL, &plain, NULL,
                            NULL);
    pv_buf_free(&plain);
    return 0;
}
