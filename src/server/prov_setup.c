/* prov_setup.c — the provisioning handler from `provisor serve`'s configuration; see provision.h.
 */
#include "server/config.h"
#include "server/provision.h"

#include "core/log.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The port of "host:port" / "[v6]:port", 0 for NULL (listener off). */
static unsigned port_of(const char *listen)
{
    const char *colon = listen ? strrchr(listen, ':') : NULL;
    return colon ? (unsigned)strtoul(colon + 1, NULL, 10) : 0;
}

int pv_provision_policy_from_config(const pv_config *cfg, pv_prov_policy *pol, pv_error *err)
{
    pv_prov_policy_defaults(pol);
    pol->public_host = cfg->public_host;
    pol->tftp_port = port_of(cfg->tftp_listen);
    pol->http_port = port_of(cfg->http_listen);
    pol->https_port = port_of(cfg->https_listen);
    if (cfg->binding_prefix != NULL)
        pol->binding_prefix = cfg->binding_prefix;
    pol->bootstrap_url = cfg->bootstrap_url;
    pol->legacy_bootstrap_url = cfg->legacy_bootstrap_url;
    pol->legacy_plain_key = cfg->legacy_plain_key;
    if (cfg->permanent_scheme != NULL)
        pol->permanent_scheme = cfg->permanent_scheme;
    if (cfg->report_prefix != NULL)
        pol->report_prefix = cfg->report_prefix;
    pol->sha256_models = cfg->sha256_models ? cfg->sha256_models : "";
    pol->md5_models = cfg->md5_models ? cfg->md5_models : "";
    pol->text_models = cfg->text_models ? cfg->text_models : "";
    pol->known_models = cfg->known_models ? cfg->known_models : "";
    if (cfg->retry_delay != NULL)
        pol->resync_error_retry_delay = cfg->retry_delay;
    pol->resync_random_delay_s = cfg->random_delay_s;
    pol->rotation_period = (int64_t)cfg->rotation_days * 86400;
    pol->queue_deadline_ms = cfg->queue_deadline_ms;
    pol->firmware_wave = cfg->firmware_wave;
    pol->render_rate = cfg->render_rate;
    pol->handshake_rate = cfg->https_listen != NULL ? cfg->handshake_rate : 0;
    pol->admission_queue = cfg->admission_queue;
    pol->cache_entries = cfg->cache_entries;
    pol->cache_check_ms = cfg->cache_check_ms;
    pol->seen_interval_s = cfg->seen_interval_s;
    pol->gzip = cfg->gzip;
    const char *s = pol->permanent_scheme;
    if (strcmp(s, "auto") == 0) /* a listener this node runs: an HTTPS-only node sends https */
        s = pol->http_port ? "http" : pol->https_port ? "https" : pol->tftp_port ? "tftp" : "http";
    pol->permanent_scheme = s;
    unsigned port = strcmp(s, "http") == 0    ? pol->http_port
                    : strcmp(s, "https") == 0 ? pol->https_port
                    : strcmp(s, "tftp") == 0  ? pol->tftp_port
                                              : UINT32_MAX;
    if (port == UINT32_MAX)
        return pv_error_set(err, PV_EINVAL,
                            "[provisioning] permanent_scheme = %s: want auto, http, https or tftp",
                            s);
    /* Not an error: a front end or another node may serve that scheme; but phones leaving
     * SEC-PRV-1 go there, so say it where the operator looks first. */
    if (port == 0 && (cfg->http_listen || cfg->https_listen || cfg->tftp_listen))
        pv_logf(PV_LOG_WARN, "provision.scheme_not_served",
                "permanent_scheme=%s but this node's [%s] listener is off: phones leaving "
                "SEC-PRV-1 are sent to %s://%s/; set permanent_scheme = auto unless a front "
                "end serves it",
                s, s, s, pol->public_host ? pol->public_host : "HOST");
    if (pol->text_models[0] != '\0') /* spec 3.3 */
        return pv_error_set(err, PV_EINVAL,
                            "[provisioning] text_models = %s: phones take XML or the binary spc "
                            "compiles, never the plain-text source (spec 3.3); remove the setting "
                            "(those models get XML)",
                            pol->text_models);
    const char *enc = cfg->encryption ? cfg->encryption : "aes-256-cbc";
    if (strcmp(enc, "aes-256-cbc") == 0)
        pol->encryption = PV_PROV_ENC_SALTED;
    else if (strcmp(enc, "aes128gcm") == 0)
        pol->encryption = PV_PROV_ENC_RFC8188;
    else
        return pv_error_set(err, PV_EINVAL,
                            "[provisioning] encryption = %s: want aes-256-cbc or aes128gcm", enc);
    if (strchr(pol->binding_prefix, '/') != NULL || pol->binding_prefix[0] == '\0')
        return pv_error_set(err, PV_EINVAL,
                            "[provisioning] binding_prefix = %s: want one path component",
                            pol->binding_prefix);
    return 0;
}

int pv_provision_from_config(const pv_config *cfg, pv_fileserver *files, pv_provision **out,
                             pv_error *err)
{
    char db[4096], key[4096], fw[4096];
    int a = snprintf(db, sizeof db, "%s/provisor.db", cfg->data_dir);
    int b = snprintf(key, sizeof key, "%s/master.key", cfg->data_dir);
    int c = snprintf(fw, sizeof fw, "%s/firmware", cfg->data_dir);
    if (a < 0 || b < 0 || c < 0 || (size_t)a >= sizeof db || (size_t)b >= sizeof key ||
        (size_t)c >= sizeof fw)
        return pv_error_set(err, PV_EINVAL, "data directory path too long: %s", cfg->data_dir);
    /* [server] db names the store when set, else <data>/provisor.db. */
    pv_provision_config pc = {.db_path = cfg->db != NULL ? cfg->db : db,
                              .master_key = key,
                              .firmware_dir = fw,
                              .files = files,
                              .reports_per_device = cfg->reports_per_device,
                              .report_max_bytes = cfg->report_max_bytes,
                              .reports_per_hour = cfg->reports_per_hour,
                              .audit_retention_days = cfg->audit_retention_days,
                              .audit_max_rows = cfg->audit_max_rows};
    int rc = pv_provision_policy_from_config(cfg, &pc.policy, err);
    if (rc == 0)
        rc = pv_provision_new(&pc, out, err);
    return rc;
}
