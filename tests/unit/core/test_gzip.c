/* Unit tests for core/gzip: RFC 1952 both ways, and no zip bomb gets through (spec 3.2). */
#include "pv_test.h"

#include "core/alloc.h"
#include "core/gzip.h"

#include <time.h>
#include <zlib.h>

/* `printf 'hello\n' | gzip -n` and the same for "world\n": made by gzip(1). */
static const uint8_t HELLO_GZ[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                   0x03, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0xe7, 0x02, 0x00,
                                   0x20, 0x30, 0x3a, 0x36, 0x06, 0x00, 0x00, 0x00};
static const uint8_t WORLD_GZ[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                   0x03, 0x2b, 0xcf, 0x2f, 0xca, 0x49, 0xe1, 0x02, 0x00,
                                   0xa8, 0x61, 0x38, 0xdd, 0x06, 0x00, 0x00, 0x00};

static void inflates_gzip_made_by_gzip(void **state)
{
    pv_buf out = {0};
    pv_error err;
    assert_true(pv_gzip_detect(pv_slice_make(HELLO_GZ, sizeof HELLO_GZ)));
    assert_false(pv_gzip_detect(PV_SLICE_LIT("\x1f")));
    assert_int_equal(pv_gzip_decompress(pv_slice_make(HELLO_GZ, sizeof HELLO_GZ), 100, &out, &err),
                     0);
    assert_slice_equal(pv_buf_slice(&out), "hello\n");
    /* RFC 1952 §2.2: concatenated members are one file, as gzip -d reads them. */
    pv_buf both = {0};
    pv_buf_append(&both, HELLO_GZ, sizeof HELLO_GZ);
    pv_buf_append(&both, WORLD_GZ, sizeof WORLD_GZ);
    pv_buf_reset(&out);
    assert_int_equal(pv_gzip_decompress(pv_buf_slice(&both), 100, &out, &err), 0);
    assert_slice_equal(pv_buf_slice(&out), "hello\nworld\n");
    /* ... also one byte at a time. */
    pv_gzip *ctx = NULL;
    pv_buf_reset(&out);
    assert_int_equal(pv_gzip_inflate_init(&ctx, 100, &err), 0);
    for (size_t i = 0; i < both.len; i++)
        assert_int_equal(pv_gzip_update(ctx, both.data + i, 1, &out, &err), 0);
    assert_int_equal(pv_gzip_final(ctx, &out, &err), 0);
    pv_gzip_free(ctx);
    assert_slice_equal(pv_buf_slice(&out), "hello\nworld\n");
    pv_buf_free(&both);
    pv_buf_free(&out);
}

static void round_trips_and_zlib_agrees(void **state)
{
    size_t sizes[] = {0, 1, 100, 70000, 1 << 20};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s];
        uint8_t *plain = pv_malloc(n + 1);
        for (size_t i = 0; i < n; i++)
            plain[i] = (uint8_t)("<flat-profile>"[i % 14] + (i / 1000) % 3);
        pv_buf z = {0}, back = {0};
        pv_error err;
        assert_int_equal(pv_gzip_compress(pv_slice_make(plain, n), 9, &z, &err), 0);
        assert_true(pv_gzip_detect(pv_buf_slice(&z)));
        assert_int_equal(pv_gzip_decompress(pv_buf_slice(&z), n, &back, &err), 0);
        assert_int_equal(back.len, n);
        if (n > 0)
            assert_memory_equal(back.data, plain, n);
        /* zlib's own gzip reader (an independent path) agrees. */
        uLongf got = (uLongf)n + 1;
        uint8_t *check = pv_malloc(n + 1);
        z_stream zs = {0};
        assert_int_equal(inflateInit2(&zs, 16 + 15), Z_OK);
        zs.next_in = (Bytef *)z.data;
        zs.avail_in = (uInt)z.len;
        zs.next_out = check;
        zs.avail_out = (uInt)got;
        assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
        assert_int_equal(zs.total_out, n);
        inflateEnd(&zs);
        free(check);
        free(plain);
        pv_buf_free(&z);
        pv_buf_free(&back);
    }
}

static void cap_is_exact(void **state)
{
    pv_buf out = {0};
    pv_error err;
    pv_slice hello = pv_slice_make(HELLO_GZ, sizeof HELLO_GZ);
    assert_int_equal(pv_gzip_decompress(hello, 6, &out, &err), 0);
    pv_buf_reset(&out);
    pv_buf_append_str(&out, "kept");
    assert_int_equal(pv_gzip_decompress(hello, 5, &out, &err), PV_ETOOBIG);
    assert_non_null(strstr(err.msg, "5-byte limit"));
    assert_string_equal(out.data, "kept");
    pv_buf_free(&out);
}

static void bad_input_is_explained(void **state)
{
    pv_buf out = {0};
    pv_error err;
    /* Cut anywhere before the end: truncated. */
    for (size_t cut = 1; cut < sizeof HELLO_GZ; cut++) {
        int rc = pv_gzip_decompress(pv_slice_make(HELLO_GZ, cut), 100, &out, &err);
        assert_int_equal(rc, PV_ETRUNC);
        assert_int_equal(out.len, 0);
    }
    assert_int_equal(pv_gzip_decompress(PV_SLICE_LIT(""), 100, &out, &err), PV_ETRUNC);
    uint8_t bad[sizeof HELLO_GZ];
    memcpy(bad, HELLO_GZ, sizeof bad);
    bad[sizeof bad - 6] ^= 0xff; /* CRC-32 */
    assert_int_equal(pv_gzip_decompress(pv_slice_make(bad, sizeof bad), 100, &out, &err),
                     PV_EFORMAT);
    assert_non_null(strstr(err.msg, "corrupt gzip data"));
    assert_int_equal(pv_gzip_decompress(PV_SLICE_LIT("<flat-profile/>"), 100, &out, &err),
                     PV_EFORMAT);
    /* Garbage after a member is not a member. */
    pv_buf tail = {0};
    pv_buf_append(&tail, HELLO_GZ, sizeof HELLO_GZ);
    pv_buf_append_str(&tail, "junk");
    assert_int_equal(pv_gzip_decompress(pv_buf_slice(&tail), 100, &out, &err), PV_EFORMAT);
    assert_int_equal(pv_gzip_compress(PV_SLICE_LIT("x"), 10, &out, &err), PV_EINVAL);
    pv_buf_free(&tail);
    pv_buf_free(&out);
}

/*
 * A gzip file that inflates to 2 GiB of zeros and says so in its trailer: one
 * deflate block for 1 MiB of zeros, ended by a full flush so that it is byte
 * aligned and independent of what came before, repeated 2048 times (~2 MB).
 */
static pv_buf zip_bomb(void)
{
    size_t mib = 1 << 20;
    uint8_t *zeros = pv_calloc(1, mib);
    pv_buf block = {0}, bomb = {0};
    pv_buf_reserve(&block, mib);
    z_stream zs = {0};
    assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = zeros;
    zs.avail_in = (uInt)mib;
    zs.next_out = (Bytef *)block.data;
    zs.avail_out = (uInt)mib;
    assert_int_equal(deflate(&zs, Z_FULL_FLUSH), Z_OK);
    block.len = mib - zs.avail_out;
    deflateEnd(&zs);
    static const uint8_t header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
    pv_buf_append(&bomb, header, sizeof header);
    for (int i = 0; i < 2048; i++)
        pv_buf_append(&bomb, block.data, block.len);
    /* Final empty stored block, then CRC (wrong, never reached) and ISIZE = 2^31. */
    static const uint8_t tail[] = {0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0x80};
    pv_buf_append(&bomb, tail, sizeof tail);
    free(zeros);
    pv_buf_free(&block);
    return bomb;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void zip_bomb_is_refused_quickly_within_the_cap(void **state)
{
    pv_buf bomb = zip_bomb(), out = {0};
    pv_error err;
    size_t cap = (size_t)8 << 20;
    assert_true(bomb.len < (size_t)3 << 20);
    double t0 = now();
    assert_int_equal(pv_gzip_decompress(pv_buf_slice(&bomb), cap, &out, &err), PV_ETOOBIG);
    double one_shot = now() - t0;
    assert_true(out.cap <= cap + 2); /* never more memory than the cap */
    assert_true(one_shot < 2.0);
    /* Streaming, with the caller draining its buffer: same refusal, tiny buffer. */
    pv_gzip *ctx = NULL;
    pv_buf chunk = {0};
    size_t seen = 0;
    int rc = 0;
    assert_int_equal(pv_gzip_inflate_init(&ctx, cap, &err), 0);
    for (size_t off = 0; off < bomb.len && rc == 0; off += 256) {
        size_t n = bomb.len - off < 256 ? bomb.len - off : 256;
        rc = pv_gzip_update(ctx, bomb.data + off, n, &chunk, &err);
        seen += chunk.len;
        pv_buf_reset(&chunk);
    }
    pv_gzip_free(ctx);
    assert_int_equal(rc, PV_ETOOBIG);
    assert_true(seen <= cap && seen > cap - 65536); /* stopped at the cap, not past it */
    assert_true(chunk.cap <= (size_t)1 << 20);      /* 256 input bytes never yield a MiB here */
    print_message("zip bomb of %zu bytes (claims 2 GiB) refused at %zu MiB in %.3f s\n", bomb.len,
                  cap >> 20, one_shot);
    pv_buf_free(&chunk);
    pv_buf_free(&bomb);
    pv_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(inflates_gzip_made_by_gzip),
        cmocka_unit_test(round_trips_and_zlib_agrees),
        cmocka_unit_test(cap_is_exact),
        cmocka_unit_test(bad_input_is_explained),
        cmocka_unit_test(zip_bomb_is_refused_quickly_within_the_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
