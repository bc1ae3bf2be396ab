/*
 * macro.h — `$NAME` expansion in rules, triggers and GPP templates (spec 2).
 *
 * Forms: `$NAME`, `$(NAME)`, `$(NAME:p)` (from offset p), `$(NAME:p:q)` (q
 * bytes from p), `$$` for a literal `$`. Expansion is one pass, never
 * recursive: `$$MAU` gives `$MAU`, and a value that holds `$MA` is copied as
 * is. Names that nobody knows are left exactly as written (`$STRANGE$MAU.cfg`
 * → `$STRANGE000E08012345.cfg`). `$NAME` takes the longest known name that
 * prefixes the text after `$` (`$MAC` is MAC, not MA followed by C; `$SERVER`
 * is SERV then `ER`). The secret registers SA..SD expand only when the caller
 * passes PV_MACRO_SECRETS (inside `--key/--uid/--pwd` arguments) and otherwise
 * stay literal, so a rule echoed to a log never shows them.
 *
 * Where values come from: the caller's lookup callback (the agent's live
 * parameters, a test's table). A name is known when it is in the spec 2.2
 * table (pv_macro_is_standard) or when the callback resolves it; a standard
 * name the callback does not resolve expands to the empty string (an unset
 * GPP register is empty). pv_macro_vars is a ready-made name → value table
 * with a matching callback, and pv_macro_vars_identity() fills the identity
 * macros (MA, MAU, MAC, PN, PSN, SN, SWVER, HWVER) from what a device knows
 * about itself.
 */
#ifndef PV_CORE_MACRO_H
#define PV_CORE_MACRO_H

#include "core/buf.h"
#include "core/error.h"

#include <stdbool.h>
#include <stddef.h>

/* Longest macro name considered, in bytes (the longest standard one is 10). */
#define PV_MACRO_NAME_MAX 32

/*
 * Appends the value of name (upper-case, NUL-terminated) to out and returns
 * true, or returns false without touching out when it has no such variable.
 * GPP registers are asked for as "A".."P" and "SA".."SD".
 */
typedef bool (*pv_macro_lookup_cb)(void *ctx, const char *name, pv_buf *out);

typedef struct pv_macro_env {
    pv_macro_lookup_cb lookup; /* may be NULL: only standard names, all empty */
    void *ctx;
} pv_macro_env;

enum {
    /* Expand SA..SD (spec 2.2: only inside --key/--uid/--pwd arguments). */
    PV_MACRO_SECRETS = 1u << 0,
    /* Expand SA..SD and nothing else, `$$` included: the second pass over an
     * option argument whose other macros the first pass already expanded. */
    PV_MACRO_ONLY_SECRETS = 1u << 1,
};

/* Expands in into out (appended). Never fails: malformed forms stay literal. */
void pv_macro_expand(pv_slice in, const pv_macro_env *env, unsigned flags, pv_buf *out);

/* True for the names of the spec 2.2 table: A..P, SA..SD, MA, UID1, ... */
bool pv_macro_is_standard(pv_slice name);
/* True for SA..SD. */
bool pv_macro_is_secret(pv_slice name);

/* A small owned name → value table; zeroed is empty. */
typedef struct pv_macro_var {
    char *name;
    char *value;
} pv_macro_var;

typedef struct pv_macro_vars {
    pv_macro_var *items;
    size_t len, cap;
} pv_macro_vars;

/* Sets (or replaces) name's value. GPP_X and GPP_SX names are stored as X, SX. */
void pv_macro_vars_set(pv_macro_vars *v, const char *name, const char *value);
/* The value of name, or NULL. */
const char *pv_macro_vars_get(const pv_macro_vars *v, const char *name);
void pv_macro_vars_free(pv_macro_vars *v);
/* A pv_macro_lookup_cb whose ctx is a pv_macro_vars. */
bool pv_macro_vars_lookup(void *ctx, const char *name, pv_buf *out);
/* An env that reads v. */
pv_macro_env pv_macro_vars_env(pv_macro_vars *v);

/* What a device knows about itself; any field may be NULL. */
typedef struct pv_identity {
    const char *mac;    /* 000e08aabbcc, 00:0e:08:aa:bb:cc or 00-0E-08-AA-BB-CC */
    const char *model;  /* SPA2102, SPA504G, CP-8841-3PCC, ATA191-MPP */
    const char *serial; /* 88012BA01234 */
    const char *swver;  /* 2.0.6(b), sip88xx.11-3-1MPP-678, 11-1-0MPP-19 */
    const char *hwver;  /* 1.88.1 */
} pv_identity;

/*
 * Sets MA, MAU, MAC (from mac), PN and PSN (from model), SN, SWVER, HWVER.
 * Fails with PV_EINVAL when mac is not 12 hex digits (with optional ':' or '-'
 * between pairs).
 */
int pv_macro_vars_identity(pv_macro_vars *v, const pv_identity *id, pv_error *err);

/*
 * The product series number for $PSN (spec 2.2 and DESIGN): SPA2102 → 2102,
 * SPA504G → 504G, ATA191-MPP → 191, CP-8841-3PCC → 8841-3PCC; anything else
 * unchanged. Writes at most size-1 bytes and a NUL; returns PV_ETRUNC when
 * the result did not fit.
 */
int pv_macro_psn(const char *model, char *out, size_t size);

#endif
