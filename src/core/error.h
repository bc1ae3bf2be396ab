/*
 * error.h — Provisor's error codes.
 *
 * Every fallible function in Provisor returns 0 on success or a negative
 * PV_E* code (DESIGN decision 9), like libuv. Codes name the class of failure;
 * the details a person needs (which file, which column, what was expected) go
 * into a caller-supplied message buffer, see pv_error_set().
 */
#ifndef PV_CORE_ERROR_H
#define PV_CORE_ERROR_H

#include <stddef.h>

#define PV_ERRNO_MAP(X)                                                        \
    X(EINVAL, "invalid argument")                                              \
    X(ESYNTAX, "syntax error")                                                 \
    X(ERANGE, "value out of range")                                            \
    X(ETOOBIG, "input too large")                                              \
    X(ETRUNC, "input truncated")                                               \
    X(EFORMAT, "unrecognised format")                                          \
    X(EDECRYPT, "decryption failed (wrong key or corrupt data)")               \
    X(ECRYPTO, "cryptographic library error")                                  \
    X(EIO, "input/output error")                                               \
    X(ENOENT, "no such file or entry")                                         \
    X(EEXIST, "already exists")                                                \
    X(EACCES, "permission denied")                                             \
    X(ENOTSUP, "not supported")                                                \
    X(ETIMEDOUT, "timed out")                                                  \
    X(ECONN, "connection failed")                                              \
    X(EPROTO, "protocol error")                                                \
    X(EBUSY, "resource busy")                                                  \
    X(ELIMIT, "limit reached")                                                 \
    X(ESTORE, "storage error")                                                 \
    X(ECONFLICT, "conflicting state")

typedef enum {
    PV_OK = 0,
#define PV_ERRNO_ENUM(name, text) PV_##name,
    PV__ERRNO_FIRST = -1000,
    PV_ERRNO_MAP(PV_ERRNO_ENUM)
#undef PV_ERRNO_ENUM
    PV__ERRNO_END
} pv_errno_t;

/* A static, human-readable description of a PV_E* code (or "unknown error"). */
const char *pv_strerror(int err);
/* The code's symbolic name, e.g. "ESYNTAX", for logs and JSON. */
const char *pv_err_name(int err);

/*
 * A caller-owned buffer for a message that says what went wrong and where.
 * Functions that take one fill it on failure (printf-style, truncated
 * safely); a NULL pointer means the caller does not want the text.
 */
typedef struct pv_error {
    char msg[256];
} pv_error;

/* Formats into err (if not NULL) and returns code, so callers can
 * `return pv_error_set(err, PV_ESYNTAX, "column %zu: ...", col);` */
int pv_error_set(pv_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
