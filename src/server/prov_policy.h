/*
 * prov_policy.h — the provisioning policy's settings, in one plain struct.
 *
 * `provisor serve` builds a pv_prov_policy from its configuration
 * ([provisioning] section, docs/configuration.md) and hands it to the
 * provisioning handler (provision.h); `provisor device render` builds the
 * same struct from the same configuration, so that it prints exactly what a
 * phone would receive. Every module of the policy (bootstrap, binding,
 * render, keys, firmware, reports) reads its knobs from here and nothing
 * else, which keeps them testable with a struct literal.
 *
 * Ownership: the strings are borrowed (from the pv_config, or literals in
 * tests) and must outlive every user of the policy. Read-only after setup, so
 * one policy is shared by every loop thread.
 */
#ifndef PV_SERVER_PROV_POLICY_H
#define PV_SERVER_PROV_POLICY_H

#include "core/buf.h"
#include "core/salted.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    PV_PROV_ENC_SALTED,  /* OpenSSL enc AES-256-CBC, `[--key $SA]` (spec 4.1, 4.2) */
    PV_PROV_ENC_RFC8188, /* aes128gcm with IKM_HTTP_Encrypt_Content (spec 4.3); HTTP(S) only */
} pv_prov_encryption;

typedef struct pv_prov_policy {
    /* Where phones reach us. public_host NULL/empty: the address the request
     * came to (or "localhost" when there is no request, e.g. device render). */
    const char *public_host;
    unsigned tftp_port, http_port, https_port; /* 0 = that listener is off */

    const char *binding_prefix; /* DESIGN 5: "/<prefix>/<code>", default "init" */
    const char *
        bootstrap_url; /* Profile_Rule of the factory bootstrap; NULL = https://HOST:PORT/$MA.xml */
    const char *permanent_scheme; /* "http", "https" or "tftp": SEC-PRV-2 Profile_Rule scheme */
    /* spec 4.4: SPA phones trust only Cisco's server CA, never ours (binding.h "legacy") */
    const char *legacy_bootstrap_url; /* their bootstrap Profile_Rule; NULL: derived */
    bool legacy_plain_key; /* their first key over plain HTTP/TFTP, once (docs/security.md) */
    const char *report_prefix; /* report uploads: "/<prefix>/<mac>[-kind].xml"; default "report" */
    bool report_rule;          /* add a default Report_Rule to rendered profiles */

    int64_t rotation_period; /* seconds between key/directory rotations; 0 = never */
    pv_prov_encryption encryption; /* what MPP phones get; see pv_prov_model_encryption */
    bool gzip;                 /* gzip before encryption (spec 3.2) */
    const char *sha256_models; /* comma list of models using EVP digest sha256 ("*" = all MPP) */
    const char *md5_models;    /* comma list forcing md5 */
    const char *text_models;   /* refused when set: phones never read the text source (spec 3.3) */
    const char *known_models;  /* comma list a bulk import accepts besides models.h's table */

    /* DESIGN 8: storm defaults put in every bootstrap and rendered profile
     * unless a parameter layer says otherwise. */
    const char *resync_error_retry_delay; /* e.g. "30+30,60+60,120+120,240+240,600+600" */
    unsigned resync_random_delay_s;       /* spread of the first resync, in seconds */
    const char *resync_periodic;          /* e.g. "3600+600" */

    unsigned queue_deadline_ms;  /* how long a profile request may wait for rendering */
    unsigned render_concurrency; /* renders running at once per loop before queueing */
    unsigned firmware_wave;      /* firmware transfers started per wave_ms */
    unsigned firmware_wave_ms;
    unsigned render_rate;     /* profiles rendered per second across the node; 0 = no limit */
    unsigned handshake_rate;  /* TLS handshakes started per second across the node; 0 = none */
    unsigned admission_queue; /* requests waiting per loop and class (net/admission.h) */
    unsigned cache_entries;  /* devices whose finished profiles are kept per loop */
    unsigned cache_check_ms; /* how long another process's change may go unseen (prov_cache.h) */
    unsigned seen_interval_s; /* a repeat answer within it records nothing (prov_audit.h) */
} pv_prov_policy;

/* Fills the defaults above (prefix "init", scheme http, rotation 30 days...). */
void pv_prov_policy_defaults(pv_prov_policy *p);

/* True when model appears in the comma-separated list (case-insensitive; "*" matches all). */
bool pv_prov_model_in(const char *list, const char *model);

/* The EVP_BytesToKey digest for a model (DESIGN 7): sha256 for multiplatform
 * ("CP-...-3PCC") unless listed in md5_models, md5 for SPA/ATA unless listed
 * in sha256_models. */
pv_md pv_prov_model_md(const pv_prov_policy *p, const char *model);
/* True for multiplatform desk phones (CP-xxxx-3PCC). */
bool pv_prov_model_is_mpp(const char *model);

/* The encryption a model's phones read: aes128gcm (RFC 8188, MPP >= 11.2(3))
 * only for multiplatform desk phones when the policy asks for it; SPA and
 * ATA phones of a mixed fleet get AES-256-CBC, which they can read (spec 4.1,
 * 4.3). */
pv_prov_encryption pv_prov_model_encryption(const pv_prov_policy *p, const char *model);

/* Appends "scheme://host[:port]" for a scheme ("http", "https", "tftp"), the
 * port omitted when it is the scheme's default (spec 1.2). */
void pv_prov_base_url(const pv_prov_policy *p, const char *host, const char *scheme, pv_buf *out);

/* The Profile_Rule of SEC-PRV-1/2 (DESIGN 5): `[--key $SA] http://HOST/$B/$MA.cfg`;
 * without `--key` when the model gets RFC 8188 (the IKM then decrypts, spec 4.3). */
void pv_prov_permanent_rule(const pv_prov_policy *p, const char *model, const char *host,
                            pv_buf *out);

/*
 * DESIGN 8 storm defaults for model: Resync_Random_Delay (20 s units on
 * SPA/ATA, seconds on multiplatform — DESIGN, open questions),
 * Resync_Error_Retry_Delay and Resync_Periodic, added to p only where
 * absent, so a parameter layer always wins.
 */
struct pv_params;
void pv_prov_storm_defaults(const pv_prov_policy *pol, const char *model, struct pv_params *p);

#endif
