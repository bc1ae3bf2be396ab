/*
 * render.h — a device's profile, from data to the bytes the phone receives
 * (DESIGN decisions 4 and 7).
 *
 *   1. layers: the parameter sets "global" → "model:<model>" →
 *      "account:<id>" → "device:<mac>" merged with pv_params_merge (later
 *      wins for what it states);
 *   2. placeholders: `{{field}}` in a value is replaced by a device or account
 *      field — mac, mac_upper, mac_colons, serial, model, account.id,
 *      account.name, account.customer — or by a field of the account's
 *      settings JSON named by a dotted path (`{{line1.user_id}}`,
 *      `{{speed_dials.0.number}}`; numbers as written, true/false as Yes/No).
 *      An unknown placeholder is an error naming the parameter, never blank;
 *   3. managed parameters, which win over every layer: GPP_SA (the key the
 *      phone decrypts with, or IKM_HTTP_Encrypt_Content under RFC 8188),
 *      GPP_B (the secret directory), Profile_Rule (the permanent URL),
 *      Upgrade_Rule (the model's firmware plan, firmware.h); then defaults
 *      that layers may override: Report_Rule and the DESIGN 8 storm schedule;
 *   4. the XML flat profile (or the legacy text form for models so
 *      configured), optional gzip, encryption with the serving secret (salted
 *      with the model's digest, or RFC 8188).
 *
 * Reading: everything a render needs — device, account, the four sets with
 * their versions and entries, the model's upgrade plan and images, and for
 * `device render` the current secret — comes from one statement
 * (pv_store_render_load): one round trip on PostgreSQL (issue 18).
 *
 * Caching: the content version — the versions of the four sets, of the
 * account and of the device, the serving and delivered secret ids, the
 * upgrade rule and the host — is the strong ETag, and may key a cache of
 * finished bodies (pv_render_cache) for a caller that renders repeatedly.
 * Encryption salts are derived from the version and the key, so one content
 * version always yields the same bytes. The provisioning loops keep finished
 * answers in their own cache (prov_cache.h), which spares an unchanged phone
 * even the one statement.
 */
#ifndef PV_SERVER_RENDER_H
#define PV_SERVER_RENDER_H

#include "core/buf.h"
#include "core/error.h"
#include "core/param.h"
#include "server/prov_policy.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct pv_render_cache pv_render_cache;

/*
 * A cache of up to entries rendered bodies holding at most max_bytes of them
 * (0: PV_RENDER_CACHE_BYTES): one loop thread's, not thread-safe. The byte
 * bound matters when profiles are large: 4 096 entries of 40 KB would be
 * 160 MB per loop. A body over an eighth of the budget is never kept.
 */
#define PV_RENDER_CACHE_BYTES (32u << 20)
pv_render_cache *pv_render_cache_new(size_t entries, size_t max_bytes);
void pv_render_cache_free(pv_render_cache *c);
/* The bytes of bodies held now. */
size_t pv_render_cache_bytes(const pv_render_cache *c);

typedef struct pv_render_options {
    const pv_prov_policy *policy; /* required */
    const char *host;             /* host phones use for us (rules); NULL: policy or "localhost" */
    const pv_store_secret *serve; /* encrypts the body; NULL: no encryption */
    const pv_store_secret *deliver; /* GPP_SA/GPP_B inside; NULL: none (and no Profile_Rule) */
    bool plain;                     /* serialized profile only: no gzip, no encryption */
    pv_render_cache *cache;         /* NULL: render every time */
} pv_render_options;

typedef struct pv_render_output {
    pv_buf body;
    char etag[72];    /* quoted strong entity tag */
    char hash[65];    /* SHA-256 of body, hex (audit: "content hash") */
    char version[64]; /* SHA-256 of the content version, first 32 hex digits */
    const char *content_type;
    const char *content_encoding; /* "aes128gcm" or NULL */
    bool cached;                  /* came from the cache */
} pv_render_output;

void pv_render_output_free(pv_render_output *o);

/*
 * What phone mac receives (`provisor device render MAC [--plain]`): with
 * opts->serve NULL and not plain, the device's current secret serves and is
 * delivered (a fetch from its current directory, without side effects).
 * PV_ENOENT for an unknown device; PV_EINVAL for a bad placeholder.
 */
int pv_render_device(pv_store *s, const char *mac, const pv_render_options *opts,
                     pv_render_output *out, pv_error *err);

/* pv_render_device on what pv_store_render_load read (the provisioning cache's
 * miss: the same statement also gave the device and its secrets). opts->serve
 * and deliver are taken as given. */
int pv_render_loaded(pv_store *s, const pv_store_render_input *in, const pv_render_options *opts,
                     pv_render_output *out, pv_error *err);

/* Steps 1–3 only: the merged parameters (for diffs against reports). */
int pv_render_params(pv_store *s, const pv_store_device *dev, const pv_render_options *opts,
                     pv_params *out, pv_error *err);

/*
 * Step 2 on one value: appends value with its placeholders replaced. dev is
 * required, account may be NULL (then account fields are errors). name is
 * the parameter's name, for the message.
 */
int pv_render_expand(const char *name, pv_slice value, const pv_store_device *dev,
                     const pv_store_account *account, pv_buf *out, pv_error *err);

#endif
