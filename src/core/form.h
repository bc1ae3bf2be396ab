/*
 * form.h — what a browser sends and what a page shows: fields of an
 * application/x-www-form-urlencoded body or query (WHATWG URL, "urlencoded
 * parsing"), cookies of a Cookie header (RFC 6265 §5.4), and text escaped
 * for HTML. For the customer portal (server/portal.h) and the operator
 * console to come; pure, no allocation but the caller's buffers.
 */
#ifndef PV_CORE_FORM_H
#define PV_CORE_FORM_H

#include "core/buf.h"

#include <stdbool.h>
#include <stddef.h>

/*
 * The first field called name in an urlencoded body or query, decoded ('+'
 * is a space, %XX a byte) into out (NUL-terminated). False when absent, when
 * it does not fit in size - 1 bytes, when a %-escape is malformed, or when it
 * decodes to a NUL byte.
 */
bool pv_form_get(pv_slice body, const char *name, char *out, size_t size);

/* The cookie called name in a Cookie header ("a=1; b=2"), copied as sent into out; false
 * when absent or longer than size - 1 bytes. */
bool pv_cookie_get(pv_slice header, const char *name, char *out, size_t size);

/* Appends s with & < > " ' escaped: safe as HTML text and inside a quoted attribute. */
void pv_html_escape(pv_buf *out, const char *s);

#endif
