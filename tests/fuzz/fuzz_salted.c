/*
 * fuzz_salted — OpenSSL enc decryption (core/salted) on any bytes, with a fixed
 * passphrase (the one the seeds were made with, so the fuzzer reaches real
 * plaintext). The streaming context, fed in pieces the input chooses, must
 * agree with the one-shot helper; the output cap must hold; the pipeline
 * (core/sniff) runs on the same bytes with and without a key.
 */
#include "core/salted.h"
#include "core/sniff.h"
#include "fuzz_reads.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OUT ((size_t)1 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pv_slice pass = PV_SLICE_LIT("SecretPhrase1234");
    pv_slice in = pv_slice_make(data, size);
    pv_buf one = {0}, streamed = {0};
    pv_md used = PV_MD_MD5;
    int rc = pv_salted_decrypt_any(in, pass, PV_MD_MD5, MAX_OUT, &one, &used, NULL);
    if (rc != 0 && one.len != 0)
        abort(); /* nothing is left in the output on failure */
    if (rc == 0 && one.len > MAX_OUT)
        abort();
    if (rc == 0) {
        /* The same digest, streamed in pieces of 1..16 bytes chosen by the input. */
        pv_salted *ctx = NULL;
        if (pv_salted_decrypt_init(&ctx, pass, used, NULL) != 0)
            abort();
        int src = 0;
        for (size_t off = 0; off < size && src == 0;) {
            size_t piece = pv_fuzz_piece_at(data, size, off, 15);
            size_t before = streamed.len;
            src = pv_salted_update(ctx, data + off, piece, &streamed, NULL);
            if (streamed.len - before > piece + 32)
                abort(); /* bounded output per update */
            off += piece;
        }
        if (src == 0)
            src = pv_salted_final(ctx, &streamed, NULL);
        pv_salted_free(ctx);
        if (src != 0 || streamed.len != one.len ||
            (one.len > 0 && memcmp(streamed.data, one.data, one.len) != 0))
            abort();
    }
    pv_buf plain = {0};
    pv_decode_opts opts;
    pv_decode_opts_init(&opts);
    opts.max_output = MAX_OUT;
    (void)pv_profile_decode(in, &pass, NULL, NULL, &opts, &plain, NULL, NULL);
    pv_buf_reset(&plain);
    (void)pv_profile_decode(in, NULL, NULL, NULL, &opts, &plain, NULL, NULL);
    (void)pv_sniff(in);
    pv_buf_free(&plain);
    pv_buf_free(&one);
    pv_buf_free(&streamed);
    return 0;
}
