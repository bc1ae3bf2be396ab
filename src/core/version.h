/*
 * version.h — firmware version literals and their ordering (spec 1.4).
 *
 * Conditions in Profile_Rule and Upgrade_Rule compare versions: an SPA phone
 * reports `2.0.6(b)` or `7.4.4`, a multiplatform phone `sip88xx.11-3-1MPP-678`
 * or `sip88xx.11-3-2MPP0001-609`, an ATA191 `11-1-0MPP-19`. This module parses
 * both families into a pv_version and compares two of them: major, minor,
 * micro, then build; a component holding digits and letters compares the
 * digits numerically, then the letters alphabetically, then any trailing
 * digits (the `0001` of `2MPP0001`). Comparing an SPA version with an MPP
 * version is an error, never a guess.
 *
 * A pv_version is a plain value: it copies the text it was parsed from and
 * owns nothing on the heap, so it may be copied and dropped freely.
 */
#ifndef PV_CORE_VERSION_H
#define PV_CORE_VERSION_H

#include "core/buf.h"
#include "core/error.h"

#include <stdint.h>

/* Longest version literal accepted, in bytes. Real ones are under 40. */
#define PV_VERSION_MAX 63

typedef enum {
    PV_VERSION_SPA = 1, /* dotted: 2.0.6(b), 1.0, 7.4.4 */
    PV_VERSION_MPP = 2, /* dashed: [sipNNxx.]11-3-1MPP-678, 11-1-0MPP-19 */
} pv_version_format;

/* A run of the version text: offset and length into pv_version.text. */
typedef struct pv_version_run {
    uint8_t off, len;
} pv_version_run;

/* One component: leading digits, then letters, then trailing digits. */
typedef struct pv_version_comp {
    pv_version_run num, alpha, sub;
} pv_version_comp;

/* Components 0..2 are major, minor, micro; 3 is the build. */
#define PV_VERSION_COMPS 4

typedef struct pv_version {
    pv_version_format format;
    char text[PV_VERSION_MAX + 1];
    pv_version_run model;                   /* "sip88xx" of an MPP load name; ignored by compare */
    uint8_t ncomp;                          /* major..micro present (1..3) */
    bool has_build;                         /* SPA "(b)" or MPP "-678" */
    pv_version_comp comp[PV_VERSION_COMPS]; /* absent ones are empty, which sorts first */
} pv_version;

/*
 * Parses a version literal. Surrounding white space is not allowed (the
 * caller tokenizes). Fails with PV_ESYNTAX and a message naming the column
 * (1-based within s) and what was expected.
 */
int pv_version_parse(pv_slice s, pv_version *out, pv_error *err);

/*
 * Compares a and b: *cmp < 0, 0 or > 0. Missing components count as empty
 * (1.0 == 1.0.0 < 1.0.33; 2.0.6 < 2.0.6(b)). Returns PV_EFORMAT when one is an
 * SPA and the other an MPP version (spec 1.4: "mismatching format = parse error").
 */
int pv_version_compare(const pv_version *a, const pv_version *b, int *cmp, pv_error *err);

/* Compares two unsigned decimal digit strings of any length by value. */
int pv_version_cmp_digits(pv_slice a, pv_slice b);

#endif
