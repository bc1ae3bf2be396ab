/*
 * text.h — which bytes may be stored as text: UTF-8 without control
 * characters.
 *
 * A parameter value, a model name or an account's setting ends up in an XML
 * or text profile, in a log line and on a phone's screen. A control
 * character there made every render of the profile fail (XML 1.0 cannot
 * carry U+0001), and a NUL cut a C string short without a word. So every
 * path that writes text (admin API, CLI, CSV import, the store itself)
 * refuses such bytes with the field named, and the XML writer applies the
 * same scan with its own, laxer, rule.
 *
 * What is refused, by flag:
 *   always            malformed UTF-8 (overlong forms, surrogates, beyond
 *                     U+10FFFF, cut sequences), U+FFFE and U+FFFF, and C0
 *                     controls U+0000..U+001F other than TAB, LF and CR —
 *                     what XML 1.0 §2.2 cannot carry;
 *   PV_TEXT_CONTROLS  also DEL (U+007F) and the C1 controls U+0080..U+009F;
 *   PV_TEXT_ONE_LINE  also TAB, LF and CR (names, models, serials).
 *
 * Pure: no allocation, no state.
 */
#ifndef PV_CORE_TEXT_H
#define PV_CORE_TEXT_H

#include "core/buf.h"
#include "core/error.h"

#include <stddef.h>
#include <stdint.h>

enum {
    PV_TEXT_XML = 0,      /* what XML 1.0 can carry */
    PV_TEXT_CONTROLS = 1, /* no DEL, no C1 either */
    PV_TEXT_ONE_LINE = 2, /* no TAB, LF, CR either */
    PV_TEXT_VALUE = PV_TEXT_CONTROLS,
    PV_TEXT_NAME = PV_TEXT_CONTROLS | PV_TEXT_ONE_LINE,
};

/* The code point starting at s.ptr[i] (i < s.len) and its length in *n; -1 when the bytes
 * there are not UTF-8 (malformed, overlong, a surrogate, cut short). */
int32_t pv_utf8_decode(pv_slice s, size_t i, size_t *n);

/* Offset of the first byte of s that starts a refused character, or s.len. */
size_t pv_text_bad_at(pv_slice s, unsigned flags);

/*
 * 0, or PV_EINVAL with "<field>: byte N is a control character (U+0001);
 * expected UTF-8 text without control characters" (or "is not UTF-8
 * (0xff)"). field names what the caller writes: "parameter Station_Name".
 */
int pv_text_check(pv_slice s, unsigned flags, const char *field, pv_error *err);

#endif
