/*
 * text_profile.h — the legacy Sipura plain-text profile source (spec 3.3).
 *
 *     # comment to the end of the line
 *     Resync_Periodic ! "7200" ;      ! = user read/write
 *     Proxy[1] ? "sip.service.com";   ? = user read-only, nothing = no access
 *     GPP_B ;                         no value: value unchanged
 *     import common.txt               splices another source (at line start)
 *
 * Indexed names `Proxy[1]` are stored under their XML element name
 * `Proxy_1_` and written back in bracket form. The last occurrence wins.
 *
 * Quoted values: the documents show no escape syntax, so we decided (and the
 * serializer relies on it) that `\"` stands for `"` and `\\` for `\`; any
 * other backslash is kept as written, so Windows-style paths and dial plans
 * read as they look. A quoted value may span lines; it is taken verbatim
 * (no trimming). NUL bytes are refused.
 *
 * Imports: core does no I/O, so `import NAME` calls the caller's function,
 * which fills a buffer with the named source (the parser frees it). Nesting is
 * capped (limits.max_depth, default 8), a file that imports itself directly
 * or through others is an error, and the bytes of all sources together are
 * capped by limits.max_input, so a diamond of imports cannot explode.
 * Errors read "line 3, column 7: expected ';'", prefixed with "NAME: " when
 * the error is inside an imported file.
 */
#ifndef PV_CORE_TEXT_PROFILE_H
#define PV_CORE_TEXT_PROFILE_H

#include "core/buf.h"
#include "core/error.h"
#include "core/param.h"

/*
 * Fills content (empty, caller of the parser does not see it) with the source
 * called name — exactly as written after `import`. Returns 0 or a PV_E* code
 * with a message in err.
 */
typedef int (*pv_text_import_fn)(void *ctx, const char *name, pv_buf *content, pv_error *err);

typedef struct pv_text_opts {
    const pv_profile_limits *limits; /* NULL: defaults; max_depth = import nesting */
    pv_text_import_fn import;        /* NULL: `import` is an error */
    void *import_ctx;
    /*
     * spec 3.3 says a parameter without '!' or '?' has no user access (na).
     * A caller using a text file as an overlay may instead want "access
     * unchanged" (PV_UA_UNSET): set this.
     */
    bool bare_keeps_access;
    /* The input's own name as an import would write it, so that an import
     * back to it is seen as a cycle; NULL when it has none. */
    const char *name;
    pv_profile_pos *where; /* NULL, or filled with the error position */
} pv_text_opts;

/* Applies the source in input onto out (pv_params_apply). opts may be NULL. */
int pv_text_parse(pv_slice input, pv_params *out, const pv_text_opts *opts, pv_error *err);

/*
 * Appends p in the text form, one `Name[!|?] ["value"];` per line. Fails
 * (PV_EINVAL) for a value holding a NUL byte. The text form cannot say
 * "access unchanged": such parameters are written bare and read back as na
 * (or unset with bare_keeps_access); nor can it carry preserve-value.
 */
int pv_text_serialize(const pv_params *p, pv_buf *out, pv_error *err);

/* Appends v in double quotes, escaping `"` and `\` as described above. */
void pv_text_quote(pv_buf *out, pv_slice v);

#endif
