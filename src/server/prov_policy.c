/* prov_policy.c — defaults and small helpers of the provisioning policy; see prov_policy.h. */
#include "server/prov_policy.h"

#include "core/param.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

void pv_prov_policy_defaults(pv_prov_policy *p)
{
    *p = (pv_prov_policy){
        .binding_prefix = "init",
        .permanent_scheme = "http",
        .report_prefix = "report",
        .report_rule = true,
        .rotation_period = 30 * 86400,
        .encryption = PV_PROV_ENC_SALTED,
        .sha256_models = "*",
        .md5_models = "",
        .text_models = "",
        /* DESIGN 8: short, jittered retries instead of the 3600 s factory default. */
        .resync_error_retry_delay = "30+30,60+60,120+120,240+240,600+600",
        .resync_random_delay_s = 120,
        .resync_periodic = "86400+3600",
        .queue_deadline_ms = 20000,
        .render_concurrency = 64,
        .firmware_wave = 50,
        .firmware_wave_ms = 1000,
        .admission_queue = 1000,
        .cache_entries = 4096,
        .cache_check_ms = 100,
        .seen_interval_s = 60,
    };
}

bool pv_prov_model_in(const char *list, const char *model)
{
    if (list == NULL || model == NULL)
        return false;
    size_t mlen = strlen(model);
    const char *p = list;
    while (*p != '\0') {
        while (*p == ',' || *p == ' ')
            p++;
        const char *end = p;
        while (*end != '\0' && *end != ',')
            end++;
        size_t len = (size_t)(end - p);
        while (len > 0 && p[len - 1] == ' ')
            len--;
        if ((len == 1 && *p == '*') || (len == mlen && len > 0 && strncasecmp(p, model, len) == 0))
            return true;
        p = end;
    }
    return false;
}

bool pv_prov_model_is_mpp(const char *model)
{
    size_t n = model ? strlen(model) : 0;
    return n > 5 && strcasecmp(model + n - 5, "-3PCC") == 0;
}

pv_md pv_prov_model_md(const pv_prov_policy *p, const char *model)
{
    /* DESIGN 7: sha256 for multiplatform by default ("*"), md5 for SPA/ATA;
     * explicit lists override per model, md5_models first. */
    if (pv_prov_model_in(p->md5_models, model))
        return PV_MD_MD5;
    if (p->sha256_models != NULL && strcmp(p->sha256_models, "*") == 0)
        return pv_prov_model_is_mpp(model) ? PV_MD_SHA256 : PV_MD_MD5;
    return pv_prov_model_in(p->sha256_models, model) ? PV_MD_SHA256 : PV_MD_MD5;
}

static unsigned default_port(const char *scheme)
{
    if (strcmp(scheme, "https") == 0)
        return 443;
    if (strcmp(scheme, "http") == 0)
        return 80;
    return 69; /* spec 1.2 */
}

void pv_prov_base_url(const pv_prov_policy *p, const char *host, const char *scheme, pv_buf *out)
{
    unsigned port = strcmp(scheme, "https") == 0  ? p->https_port
                    : strcmp(scheme, "http") == 0 ? p->http_port
                                                  : p->tftp_port;
    bool v6 = strchr(host, ':') != NULL && host[0] != '[';
    pv_buf_appendf(out, "%s://%s%s%s", scheme, v6 ? "[" : "", host, v6 ? "]" : "");
    if (port != 0 && port != default_port(scheme))
        pv_buf_appendf(out, ":%u", port);
}

pv_prov_encryption pv_prov_model_encryption(const pv_prov_policy *p, const char *model)
{
    /* spec 4.3: aes128gcm is a multiplatform feature (MPP >= 11.2(3)); the SPA
     * and ATA guides know only AES-256-CBC with --key (spec 4.1, 4.2) */
    if (p->encryption == PV_PROV_ENC_RFC8188 && pv_prov_model_is_mpp(model))
        return PV_PROV_ENC_RFC8188;
    return PV_PROV_ENC_SALTED;
}

void pv_prov_permanent_rule(const pv_prov_policy *p, const char *model, const char *host,
                            pv_buf *out)
{
    /* spec 12.2 recipe (b); spec 4.3: a --key takes precedence over the IKM,
     * so under RFC 8188 the rule must not carry one. */
    if (pv_prov_model_encryption(p, model) == PV_PROV_ENC_SALTED)
        pv_buf_append_str(out, "[--key $SA] ");
    pv_prov_base_url(p, host, p->permanent_scheme, out);
    pv_buf_append_str(out, "/$B/$MA.cfg");
}

static void set_default(pv_params *p, const char *name, const char *value)
{
    if (pv_params_value(p, name) == NULL)
        pv_params_set_str(p, name, value, PV_UA_UNSET);
}

void pv_prov_storm_defaults(const pv_prov_policy *pol, const char *model, pv_params *p)
{
    char delay[24];
    /* DESIGN open questions: 20 s units on SPA/ATA, seconds on multiplatform. */
    unsigned v = pv_prov_model_is_mpp(model) ? pol->resync_random_delay_s
                                             : (pol->resync_random_delay_s + 19) / 20;
    int n = snprintf(delay, sizeof delay, "%u", v);
    if (n > 0 && (size_t)n < sizeof delay)
        set_default(p, "Resync_Random_Delay", delay);
    if (pol->resync_error_retry_delay != NULL && pol->resync_error_retry_delay[0] != '\0')
        set_default(p, "Resync_Error_Retry_Delay", pol->resync_error_retry_delay);
    if (pol->resync_periodic != NULL && pol->resync_periodic[0] != '\0')
        set_default(p, "Resync_Periodic", pol->resync_periodic);
}
