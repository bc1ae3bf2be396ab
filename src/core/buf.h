/*
 * buf.h — byte buffers and slices, the currency of every parser.
 *
 * pv_slice is a borrowed {ptr,len} view (after h2o's iovec): it owns nothing
 * and lives no longer than what it points into. pv_buf is an owned, growable
 * byte buffer, always NUL-terminated after len so that its data can be used
 * as a C string when it holds text. A zeroed pv_buf is empty and valid;
 * pv_buf_free() releases it and leaves it empty again.
 */
#ifndef PV_CORE_BUF_H
#define PV_CORE_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pv_slice {
    const char *ptr;
    size_t len;
} pv_slice;

typedef struct pv_buf {
    char *data; /* NULL while cap == 0; else data[len] == '\0' */
    size_t len;
    size_t cap;
} pv_buf;

#define PV_SLICE_LIT(s) ((pv_slice){(s), sizeof(s) - 1})
#define PV_SLICE_FMT "%.*s"
#define PV_SLICE_ARG(s) (int)(s).len, (s).ptr

pv_slice pv_slice_from(const char *cstr);
pv_slice pv_slice_make(const void *ptr, size_t len);
bool pv_slice_eq(pv_slice a, pv_slice b);
bool pv_slice_eq_cstr(pv_slice a, const char *b);
bool pv_slice_case_eq_cstr(pv_slice a, const char *b);
bool pv_slice_starts_with(pv_slice s, const char *prefix);
/* ASCII white space as every parser here means it: space, tab, CR, LF, VT, FF. */
bool pv_is_space(char c);
/* The value of an ASCII hex digit, either case (0-15), or -1 for any other character. */
int pv_hex_value(char c);
/* Writes n bytes as 2n lower-case hex digits and a NUL into out (2n + 1 bytes). */
void pv_hex_encode(const void *in, size_t n, char *out);
/* Strips ASCII white space (space, tab, CR, LF, VT, FF) at both ends. */
pv_slice pv_slice_trim(pv_slice s);
/* A NUL-terminated copy from pv_malloc. */
char *pv_slice_dup(pv_slice s);

void pv_buf_init(pv_buf *b);
void pv_buf_free(pv_buf *b);
/* Empties the buffer but keeps its memory. */
void pv_buf_reset(pv_buf *b);
/* Makes room for at least extra more bytes (plus the NUL). */
void pv_buf_reserve(pv_buf *b, size_t extra);
void pv_buf_append(pv_buf *b, const void *data, size_t len);
void pv_buf_append_char(pv_buf *b, char c);
void pv_buf_append_str(pv_buf *b, const char *s);
void pv_buf_append_slice(pv_buf *b, pv_slice s);
void pv_buf_appendf(pv_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * vsnprintf into a fixed buffer, for messages and screen lines: a longer text
 * is cut (it loses only its tail) and an encoding error leaves "". Returns the
 * length dst now holds, always < size (size must not be 0).
 */
size_t pv_vformat_cut(char *dst, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
/* Hands the data (NUL-terminated, from pv_malloc) to the caller and empties b. */
char *pv_buf_take(pv_buf *b, size_t *len);
pv_slice pv_buf_slice(const pv_buf *b);

#endif
