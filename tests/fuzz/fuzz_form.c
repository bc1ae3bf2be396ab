/* Fuzz target: what a browser sends the portal — urlencoded form fields and the query
 * (core/form), the Cookie header, and Accept-Language (server/i18n) — and HTML escaping of
 * whatever came out. The input is split at the first NUL byte: body | header. */
#include "core/form.h"
#include "server/i18n.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    const char *nul = memchr(p, '\0', size);
    pv_slice body = pv_slice_make(p, nul ? (size_t)(nul - p) : size);
    pv_slice header = nul ? pv_slice_make(nul + 1, size - body.len - 1) : body;
    static const char *const names[] = {"csrf", "login", "password", "sd_number_3", "", "a"};
    char out[64];
    pv_buf html = {0};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (pv_form_get(body, names[i], out, sizeof out)) {
            if (strlen(out) >= sizeof out)
                __builtin_trap();
            pv_html_escape(&html, out);
        }
        if (pv_cookie_get(header, names[i], out, sizeof out) && strlen(out) >= sizeof out)
            __builtin_trap();
    }
    (void)pv_form_get(body, "x", out, 1);
    pv_lang lang = pv_i18n_pick(NULL, header, PV_LANG_EN);
    if ((unsigned)lang >= PV_LANG__COUNT)
        __builtin_trap();
    pv_buf_free(&html);
    return 0;
}
