/* bootstrap.c — factory-default rule names and the bootstrap profile; see bootstrap.h. */
#include "server/bootstrap.h"

#include "server/binding.h"

#include "core/param.h"
#include "core/xml_profile.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool alnum_run(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)p[i]))
            return false;
    return len > 0;
}

static void put_model(char *model, size_t size, const char *prefix, const char *p, size_t len,
                      const char *suffix)
{
    if (model == NULL || size == 0)
        return;
    int n = snprintf(model, size, "%s%.*s%s", prefix, (int)len, p, suffix);
    if (n < 0 || (size_t)n >= size)
        model[0] = '\0';
}

bool pv_bootstrap_path(pv_slice path, char *model, size_t size)
{
    if (path.len > 0 && path.ptr[0] == '/')
        path = pv_slice_make(path.ptr + 1, path.len - 1);
    if (path.len < 6 || path.len > 40 || memchr(path.ptr, '/', path.len) != NULL)
        return false;
    const char *s = path.ptr;
    size_t n = path.len;
    if (model != NULL && size > 0)
        model[0] = '\0';
    if (pv_slice_eq_cstr(path, "init.cfg")) { /* PAP2T (spec 1.3, W-SPA) */
        put_model(model, size, "", "PAP2T", 5, "");
        return true;
    }
    /* MPP: /NNNN-3PCC.xml (DESIGN: $PSN = model number and -3PCC). */
    if (n > 9 && strncasecmp(s + n - 9, "-3PCC.xml", 9) == 0 && alnum_run(s, n - 9)) {
        put_model(model, size, "CP-", s, n - 9, "-3PCC");
        return true;
    }
    /* SPA /spa$PSN.cfg and ATA /ata$PSN.cfg; a 12-hex stem is a MAC, not a model. */
    if (n > 7 && strcmp(s + n - 4, ".cfg") == 0 &&
        (strncmp(s, "spa", 3) == 0 || strncmp(s, "ata", 3) == 0) && alnum_run(s + 3, n - 7) &&
        n - 7 != 12) {
        put_model(model, size, s[0] == 's' ? "SPA" : "ATA", s + 3, n - 7, "");
        return true;
    }
    return false;
}

int pv_bootstrap_profile(const pv_prov_policy *pol, const char *host, const char *model,
                         pv_buf *out, pv_error *err)
{
    pv_params p = {0};
    pv_buf rule = {0};
    bool legacy = pv_binding_legacy_model(model);
    if (legacy && pol->legacy_bootstrap_url != NULL && pol->legacy_bootstrap_url[0] != '\0') {
        pv_buf_append_str(&rule, pol->legacy_bootstrap_url); /* e.g. a Cisco-signed listener */
    } else if (legacy && pol->legacy_plain_key && pol->http_port) {
        /* spec 4.4: this phone cannot verify our CA; the operator chose the plain first key */
        pv_prov_base_url(pol, host, "http", &rule);
        pv_buf_append_str(&rule, "/$MA.xml");
    } else if (pol->bootstrap_url != NULL && pol->bootstrap_url[0] != '\0') {
        pv_buf_append_str(&rule, pol->bootstrap_url);
    } else {
        /* DESIGN 3/5: the next step needs the phone's certificate, so HTTPS. */
        pv_prov_base_url(pol, host, pol->https_port ? "https" : "http", &rule);
        pv_buf_append_str(&rule, "/$MA.xml");
    }
    pv_params_set_str(&p, "Profile_Rule", rule.data, PV_UA_UNSET);
    /* spec 1.3: _B runs right after Profile_Rule in the same resync, with the
     * value just set; without it the phone would wait Resync_Periodic. */
    pv_params_set_str(&p, "Profile_Rule_B", rule.data, PV_UA_UNSET);
    pv_params_set_str(&p, "Resync_On_Reset", "Yes", PV_UA_UNSET);
    pv_prov_storm_defaults(pol, model, &p);
    int rc = pv_xml_serialize(&p, out, err);
    pv_params_free(&p);
    pv_buf_free(&rule);
    return rc;
}
