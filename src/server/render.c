/* render.c — layers, placeholders, managed parameters, encoding, cache; see render.h. */
#include "server/render.h"

#include "core/alloc.h"
#include "core/device_id.h"
#include "core/gzip.h"
#include "core/rfc8188.h"
#include "core/salted.h"
#include "core/xml_profile.h"
#include "server/firmware.h"
#include "server/rollout.h"
#include "server/keys.h"

#include <inttypes.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

/* ---- the per-loop cache ------------------------------------------------ */

typedef struct cache_entry {
    char mac[13];
    char version[64];
    char *body;
    size_t len;
    char etag[72], hash[65];
    const char *content_type, *content_encoding;
} cache_entry;

struct pv_render_cache {
    cache_entry *slots; /* direct-mapped by MAC: one slot per phone in the common case */
    size_t n;
    size_t bytes, max_bytes;
    size_t hand; /* the next slot emptied when over max_bytes (a clock sweep) */
};

pv_render_cache *pv_render_cache_new(size_t entries, size_t max_bytes)
{
    pv_render_cache *c = pv_calloc(1, sizeof *c);
    c->n = entries ? entries : 1;
    c->max_bytes = max_bytes ? max_bytes : PV_RENDER_CACHE_BYTES;
    c->slots = pv_calloc(c->n, sizeof *c->slots);
    return c;
}

size_t pv_render_cache_bytes(const pv_render_cache *c)
{
    return c ? c->bytes : 0;
}

static void cache_drop(pv_render_cache *c, cache_entry *e)
{
    if (e->body == NULL)
        return;
    c->bytes -= e->len;
    free(e->body);
    e->body = NULL;
    e->len = 0;
}

void pv_render_cache_free(pv_render_cache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++)
        free(c->slots[i].body);
    free(c->slots);
    free(c);
}

static cache_entry *cache_slot(pv_render_cache *c, const char *mac)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (const char *p = mac; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return &c->slots[h % c->n];
}

static bool cache_get(pv_render_cache *c, const char *mac, const char *version,
                      pv_render_output *out)
{
    if (c == NULL)
        return false;
    cache_entry *e = cache_slot(c, mac);
    if (e->body == NULL || strcmp(e->mac, mac) != 0 || strcmp(e->version, version) != 0)
        return false;
    pv_buf_reset(&out->body);
    pv_buf_append(&out->body, e->body, e->len);
    memcpy(out->etag, e->etag, sizeof out->etag);
    memcpy(out->hash, e->hash, sizeof out->hash);
    out->content_type = e->content_type;
    out->content_encoding = e->content_encoding;
    out->cached = true;
    return true;
}

static void cache_put(pv_render_cache *c, const char *mac, const pv_render_output *out)
{
    if (c == NULL)
        return;
    cache_entry *e = cache_slot(c, mac);
    cache_drop(c, e);
    size_t len = out->body.len;
    if (len > c->max_bytes / 8)
        return; /* one huge profile would push out many: rendered each time instead */
    for (size_t swept = 0; c->bytes + len > c->max_bytes && swept < c->n; swept++) {
        cache_drop(c, &c->slots[c->hand]);
        c->hand = (c->hand + 1) % c->n;
    }
    memcpy(e->mac, mac, sizeof e->mac);
    memcpy(e->version, out->version, sizeof e->version);
    e->body = pv_memdup0(out->body.data ? out->body.data : "", out->body.len);
    e->len = len;
    c->bytes += len;
    memcpy(e->etag, out->etag, sizeof e->etag);
    memcpy(e->hash, out->hash, sizeof e->hash);
    e->content_type = out->content_type;
    e->content_encoding = out->content_encoding;
}

void pv_render_output_free(pv_render_output *o)
{
    pv_buf_free(&o->body);
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[32];
    static const char hex[] = "0123456789abcdef";
    EVP_Digest(data, len, md, NULL, EVP_sha256(), NULL);
    for (size_t i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

/* ---- placeholders (DESIGN 4) ------------------------------------------ */

typedef struct fields {
    const pv_store_device *dev;
    const pv_store_account *acct;
    json_t *settings; /* parsed account settings, or NULL */
} fields;

static int fields_init(fields *f, const pv_store_device *dev, const pv_store_account *acct,
                       pv_error *err)
{
    *f = (fields){dev, acct, NULL};
    if (acct == NULL)
        return 0;
    json_error_t jerr;
    f->settings = json_loads(acct->settings ? acct->settings : "{}", 0, &jerr);
    if (f->settings == NULL)
        return pv_error_set(err, PV_EINVAL, "account %s: settings: line %d, column %d: %s",
                            acct->name, jerr.line, jerr.column, jerr.text);
    return 0;
}

static void fields_free(fields *f)
{
    json_decref(f->settings);
}

static int json_field(const fields *f, const char *param, const char *name, pv_buf *out,
                      pv_error *err)
{
    if (f->acct == NULL)
        return pv_error_set(err, PV_EINVAL,
                            "%s: placeholder {{%s}}: device %s belongs to no account", param, name,
                            f->dev->mac);
    json_t *at = f->settings;
    const char *p = strncmp(name, "settings.", 9) == 0 ? name + 9 : name;
    while (*p != '\0' && at != NULL) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        char key[128];
        if (len == 0 || len >= sizeof key)
            return pv_error_set(err, PV_EINVAL, "%s: placeholder {{%s}}: empty or long field name",
                                param, name);
        memcpy(key, p, len);
        key[len] = '\0';
        if (json_is_object(at)) {
            at = json_object_get(at, key);
        } else if (json_is_array(at)) {
            char *end;
            unsigned long i = strtoul(key, &end, 10);
            at = *end == '\0' ? json_array_get(at, i) : NULL;
        } else {
            at = NULL;
        }
        p += len + (dot != NULL);
    }
    if (at == NULL)
        return pv_error_set(err, PV_EINVAL,
                            "%s: unknown placeholder {{%s}} (not a device field, and account %s "
                            "has no such setting)",
                            param, name, f->acct->name);
    if (json_is_string(at))
        pv_buf_append(out, json_string_value(at), json_string_length(at));
    else if (json_is_integer(at))
        pv_buf_appendf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(at));
    else if (json_is_real(at))
        pv_buf_appendf(out, "%.17g", json_real_value(at));
    else if (json_is_boolean(at))
        pv_buf_append_str(out, json_is_true(at) ? "Yes" : "No"); /* spec 3.1 booleans */
    else if (!json_is_null(at))
        return pv_error_set(err, PV_EINVAL,
                            "%s: placeholder {{%s}} names an object or array, not a value", param,
                            name);
    return 0;
}

static int field(const fields *f, const char *param, const char *name, pv_buf *out, pv_error *err)
{
    const pv_store_device *d = f->dev;
    pv_mac mac;
    memcpy(mac.hex, d->mac, sizeof mac.hex);
    if (strcmp(name, "mac") == 0) {
        pv_buf_append_str(out, d->mac);
    } else if (strcmp(name, "mac_upper") == 0) {
        char up[13];
        pv_mac_format_upper(&mac, up);
        pv_buf_append_str(out, up);
    } else if (strcmp(name, "mac_colons") == 0) {
        char col[18];
        pv_mac_format_colons(&mac, col);
        pv_buf_append_str(out, col);
    } else if (strcmp(name, "serial") == 0 || strcmp(name, "model") == 0) {
        const char *v = name[0] == 's' ? d->serial : d->model;
        if (v == NULL)
            return pv_error_set(err, PV_EINVAL, "%s: placeholder {{%s}}: device %s has no %s",
                                param, name, d->mac, name);
        pv_buf_append_str(out, v);
    } else if (strncmp(name, "account.", 8) == 0 && f->acct != NULL &&
               (strcmp(name + 8, "id") == 0 || strcmp(name + 8, "name") == 0 ||
                strcmp(name + 8, "customer") == 0)) {
        if (name[8] == 'i')
            pv_buf_appendf(out, "%" PRId64, f->acct->id);
        else
            pv_buf_append_str(out, name[8] == 'n' ? f->acct->name : f->acct->customer);
    } else {
        return json_field(f, param, name, out, err);
    }
    return 0;
}

static int expand(const fields *f, const char *param, pv_slice v, pv_buf *out, pv_error *err)
{
    size_t i = 0;
    while (i < v.len) {
        const char *open = memmem(v.ptr + i, v.len - i, "{{", 2);
        if (open == NULL) {
            pv_buf_append(out, v.ptr + i, v.len - i);
            break;
        }
        size_t at = (size_t)(open - v.ptr);
        pv_buf_append(out, v.ptr + i, at - i);
        const char *close = memmem(open + 2, v.len - at - 2, "}}", 2);
        if (close == NULL)
            return pv_error_set(err, PV_ESYNTAX, "%s: column %zu: '{{' without '}}'", param,
                                at + 1);
        pv_slice name = pv_slice_trim(pv_slice_make(open + 2, (size_t)(close - open - 2)));
        char buf[160];
        if (name.len == 0 || name.len >= sizeof buf ||
            strspn(name.ptr, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") <
                name.len)
            return pv_error_set(err, PV_ESYNTAX,
                                "%s: column %zu: want a field name (letters, digits, '_', '.', "
                                "'-') inside {{ }}",
                                param, at + 3);
        memcpy(buf, name.ptr, name.len);
        buf[name.len] = '\0';
        int rc = field(f, param, buf, out, err);
        if (rc != 0)
            return rc;
        i = (size_t)(close - v.ptr) + 2;
    }
    return 0;
}

int pv_render_expand(const char *name, pv_slice value, const pv_store_device *dev,
                     const pv_store_account *account, pv_buf *out, pv_error *err)
{
    fields f;
    int rc = fields_init(&f, dev, account, err);
    if (rc == 0)
        rc = expand(&f, name, value, out, err);
    fields_free(&f);
    return rc;
}

/* ---- layers and managed parameters ------------------------------------ */

typedef struct ctx {
    pv_store *s;                     /* writes a rollout member's first serving (rollout.h) */
    const pv_store_render_input *in; /* everything read, in one statement */
    const pv_store_device *dev;
    const pv_store_account *acct; /* NULL: unassigned */
    const pv_render_options *o;
    const char *host;
    pv_buf upgrade_rule; /* empty: no plan */
    char scopes[PV_LAYERS][96];
    size_t layers[PV_LAYERS]; /* the layer of each scope */
    size_t nscopes;
} ctx;

static void add_scope(ctx *c, size_t layer, const char *prefix, const char *name)
{
    int n = snprintf(c->scopes[c->nscopes], sizeof c->scopes[0], "%s%s", prefix, name);
    if (n > 0 && (size_t)n < sizeof c->scopes[0])
        c->layers[c->nscopes++] = layer;
}

/* The scopes of the layers that apply, as pv_store_render_load spells them. */
static void scopes_of(ctx *c)
{
    char id[24];
    c->nscopes = 0;
    add_scope(c, PV_LAYER_GLOBAL, "global", "");
    if (c->dev->model != NULL)
        add_scope(c, PV_LAYER_MODEL, "model:", c->dev->model);
    if (c->acct != NULL) {
        (void)snprintf(id, sizeof id, "%" PRId64, c->acct->id);
        add_scope(c, PV_LAYER_ACCOUNT, "account:", id);
    }
    add_scope(c, PV_LAYER_DEVICE, "device:", c->dev->mac);
}

/* One layer, placeholders expanded, applied onto out (DESIGN 4). */
static int apply_layer(const fields *f, const pv_store_param_set *set, pv_params *out,
                       pv_error *err)
{
    int rc = 0;
    pv_buf v = {0};
    for (size_t i = 0; rc == 0 && i < set->n; i++) {
        const pv_store_param *e = &set->entries[i];
        pv_buf_reset(&v);
        rc = expand(f, e->name, pv_slice_from(e->value ? e->value : ""), &v, err);
        if (rc != 0)
            break;
        pv_param p = {.name = pv_slice_from(e->name),
                      .value = pv_buf_slice(&v),
                      .has_value = e->value != NULL};
        if (e->ua[0] != '\0' && pv_ua_parse(pv_slice_from(e->ua), &p.ua) != 0)
            p.ua = PV_UA_UNSET;
        rc = pv_params_apply(out, &p, err);
    }
    pv_buf_free(&v);
    return rc;
}

static void set_managed(pv_params *p, const char *name, const char *value, pv_ua ua)
{
    pv_params_set_str(p, name, value, ua);
}

static void firmware_base(const pv_prov_policy *pol, const char *host, pv_buf *out)
{
    /* Old SPA loads cannot upgrade over HTTPS (spec 6): prefer HTTP, then TFTP. */
    const char *scheme = pol->http_port ? "http" : pol->tftp_port ? "tftp" : "https";
    pv_prov_base_url(pol, host, scheme, out);
}

static int build_params(ctx *c, pv_params *out, pv_error *err)
{
    const pv_prov_policy *pol = c->o->policy;
    fields f;
    int rc = fields_init(&f, c->dev, c->acct, err);
    for (size_t i = 0; rc == 0 && i < c->nscopes; i++)
        rc = apply_layer(&f, &c->in->sets[c->layers[i]], out, err);
    fields_free(&f);
    if (rc != 0)
        return rc;
    const pv_store_secret *dl = c->o->deliver;
    pv_buf tmp = {0};
    if (dl != NULL) {
        char pass[65];
        pv_keys_passphrase(dl, pass);
        /* spec 12.2 (b): key in a secret register, directory in GPP_B. */
        pv_prov_encryption enc = pv_prov_model_encryption(pol, c->dev->model);
        if (enc == PV_PROV_ENC_RFC8188)
            set_managed(out, "IKM_HTTP_Encrypt_Content", pass, PV_UA_NA); /* spec 4.3 */
        else
            set_managed(out, "GPP_SA", pass, PV_UA_NA);
        set_managed(out, "GPP_B", dl->dir, PV_UA_NA);
        pv_prov_permanent_rule(pol, c->dev->model, c->host, &tmp);
        set_managed(out, "Profile_Rule", tmp.data, PV_UA_UNSET);
        /* spec 1.3: the SEC-PRV-1 answer (binding.h) set _B and _C to this URL so
         * that the binding resync fetches this profile at once; emptied here, so a
         * later resync fetches it once — unless a layer uses them. */
        static const char *const chained[] = {"Profile_Rule_B", "Profile_Rule_C"};
        for (size_t i = 0; i < sizeof chained / sizeof chained[0]; i++)
            if (pv_params_value(out, chained[i]) == NULL)
                set_managed(out, chained[i], "", PV_UA_UNSET);
        if (pol->report_rule && pv_params_value(out, "Report_Rule") == NULL) {
            pv_buf_reset(&tmp);
            if (enc == PV_PROV_ENC_SALTED)
                pv_buf_append_str(&tmp, "[--key $SA] "); /* spec 7.1 */
            pv_prov_base_url(pol, c->host, pol->permanent_scheme, &tmp);
            pv_buf_appendf(&tmp, "/%s/$MA.xml", pol->report_prefix);
            set_managed(out, "Report_Rule", tmp.data, PV_UA_UNSET);
        }
    }
    if (c->upgrade_rule.len > 0)
        set_managed(out, "Upgrade_Rule", c->upgrade_rule.data, PV_UA_UNSET);
    pv_prov_storm_defaults(pol, c->dev->model, out);
    pv_buf_free(&tmp);
    return 0;
}

static int load_upgrade_rule(ctx *c, pv_error *err)
{
    if (c->dev->model == NULL)
        return 0;
    pv_buf base = {0};
    firmware_base(c->o->policy, c->host, &base);
    bool governed = false; /* the newest rollout of the model decides (rollout.h) */
    const pv_store_render_input *in = c->in;
    int rc = pv_rollout_rule(c->s, in->rollout, c->dev->model, c->dev->mac, in->firmware,
                             in->nfirmware, base.data, &c->upgrade_rule, &governed, err);
    if (rc == 0 && !governed && in->plan != NULL)
        rc = pv_firmware_upgrade_rule(in->plan, in->firmware, in->nfirmware, base.data,
                                      &c->upgrade_rule, err);
    pv_buf_free(&base);
    return rc;
}

/* The content version (render.h "Caching"): everything the bytes depend on. */
static void content_version(ctx *c, pv_render_output *out)
{
    pv_buf key = {0};
    pv_buf_appendf(&key, "v1 dev=%s:%" PRId64 " acc=%" PRId64 ":%" PRId64, c->dev->mac,
                   c->dev->version, c->acct ? c->acct->id : 0, c->acct ? c->acct->version : 0);
    for (size_t i = 0; i < c->nscopes; i++) /* a layer without a set: version 0 */
        pv_buf_appendf(&key, " %s=%" PRId64, c->scopes[i], c->in->sets[c->layers[i]].version);
    const pv_store_secret *sv = c->o->serve, *dl = c->o->deliver;
    pv_buf_appendf(&key,
                   " serve=%" PRId64 " deliver=%" PRId64 " host=%s plain=%d up=", sv ? sv->id : 0,
                   dl ? dl->id : 0, c->host, c->o->plain);
    pv_buf_append(&key, c->upgrade_rule.data ? c->upgrade_rule.data : "", c->upgrade_rule.len);
    char hex[65];
    sha256_hex(key.data, key.len, hex);
    pv_buf_free(&key);
    memcpy(out->version, hex, 32);
    out->version[32] = '\0';
}

/* Step 4: serialize, gzip, encrypt (DESIGN 7). */
static int encode(ctx *c, const pv_params *p, pv_render_output *out, pv_error *err)
{
    const pv_prov_policy *pol = c->o->policy;
    pv_buf plain = {0}, packed = {0};
    /* spec 3.3: never the text source; SPA100/ATA19x: the router part nested (spec 3.1) */
    int rc = pv_xml_serialize_for_model(p, c->dev->model, &plain, err);
    const pv_store_secret *sv = c->o->serve;
    out->content_encoding = NULL;
    if (rc != 0 || c->o->plain || sv == NULL) {
        out->content_type = "application/xml";
        if (rc == 0)
            pv_buf_append(&out->body, plain.data, plain.len);
        pv_buf_free(&plain);
        return rc;
    }
    pv_slice data = pv_buf_slice(&plain);
    if (pol->gzip) { /* spec 3.2: compress before encrypting */
        rc = pv_gzip_compress(data, 9, &packed, err);
        data = pv_buf_slice(&packed);
    }
    char pass[65], seed[200];
    unsigned char salt[32];
    pv_keys_passphrase(sv, pass);
    /* Deterministic salt: one content version, one byte string (strong
     * ETag). It reveals only what the ETag already does: same content. */
    int n = snprintf(seed, sizeof seed, "salt %s %s", out->version, pass);
    EVP_Digest(seed, n > 0 && (size_t)n < sizeof seed ? (size_t)n : 0, salt, NULL, EVP_sha256(),
               NULL);
    if (rc == 0 && pv_prov_model_encryption(pol, c->dev->model) == PV_PROV_ENC_RFC8188) {
        rc = pv_rfc8188_encrypt(data, pv_slice_from(pass), PV_RFC8188_DEFAULT_RS,
                                pv_slice_make("", 0), salt, &out->body, err);
        out->content_encoding = "aes128gcm"; /* spec 4.3 */
    } else if (rc == 0) {
        rc = pv_salted_encrypt(data, pv_slice_from(pass), pv_prov_model_md(pol, c->dev->model),
                               salt, &out->body, err);
    }
    out->content_type = NULL; /* application/octet-stream (spec 3.5) */
    pv_buf_free(&plain);
    pv_buf_free(&packed);
    return rc;
}

static const char *host_of(const pv_render_options *o)
{
    if (o->host != NULL && o->host[0] != '\0')
        return o->host;
    if (o->policy->public_host != NULL && o->policy->public_host[0] != '\0')
        return o->policy->public_host;
    return "localhost";
}

int pv_render_params(pv_store *s, const pv_store_device *dev, const pv_render_options *opts,
                     pv_params *out, pv_error *err)
{
    pv_store_render_input in;
    int rc = pv_store_render_load(s, dev->mac, false, &in, err);
    /* The caller's device row (what it read) fills the placeholders. */
    ctx c = {.s = s, .in = &in, .dev = dev, .acct = in.account, .o = opts, .host = host_of(opts)};
    if (rc == 0) {
        scopes_of(&c);
        rc = load_upgrade_rule(&c, err);
    }
    if (rc == 0)
        rc = build_params(&c, out, err);
    pv_buf_free(&c.upgrade_rule);
    pv_store_render_input_free(&in);
    return rc;
}

int pv_render_loaded(pv_store *s, const pv_store_render_input *in, const pv_render_options *opts,
                     pv_render_output *out, pv_error *err)
{
    pv_render_options o = *opts;
    out->cached = false;
    pv_buf_reset(&out->body);
    const pv_store_device *dev = &in->device;
    ctx c = {.s = s, .in = in, .dev = dev, .acct = in->account, .o = &o, .host = host_of(opts)};
    if (o.plain)
        o.serve = NULL;
    scopes_of(&c);
    int rc = load_upgrade_rule(&c, err);
    if (rc == 0)
        content_version(&c, out);
    if (rc == 0 && !cache_get(o.cache, dev->mac, out->version, out)) {
        pv_params p = {0};
        rc = build_params(&c, &p, err);
        if (rc == 0)
            rc = encode(&c, &p, out, err);
        pv_params_free(&p);
        if (rc == 0) {
            sha256_hex(out->body.data ? out->body.data : "", out->body.len, out->hash);
            int n = snprintf(out->etag, sizeof out->etag, "\"%s\"", out->version);
            if (n < 0 || (size_t)n >= sizeof out->etag)
                out->etag[0] = '\0';
            cache_put(o.cache, dev->mac, out);
        }
    }
    pv_buf_free(&c.upgrade_rule);
    return rc;
}

int pv_render_device(pv_store *s, const char *mac, const pv_render_options *opts,
                     pv_render_output *out, pv_error *err)
{
    pv_render_options o = *opts;
    out->cached = false;
    pv_buf_reset(&out->body);
    /* One statement reads it all (issue 18: one round trip on PostgreSQL). */
    bool peek = o.serve == NULL && o.deliver == NULL;
    pv_store_render_input in;
    int rc = pv_store_render_load(s, mac, peek, &in, err);
    if (rc == 0 && peek && in.has_secret) {
        /* `device render`: what a fetch from the current directory returns
         * (pv_keys_peek). */
        o.serve = &in.current;
        o.deliver = &in.current;
    }
    if (rc == 0)
        rc = pv_render_loaded(s, &in, &o, out, err);
    pv_store_render_input_free(&in);
    return rc;
}
