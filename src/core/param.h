/*
 * param.h — parameter sets: what a profile says, independent of its syntax.
 *
 * A parameter set maps an XML element name (spec 3.1) to a value, a
 * "value present" flag and a user-access level (`ua`, spec 3.1 and 9). A
 * parameter without a value means "leave the value unchanged" (`<X/>` in XML,
 * `Name !;` in the legacy text form); an unset access means "keep the access
 * the phone has". Insertion order is kept so that a profile written back out
 * reads like the one read in.
 *
 * Layers of sets (defaults → model → account → device, DESIGN decision 4) are
 * combined with pv_params_merge(): later wins, but only for what it states.
 *
 * Memory: a fleet holds 100 000 phones, each with a few sets, so a set is
 * small (56 bytes) and holds at most three heap blocks whatever its size —
 * a 16-byte entry array, one string pool holding every name and value
 * NUL-terminated, and, from 9 parameters on, an open-addressing hash index.
 * A set of up to 8 entries is searched linearly and has no index at all.
 *
 * Ownership: the set owns its memory; a zeroed pv_params is a valid empty
 * set and pv_params_free() returns it to that state. A pv_param filled by
 * pv_params_get()/pv_params_next() points into the set and stays valid only
 * until the set is next modified.
 */
#ifndef PV_CORE_PARAM_H
#define PV_CORE_PARAM_H

#include "core/buf.h"
#include "core/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* User access to a parameter (spec 3.1 `ua`, spec 9). */
typedef enum {
    PV_UA_UNSET = 0, /* not stated: existing access is kept */
    PV_UA_NA,        /* no access for the user account */
    PV_UA_RO,        /* read-only */
    PV_UA_RW,        /* read/write */
} pv_ua;

/* Longest parameter name accepted (the longest known names are ~40 bytes). */
#define PV_PARAM_NAME_MAX 255

/* One parameter, as given to or read from a set. */
typedef struct pv_param {
    pv_slice name;  /* XML element name, e.g. "Dial_Plan_1_" */
    pv_slice value; /* ignored (and empty when read) unless has_value */
    bool has_value; /* false: "value unchanged" */
    bool preserve;  /* MPP 11.3 preserve-value="y": keep the user's value */
    pv_ua ua;
} pv_param;

typedef struct pv__param_entry pv__param_entry;

/* A parameter set; treat the fields as private. */
typedef struct pv_params {
    pv__param_entry *entries; /* insertion order; removed ones marked dead */
    char *pool;               /* names and values, each NUL-terminated */
    uint32_t *slots;          /* hash index: entry index + 1, 0 = empty */
    uint32_t n_entries, n_live, cap_entries;
    uint32_t n_slots; /* 0 or a power of two */
    uint32_t pool_len, pool_cap, pool_garbage;
} pv_params;

/* A profile parser's bounds (spec: "memory must be bounded on any input"). */
typedef struct pv_profile_limits {
    size_t max_input;   /* bytes of one input (default 4 MiB) */
    size_t max_params;  /* distinct parameters (default 20 000) */
    size_t max_value;   /* bytes of one value (default 64 KiB) */
    unsigned max_depth; /* XML element nesting / text import nesting (32 / 8) */
} pv_profile_limits;

/* Fills in defaults for every field left at 0. */
pv_profile_limits pv_profile_limits_resolve(const pv_profile_limits *limits);

/* Where a parser failed, for `file:line: message` reports. */
typedef struct pv_profile_pos {
    unsigned long line, column; /* 1-based; 0 when the error has no position */
    char file[256];             /* name of the imported file, "" for the input itself */
} pv_profile_pos;

void pv_params_init(pv_params *p);
void pv_params_free(pv_params *p);
/* Removes every parameter but keeps the memory. */
void pv_params_clear(pv_params *p);

/*
 * Adds or replaces the parameter e->name with exactly *e. Fails with PV_EINVAL
 * for a name that pv_param_name_valid() refuses, PV_ETOOBIG past 4 GiB.
 */
int pv_params_set(pv_params *p, const pv_param *e, pv_error *err);
/*
 * Applies *e the way a later profile applies to an earlier one: the value
 * only when e->has_value, the access only when set, preserve when true.
 * A parameter not yet in the set is added as given.
 */
int pv_params_apply(pv_params *p, const pv_param *e, pv_error *err);
/* Shorthand for tests and callers with C strings; value NULL = no value. */
int pv_params_set_str(pv_params *p, const char *name, const char *value, pv_ua ua);

bool pv_params_get(const pv_params *p, pv_slice name, pv_param *out);
/* The value of name as a C string, or NULL when absent or without value. */
const char *pv_params_value(const pv_params *p, const char *name);
bool pv_params_remove(pv_params *p, pv_slice name);
size_t pv_params_count(const pv_params *p);
/* Iterates in insertion order: `size_t it = 0; while (pv_params_next(p, &it, &e))`. */
bool pv_params_next(const pv_params *p, size_t *it, pv_param *out);

/* Applies every parameter of src onto dst (pv_params_apply); src != dst. */
int pv_params_merge(pv_params *dst, const pv_params *src, pv_error *err);
/* Copies src into an empty or existing dst, replacing its content. */
void pv_params_copy(pv_params *dst, const pv_params *src);
/* Same parameters with the same value, flags and access; order ignored. */
bool pv_params_equal(const pv_params *a, const pv_params *b);
/* Drops garbage left by replacements and removals and trims capacity. */
void pv_params_compact(pv_params *p);
/* Heap bytes held by the set (not counting the struct itself). */
size_t pv_params_memory(const pv_params *p);

/*
 * Names (spec 3.1). A parameter name is ASCII: a letter or '_', then letters,
 * digits, '_', '-' or '.' (`Phone-UI-User-Mode`, `G722.2_Codec_Name`).
 */
bool pv_param_name_valid(pv_slice name);
/* Web field name → element name: space and each of `[ ] ( ) /` become '_'. */
void pv_param_name_from_web(pv_slice web, pv_buf *out);
/*
 * Element name → a web-style name for display: a trailing `_<digits>_`
 * becomes `[<digits>]`, other '_' become spaces (`Dial_Plan_1_` → `Dial
 * Plan[1]`). Lossy: `Resync_At__HHmm_` cannot know it had parentheses.
 */
void pv_param_name_to_web(pv_slice name, pv_buf *out);
/* Text-profile name → element name: `[` and `]` become '_' (`Proxy[1]` → `Proxy_1_`). */
void pv_param_name_from_text(pv_slice text, pv_buf *out);
/* Element name → text-profile name: a trailing `_<digits>_` becomes `[<digits>]`. */
void pv_param_name_to_text(pv_slice name, pv_buf *out);

/* "na", "ro", "rw", or "" for PV_UA_UNSET. */
const char *pv_ua_name(pv_ua ua);
/* Parses "na", "ro" or "rw" (exact, as the phone does); PV_EINVAL otherwise. */
int pv_ua_parse(pv_slice s, pv_ua *out);

#endif
