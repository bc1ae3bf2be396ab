/* Fuzz target: a multipart/form-data body as a browser's form sends it (core/multipart), read
 * whole and streamed in pieces whose sizes the input chooses; the two reads must agree, and
 * every part handed over must keep within the bounds the header states. The input is split at
 * the first NUL byte: Content-Type header | body (the body may hold NULs). */
#include "core/multipart.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct digest {
    uint64_t hash; /* FNV-1a over everything the callbacks saw */
    size_t parts;
} digest;

static void mix(digest *d, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        d->hash = (d->hash ^ b[i]) * 1099511628211ull;
}

static int on_begin(void *data, const pv_multipart_part *p, pv_error *err)
{
    (void)err;
    digest *d = data;
    if (strlen(p->name) > PV_MULTIPART_NAME_MAX || strlen(p->filename) > PV_MULTIPART_FILENAME_MAX ||
        strlen(p->content_type) > PV_MULTIPART_TYPE_MAX || p->name[0] == '\0' ||
        p->index != ++d->parts || d->parts > 8)
        __builtin_trap();
    mix(d, p->name, strlen(p->name) + 1);
    mix(d, p->filename, strlen(p->filename) + 1);
    return 0;
}

static int on_data(void *data, const pv_multipart_part *p, const char *b, size_t n, pv_error *err)
{
    (void)p;
    (void)err;
    if (n == 0)
        __builtin_trap();
    mix(data, b, n);
    return 0;
}

static int on_end(void *data, const pv_multipart_part *p, pv_error *err)
{
    (void)err;
    mix(data, &p->index, sizeof p->index);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    const char *nul = memchr(p, '\0', size);
    if (nul == NULL)
        return 0;
    pv_slice type = pv_slice_make(p, (size_t)(nul - p));
    pv_slice body = pv_slice_make(nul + 1, size - type.len - 1);
    static const pv_multipart_callbacks cb = {on_begin, on_data, on_end};
    pv_multipart_limits limits = {.max_parts = 8, .max_header_bytes = 512};
    digest whole = {14695981039346656037ull, 0}, pieces = whole;
    pv_error err = {""};
    int rc = pv_multipart_parse(type, body, &limits, &cb, &whole, &err);

    char boundary[PV_MULTIPART_BOUNDARY_MAX + 1];
    if (pv_multipart_boundary(type, boundary, &err) != 0)
        return 0;
    pv_multipart m;
    pv_multipart_init(&m, boundary, &limits, &cb, &pieces);
    int rc2 = 0;
    size_t step = (size_t)(body.len % 7) + 1; /* pieces of 1 to 7 bytes */
    for (size_t at = 0; rc2 == 0 && at < body.len; at += step)
        rc2 = pv_multipart_feed(&m, body.ptr + at, body.len - at < step ? body.len - at : step,
                                &err);
    if (rc2 == 0)
        rc2 = pv_multipart_finish(&m, &err);
    if (rc != rc2 || whole.hash != pieces.hash || whole.parts != pieces.parts)
        __builtin_trap();
    char csrf[40];
    (void)pv_multipart_field(type, body, "csrf", csrf, sizeof csrf);
    if (strlen(csrf) >= sizeof csrf)
        __builtin_trap();
    return 0;
}
