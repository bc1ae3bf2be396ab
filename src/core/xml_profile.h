/*
 * xml_profile.h — the XML "open" profile, `<flat-profile>` (spec 3.1, 3.4).
 *
 * pv_xml_parse() reads a profile into a parameter set the way a phone does:
 * only the children of a `<flat-profile>` element are parameters, and that
 * element may sit anywhere in the tree (`<device><flat-profile>`); the five
 * entities and numeric references are decoded (expat); comments and
 * processing instructions are ignored; a value is the element's own text,
 * trimmed, with embedded CR/LF turned into spaces; the last occurrence of a
 * parameter wins; `<X/>` leaves the value unchanged and applies attributes
 * while `<X></X>` sets it empty; `ua="na|ro|rw"` sets user access; unknown
 * attributes are ignored except `preserve-value="y"` (MPP 11.3), kept as a
 * flag. Elements nested inside a parameter are ignored, and so is an element
 * whose name no parameter can have (`<xs:annotation>`, a namespaced name):
 * the guides say unrecognised elements are ignored, so the rest of the file
 * still counts. `<router-configuration>` (SPA100 series, ATA 19x) is a
 * section, not a parameter: the elements under its section headings
 * (`<router-configuration><Time_Setup><Time_Zone>`) are parameters.
 *
 * A comment with "--" inside (`<!------ Provisioning params ------>`, which
 * the Wazo SPA template ships) is read as a comment, as phones do, though
 * XML forbids it.
 *
 * Safety: input is UTF-8 only (spec 3.1); a DOCTYPE is refused, so no entity
 * can be declared, let alone expanded (billion laughs); input size, nesting
 * depth, value length and parameter count are capped by pv_profile_limits.
 * Errors read "line 3, column 7: mismatched tag" and, when the caller asks,
 * the position is also returned in a pv_profile_pos.
 *
 * Aliases (spec 1.1 `--alias`): a list of `/path/in/foreign/xml =
 * /flat-profile/Param_Name ;` lines lets a foreign XML document set
 * parameters: an element whose path ends with the left-hand side (matched on
 * as many trailing elements as it names) sets Param_Name from its text.
 *
 * pv_xml_serialize() writes a canonical profile (one element per line,
 * escaped, `ua` when set, `<X/>` for parameters without a value) that
 * parses back to the same set.
 */
#ifndef PV_CORE_XML_PROFILE_H
#define PV_CORE_XML_PROFILE_H

#include "core/buf.h"
#include "core/error.h"
#include "core/param.h"

/* spec 1.1: "up to 30 aliases" */
#define PV_XML_MAX_ALIASES 30

typedef struct pv_xml_aliases pv_xml_aliases;

/*
 * Parses the content of an alias GPP (`;`-separated `lhs = /flat-profile/Name`
 * entries; blank entries are skipped). On success *out is the caller's to
 * release with pv_xml_aliases_free().
 */
int pv_xml_aliases_parse(pv_slice text, pv_xml_aliases **out, pv_error *err);
void pv_xml_aliases_free(pv_xml_aliases *aliases);

typedef struct pv_xml_opts {
    const pv_profile_limits *limits; /* NULL: defaults */
    const pv_xml_aliases *aliases;   /* NULL: none */
    pv_profile_pos *where;           /* NULL, or filled with the error position */
    size_t *ignored;                 /* NULL, or set to the elements skipped as no parameter */
} pv_xml_opts;

/*
 * Applies the profile in input onto out (pv_params_apply semantics, so the
 * parameters of out that the profile does not name stay). A document without
 * any `<flat-profile>` element is refused (PV_EFORMAT) unless aliases are
 * given. On failure out may hold the parameters read before the error; pass
 * an empty set when that matters. opts may be NULL.
 */
int pv_xml_parse(pv_slice input, pv_params *out, const pv_xml_opts *opts, pv_error *err);

/*
 * Appends the canonical profile for p to out. Fails (PV_EINVAL) for a value
 * that XML 1.0 cannot carry: invalid UTF-8 or a control character other than
 * tab, CR and LF. Values are read back normalized (leading and trailing white
 * space trimmed, CR/LF as spaces), so sets from pv_xml_parse round-trip exactly.
 */
int pv_xml_serialize(const pv_params *p, pv_buf *out, pv_error *err);

/*
 * The same for one model: for the SPA100 series and the ATA 19x the router
 * parameters (core/router_config.h) go inside `<router-configuration>` under
 * their section headings, as those models read them (C-ATAPAR, spec 3.1);
 * for any other model it is pv_xml_serialize. Parses back to the same set.
 */
int pv_xml_serialize_for_model(const pv_params *p, const char *model, pv_buf *out,
                               pv_error *err);

#endif
