/*
 * multipart.h — a bounded, streaming reader of multipart/form-data (RFC 7578, on RFC 2046
 * §5.1's multipart syntax): what a browser sends for a plain HTML form with a file input
 * (<form enctype="multipart/form-data">), so that a page can upload a file without a script.
 *
 * Streaming: pv_multipart_feed takes the body in pieces of any size (one byte at a time
 * works) and hands each part's headers, then its bytes, then its end to the caller's
 * callbacks as they are recognised; it keeps no part's content, only the headers of the part
 * being read (at most limits.max_header_bytes) and its own state, so memory is bounded
 * whatever the body's size. The caller decides what a part's content is worth keeping (and
 * how much: its callback may refuse).
 *
 * Bounds (each one an error, never a cut): the boundary 1 to 70 characters of RFC 2046's
 * bchars; at most limits.max_parts parts; a part's header block at most
 * limits.max_header_bytes; a field name at most PV_MULTIPART_NAME_MAX bytes and a file name at
 * most PV_MULTIPART_FILENAME_MAX. Errors name the part (its number from 1) and what is wrong:
 * PV_ESYNTAX (malformed), PV_ELIMIT (a bound), PV_ETRUNC (the body ended before the closing
 * delimiter). The preamble and the epilogue are ignored (RFC 2046 §5.1.1).
 *
 * Ownership: the caller owns the reader (a plain struct, no allocation) and everything it
 * passes; a pv_multipart_part handed to a callback is valid during that call only.
 */
#ifndef PV_CORE_MULTIPART_H
#define PV_CORE_MULTIPART_H

#include "core/buf.h"
#include "core/error.h"

#include <stdbool.h>
#include <stddef.h>

#define PV_MULTIPART_BOUNDARY_MAX 70 /* RFC 2046 §5.1.1 */
#define PV_MULTIPART_NAME_MAX 100
#define PV_MULTIPART_FILENAME_MAX 255
#define PV_MULTIPART_TYPE_MAX 100
#define PV_MULTIPART_HEADER_CAP 4096 /* the largest max_header_bytes accepted */

typedef struct pv_multipart_limits {
    size_t max_parts;        /* 0: 16 */
    size_t max_header_bytes; /* one part's header block; 0: 1024; at most the cap above */
} pv_multipart_limits;

typedef struct pv_multipart_part {
    size_t index;                                  /* 1 for the first part */
    char name[PV_MULTIPART_NAME_MAX + 1];          /* Content-Disposition's name */
    char filename[PV_MULTIPART_FILENAME_MAX + 1];  /* its filename, "" when none */
    bool has_filename;                             /* a file input (even with no file chosen) */
    char content_type[PV_MULTIPART_TYPE_MAX + 1]; /* "" when absent (text/plain, RFC 7578 §4.4) */
} pv_multipart_part;

/* Each returns 0 to go on, or a PV_E* code (with err set) that stops the reader. */
typedef struct pv_multipart_callbacks {
    int (*part_begin)(void *data, const pv_multipart_part *part, pv_error *err);
    int (*part_data)(void *data, const pv_multipart_part *part, const char *bytes, size_t len,
                     pv_error *err);
    int (*part_end)(void *data, const pv_multipart_part *part, pv_error *err);
} pv_multipart_callbacks;

typedef struct pv_multipart {
    char delim[PV_MULTIPART_BOUNDARY_MAX + 4]; /* "\r\n--" boundary */
    size_t delim_len, match;                   /* bytes of delim matched so far */
    int state;
    size_t pad;                                /* transport padding after a delimiter */
    char header[PV_MULTIPART_HEADER_CAP];
    size_t header_len;
    pv_multipart_limits limits;
    pv_multipart_part part;
    size_t parts;
    const pv_multipart_callbacks *cb;
    void *data;
    int failed; /* the first error's code: later calls answer it again */
} pv_multipart;

/* The boundary parameter of a Content-Type header value ("multipart/form-data;
 * boundary=..." , quoted or not) into out: 0, or PV_EFORMAT for another media type,
 * PV_ESYNTAX for a missing or malformed boundary. */
int pv_multipart_boundary(pv_slice content_type, char out[PV_MULTIPART_BOUNDARY_MAX + 1],
                          pv_error *err);

/* limits NULL: the defaults. cb's members may be NULL (nothing to do there). */
void pv_multipart_init(pv_multipart *m, const char *boundary, const pv_multipart_limits *limits,
                       const pv_multipart_callbacks *cb, void *data);
/* The next piece of the body: 0, or the error that stopped the reader. */
int pv_multipart_feed(pv_multipart *m, const char *bytes, size_t len, pv_error *err);
/* The body has ended: 0 when the closing delimiter was read, else PV_ETRUNC. */
int pv_multipart_finish(pv_multipart *m, pv_error *err);

/* The whole of a buffered body at once, for a request whose Content-Type is content_type. */
int pv_multipart_parse(pv_slice content_type, pv_slice body, const pv_multipart_limits *limits,
                       const pv_multipart_callbacks *cb, void *data, pv_error *err);

/* The value of the first plain field called name (not a file), at most size - 1 bytes, NUL
 * terminated: true when found and it fits (a CSRF token before the form is read). */
bool pv_multipart_field(pv_slice content_type, pv_slice body, const char *name, char *out,
                        size_t size);

#endif
