/*
 * upgrade.c — firmware upgrades (spec 6).
 *
 * Upgrade_Rule is evaluated after every resync and when the
 * Upgrade_Error_Retry_Delay timer fires. An unconditional rule upgrades once:
 * the effective URL (scheme + server + port + file path, after expansion) is
 * remembered in the persistent state and not attempted again unless it
 * changes or a retry after failure is due. Multi-stage paths fall out of
 * this: after the reboot into B, `($SWVER lt B)? .../B | .../C` selects C.
 *
 * Images: the host downloads, the engine decides. The version is read from
 * an optional first line `PVFW version=V [model=M] [sha256=HEX]` (our
 * emulated images carry one; the hash covers what follows the line), else
 * from the file name (`sip88xx.11-3-1MPP-678.loads`, `spa504g-7.6.2.bin`). An
 * image is refused when it is empty, has no readable version, belongs to
 * another family or model, fails its hash, or is older than
 * Downgrade_Rev_Limit. An accepted image goes to the inactive slot, the
 * active slot is switched (one field in the persistent state: the atomic
 * switch) and the phone reboots; a load already in the inactive slot is
 * activated without a download (MPP).
 */
#include "agent/agent_int.h"

#include "core/alloc.h"
#include "core/version.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The version a file name announces: the stem, or what follows its first '-' or '_'. */
static bool version_from_name(const char *path, char *out, size_t size)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strcspn(base, "?");
    static const char *const exts[] = {".loads", ".bin", ".img", ".zup", ".sbn", ".cop"};
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        size_t el = strlen(exts[i]);
        if (n > el && strncmp(base + n - el, exts[i], el) == 0) {
            n -= el;
            break;
        }
    }
    const char *starts[3] = {base, memchr(base, '-', n), memchr(base, '_', n)};
    for (size_t i = 0; i < 3; i++) {
        if (starts[i] == NULL)
            continue;
        const char *s = starts[i] == base ? base : starts[i] + 1;
        size_t len = n - (size_t)(s - base);
        pv_version v;
        if (len > 0 && len < size && pv_version_parse(pv_slice_make(s, len), &v, NULL) == 0) {
            memcpy(out, s, len);
            out[len] = '\0';
            return true;
        }
    }
    return false;
}

static bool same_version(const char *x, const char *y)
{
    pv_version a, b;
    int cmp;
    if (pv_version_parse(pv_slice_from(x), &a, NULL) != 0 ||
        pv_version_parse(pv_slice_from(y), &b, NULL) != 0)
        return strcmp(x, y) == 0;
    return pv_version_compare(&a, &b, &cmp, NULL) == 0 && cmp == 0;
}

static void reboot_into(pv_agent *a, uint64_t now, const char *version)
{
    a->active ^= 1; /* the atomic switch: one byte of the persistent state */
    a->boot_reason = PV__BOOT_UPGRADE;
    pv__set_err(a, "%s", version); /* spec 2.2: after an upgrade ERR carries the new version */
    free(a->upgerr);
    a->upgerr = pv_strdup("");
    a->upgrade_failures = 0;
    pv__log(a, now, 6, "Log_Upgrade_Success_Msg");
    pv__op_free(a);
    pv__persist(a);
    pv__queue(a, PV_AGENT_ACT_REBOOT);
    a->rebooting = true;
}

static void fail(pv_agent *a, uint64_t now)
{
    free(a->upgerr);
    a->upgerr = pv_strdup(a->err ? a->err : ""); /* spec 2.2: UPGERR */
    pv__log(a, now, 3, "Log_Upgrade_Failure_Msg");
    pv__op_free(a);
    a->upgrade_failures++;
    uint64_t ms;
    /* spec 6: retry on the schedule; 0 = the failure counts as success */
    if (pv__schedule_ms(a, "Upgrade_Error_Retry_Delay", a->upgrade_failures - 1, &ms))
        a->upgrade_due = now + ms;
    else
        a->upgrade_due = PV_AGENT_NEVER;
    if (pv__get_bool(a, "Resync_After_Upgrade_Attempt") && a->resync_due > now) {
        a->resync_due = now; /* spec 5.1 */
        a->resync_prvst = 0;
    }
    pv__persist(a);
}

/* The selected URL of Upgrade_Rule, or of the one-shot; PV_ENOENT for none. */
static int select_url(pv_agent *a, uint64_t now, const char *oneshot, pv_url *url, pv_error *err)
{
    if (oneshot != NULL) {
        int rc = pv_url_parse(pv_slice_from(oneshot), 0, url, err);
        if (rc == 0 && url->dhcp_host)
            rc = pv_error_set(err, PV_EINVAL, "an upgrade URL must name its server (spec 1.2)");
        return rc;
    }
    pv__vars_ctx ctx;
    pv_macro_env env = pv__macro_env(a, now, &ctx);
    pv_rule_result res;
    const char *text = pv__agent_get(a, "Upgrade_Rule");
    int rc = pv_rule_eval(PV_RULE_UPGRADE, pv_slice_from(text ? text : ""), &env, &res, err);
    if (rc == 0 && res.outcome == PV_RULE_SELECTED) {
        for (size_t i = 0; i < res.nassign; i++)
            pv__set_value(a, res.assign[i].name, res.assign[i].value);
        if (res.ntargets > 0 && res.targets[0].has_url) {
            *url = res.targets[0].url; /* taken over */
            memset(&res.targets[0].url, 0, sizeof res.targets[0].url);
        } else {
            rc = PV_ENOENT;
        }
    } else if (rc == 0) {
        rc = PV_ENOENT;
    }
    pv_rule_result_free(&res);
    return rc;
}

int pv__upgrade_start(pv_agent *a, uint64_t now, bool retry, const char *oneshot, pv_error *err)
{
    if (a->op != NULL)
        return pv_error_set(err, PV_EBUSY, "another operation is in progress");
    if (!pv__get_bool(a, "Upgrade_Enable"))
        return pv_error_set(err, PV_EACCES, "Upgrade_Enable is No");
    pv_url url = {0};
    int rc = select_url(a, now, oneshot, &url, err);
    if (rc != 0) {
        pv_url_free(&url);
        return rc;
    }
    pv__op *op = pv_calloc(1, sizeof *op);
    op->kind = PV__OP_UPGRADE;
    op->retry = retry;
    a->op = op;
    op->f.purpose = PV_AGENT_FOR_FIRMWARE;
    op->f.method = "GET";
    rc = pv__fetch_prepare(a, &op->f, &url, false, err);
    pv_url_free(&url);
    if (rc != 0) {
        pv__op_free(a);
        return rc;
    }
    pv_buf eff = {0}; /* spec 6: scheme + server + port + file path */
    pv_buf_appendf(&eff, "%s://%s:%u%.*s", pv_scheme_name(op->f.scheme), op->f.host,
                   (unsigned)op->f.port, (int)strcspn(op->f.path, "?"), op->f.path);
    bool seen = a->last_upgrade_url != NULL && strcmp(a->last_upgrade_url, eff.data) == 0;
    if (oneshot == NULL && !retry && seen) {
        pv_buf_free(&eff);
        pv__op_free(a);
        return pv_error_set(err, PV_ENOENT, "already attempted");
    }
    if (oneshot == NULL) {
        free(a->last_upgrade_url);
        a->last_upgrade_url = pv_buf_take(&eff, NULL);
        pv__persist(a);
    }
    pv_buf_free(&eff);
    bool named = version_from_name(op->f.path, op->version, sizeof op->version);
    if (named && same_version(op->version, pv_agent_swver(a))) {
        pv__op_free(a); /* the load is already running: nothing to do */
        return pv_error_set(err, PV_ENOENT, "already running");
    }
    a->upgst = retry ? 2 : 1;
    a->last_upgrade = now;
    if (named && a->slot[!a->active].version[0] != '\0' &&
        same_version(a->slot[!a->active].version, op->version)) {
        pv__log(a, now, 6, "Log_Upgrade_Request_Msg");
        reboot_into(a, now, op->version); /* MPP: already in the inactive partition */
        return 0;
    }
    pv__log(a, now, 6, "Log_Upgrade_Request_Msg");
    pv__fetch_send(a, now, &op->f);
    return 0;
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* `PVFW version=V model=M sha256=H`: copies field key's value into out. */
static bool header_field(const char *line, size_t len, const char *key, char *out, size_t size)
{
    size_t kl = strlen(key);
    for (size_t i = 0; i + kl + 1 <= len; i++) {
        if ((i == 0 || line[i - 1] == ' ') && strncmp(line + i, key, kl) == 0 &&
            line[i + kl] == '=') {
            size_t s = i + kl + 1, e = s;
            while (e < len && line[e] != ' ' && line[e] != '\r')
                e++;
            if (e - s >= size)
                return false;
            memcpy(out, line + s, e - s);
            out[e - s] = '\0';
            return true;
        }
    }
    return false;
}

/* The MPP load prefix of our model: CP-8841-3PCC → sip88 (spec 6 file names). */
static bool model_matches(const pv_agent *a, const char *model, size_t len)
{
    if (len == 0)
        return true;
    if (len == strlen(a->model) && strncmp(model, a->model, len) == 0)
        return true;
    char prefix[8];
    if (strncmp(a->model, "CP-", 3) != 0 || strlen(a->model) < 5)
        return false;
    snprintf(prefix, sizeof prefix, "sip%.2s", a->model + 3); /* fits: 5 bytes and NUL */
    return len >= 5 && strncmp(model, prefix, 5) == 0;
}

static bool verify(pv_agent *a, const pv_agent_response *r, pv__slot *slot)
{
    const char *body = r->body;
    size_t len = r->body_len;
    char version[64] = "", model[32] = "", hash[65] = "";
    if (len == 0) {
        pv__set_err(a, "Zero file size");
        return false;
    }
    if (len >= 5 && memcmp(body, "PVFW ", 5) == 0) {
        const char *nl = memchr(body, '\n', len);
        size_t hl = nl ? (size_t)(nl - body) : len;
        header_field(body, hl, "version", version, sizeof version);
        header_field(body, hl, "model", model, sizeof model);
        header_field(body, hl, "sha256", hash, sizeof hash);
        body += nl ? hl + 1 : hl;
        len -= nl ? hl + 1 : hl;
    }
    if (version[0] == '\0')
        snprintf(version, sizeof version, "%s", a->op->version); /* both < 64 bytes */
    pv_version v, cur;
    int cmp;
    pv_error err;
    if (version[0] == '\0' || pv_version_parse(pv_slice_from(version), &v, &err) != 0) {
        pv__set_err(a, "corrupt file: no firmware version in the image or its name");
        return false;
    }
    if (pv_version_parse(pv_slice_from(pv_agent_swver(a)), &cur, NULL) == 0 &&
        pv_version_compare(&v, &cur, &cmp, NULL) != 0) {
        pv__set_err(a, "corrupt file: %s is not a load for this device family", version);
        return false;
    }
    if (!model_matches(a, model[0] ? model : v.text + v.model.off,
                       model[0] ? strlen(model) : v.model.len)) {
        pv__set_err(a, "corrupt file: %s is not a load for %s", version, a->model);
        return false;
    }
    char got[65];
    sha256_hex(body, len, got);
    if (hash[0] != '\0' && strcmp(hash, got) != 0) {
        pv__set_err(a, "corrupt file: sha256 mismatch");
        return false;
    }
    const char *limit = pv__agent_get(a, "Downgrade_Rev_Limit");
    pv_version lim;
    if (limit != NULL && *limit != '\0' &&
        pv_version_parse(pv_slice_from(limit), &lim, NULL) == 0 &&
        pv_version_compare(&v, &lim, &cmp, NULL) == 0 && cmp < 0) {
        pv__set_err(a, "%s is below Downgrade_Rev_Limit %s", version, limit); /* spec 6 */
        return false;
    }
    snprintf(slot->version, sizeof slot->version, "%s", version);
    memcpy(slot->sha256, got, sizeof got);
    slot->size = len;
    return true;
}

void pv__upgrade_answer(pv_agent *a, uint64_t now, const pv_agent_response *r)
{
    switch (pv__fetch_answer(a, now, &a->op->f, r)) {
    case PV__FETCH_AGAIN:
        return;
    case PV__FETCH_FAIL:
    case PV__FETCH_FNF:
        fail(a, now);
        return;
    case PV__FETCH_OK:
        break;
    }
    pv__slot slot = {0};
    if (!verify(a, r, &slot)) {
        fail(a, now);
        return;
    }
    a->slot[!a->active] = slot; /* written to the inactive slot first, then switched */
    reboot_into(a, now, slot.version);
}
