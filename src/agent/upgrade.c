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
    a->rebooting = true; /* nothing new starts: the next boot runs the new load */
    if (a->call_active) {
        /* spec 6: a device reboots at the end of an upgrade, but never in a
         * call — a one-shot /admin/upgrade, or a call that began during the
         * download, waits for the hang-up (pv_agent_set_call) */
        a->reboot_after_call = true;
        return;
    }
    pv__queue(a, PV_AGENT_ACT_REBOOT);
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

/* Upgrade_Rule as it would run on load version (the host asks for SWVER). */
typedef struct as_version {
    pv_macro_env base;
    const char *version;
} as_version;

static bool lookup_as_version(void *ctx, const char *name, pv_buf *out)
{
    const as_version *v = ctx;
    if (strcmp(name, "SWVER") == 0) {
        pv_buf_append_str(out, v->version);
        return true;
    }
    return v->base.lookup(v->base.ctx, name, out);
}

/*
 * spec 6, Sipura loop guard: an upgrade chosen by a condition fails when the
 * new load would satisfy that condition again, since the phone would then
 * upgrade forever (`(! 1.0.2)? /spa.bin` serving 1.0.1). SPA family only.
 */
static bool loop_guard_holds(pv_agent *a, uint64_t now, const char *version)
{
    if (a->defs->family != PV_AGENT_SPA || a->op->loop_alt == 0)
        return true;
    pv__vars_ctx ctx;
    as_version v = {pv__macro_env(a, now, &ctx), version};
    pv_macro_env env = {lookup_as_version, &v};
    const char *text = pv__agent_get(a, "Upgrade_Rule");
    pv_rule_result res;
    pv_error err;
    bool again = pv_rule_eval(PV_RULE_UPGRADE, pv_slice_from(text ? text : ""), &env, &res, &err) ==
                     0 &&
                 res.outcome == PV_RULE_SELECTED && res.chosen == a->op->loop_alt;
    pv_rule_result_free(&res);
    if (again)
        pv__set_err(a, "upgrade loop: %s would satisfy the condition that chose it again",
                    version);
    return !again;
}

/* The selected URL of Upgrade_Rule, or of the one-shot; PV_ENOENT for none.
 * *alt is the chosen alternative when a condition chose it, else 0. */
static int select_url(pv_agent *a, uint64_t now, const char *oneshot, pv_url *url, size_t *alt,
                      pv_error *err)
{
    *alt = 0;
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
    /* spec 1.2: multiplatform firmware (MPP phones, ATA 19x) wants a server;
     * SPA and Sipura loads take the DHCP one */
    unsigned flags = a->defs->family != PV_AGENT_SPA ? PV_RULE_UPGRADE_NEEDS_SERVER : 0;
    int rc = pv_rule_eval_flags(PV_RULE_UPGRADE, flags, pv_slice_from(text ? text : ""), &env,
                                &res, err);
    if (rc == 0 && res.outcome == PV_RULE_SELECTED) {
        for (size_t i = 0; i < res.nassign; i++)
            pv__set_value(a, res.assign[i].name, res.assign[i].value);
        if (res.ntargets > 0 && res.targets[0].has_url) {
            *alt = res.chosen_conditional ? res.chosen : 0;
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
    size_t alt = 0;
    int rc = select_url(a, now, oneshot, &url, &alt, err);
    if (rc != 0) {
        pv_url_free(&url);
        return rc;
    }
    pv__op *op = pv_calloc(1, sizeof *op);
    op->kind = PV__OP_UPGRADE;
    op->retry = retry;
    op->loop_alt = alt;
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
    op->f.request_log = "Log_Upgrade_Request_Msg"; /* once $SERVIP is known (resolve.c) */
    pv__fetch_send(a, now, &op->f);
    return 0;
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
    pv_hex_encode(md, 32, out);
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

/* Splits off a `PVFW version=V [model=M] [sha256=H]` first line; false when there is none. */
static bool read_header(const char **body, size_t *len, char version[64], char model[32],
                        char hash[65])
{
    if (*len < 5 || memcmp(*body, "PVFW ", 5) != 0)
        return false;
    const char *nl = memchr(*body, '\n', *len);
    size_t hl = nl ? (size_t)(nl - *body) : *len;
    header_field(*body, hl, "version", version, 64);
    header_field(*body, hl, "model", model, 32);
    header_field(*body, hl, "sha256", hash, 65);
    *body += nl ? hl + 1 : hl;
    *len -= nl ? hl + 1 : hl;
    return true;
}

/* What every load must be: a version of the phone's family and model, not below
 * Downgrade_Rev_Limit (spec 6). model "" : the one the version names. */
static bool check_version(pv_agent *a, const char *version, const char *model)
{
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
    const char *limit = pv__agent_get(a, "Downgrade_Rev_Limit");
    pv_version lim;
    if (limit != NULL && *limit != '\0' &&
        pv_version_parse(pv_slice_from(limit), &lim, NULL) == 0 &&
        pv_version_compare(&v, &lim, &cmp, NULL) == 0 && cmp < 0) {
        pv__set_err(a, "%s is below Downgrade_Rev_Limit %s", version, limit); /* spec 6 */
        return false;
    }
    return true;
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
    read_header(&body, &len, version, model, hash);
    if (version[0] == '\0')
        snprintf(version, sizeof version, "%s", a->op->version); /* both < 64 bytes */
    if (!check_version(a, version, model))
        return false;
    char got[65];
    sha256_hex(body, len, got);
    if (hash[0] != '\0' && strcmp(hash, got) != 0) {
        pv__set_err(a, "corrupt file: sha256 mismatch");
        return false;
    }
    snprintf(slot->version, sizeof slot->version, "%s", version);
    memcpy(slot->sha256, got, sizeof got);
    slot->size = len;
    return true;
}

/* ---- MPP `.loads` manifests (spec 6) ---- */

#define MANIFEST_MAX_FILES 16
#define MANIFEST_MAX_BYTES 65536

static bool file_name_ok(const char *s, size_t n)
{
    if (n == 0 || n > 128 || s[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/*
 * A manifest as the server stores it next to the files it lists
 * (docs/agent.md): text, one bare file name per line, blank lines and '#'
 * comments allowed, at most 16 files. False: the body is not one (then it is
 * the image itself).
 */
static bool parse_manifest(pv__op *op, const char *body, size_t len)
{
    if (len == 0 || len > MANIFEST_MAX_BYTES)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)body[i];
        if ((c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c >= 0x7f)
            return false; /* binary: an image */
    }
    char *files[MANIFEST_MAX_FILES];
    size_t n = 0;
    bool ok = true;
    for (size_t i = 0; i < len && ok;) {
        size_t e = i;
        while (e < len && body[e] != '\n')
            e++;
        size_t s = i, t = e;
        while (s < t && (body[s] == ' ' || body[s] == '\t'))
            s++;
        while (t > s && (body[t - 1] == ' ' || body[t - 1] == '\t' || body[t - 1] == '\r'))
            t--;
        if (t > s && body[s] != '#') {
            ok = n < MANIFEST_MAX_FILES && file_name_ok(body + s, t - s);
            if (ok)
                files[n++] = pv_strndup(body + s, t - s);
        }
        i = e + 1;
    }
    if (!ok || n == 0) {
        for (size_t i = 0; i < n; i++)
            free(files[i]);
        return false;
    }
    op->files = pv_calloc(n, sizeof *op->files);
    memcpy(op->files, files, n * sizeof *files);
    op->nfiles = n;
    return true;
}

static void fetch_next_file(pv_agent *a, uint64_t now)
{
    pv__op *op = a->op;
    pv__fetch_sibling(&op->f, op->files[op->next_file]); /* spec 6: the same directory */
    pv__fetch_send(a, now, &op->f);
}

/* The manifest arrived: check its version first, then fetch what it lists. */
static bool start_manifest(pv_agent *a, uint64_t now, const pv_agent_response *r)
{
    pv__op *op = a->op;
    size_t pl = strcspn(op->f.path, "?");
    if (pl < 6 || strncmp(op->f.path + pl - 6, ".loads", 6) != 0 ||
        (r->body_len >= 5 && memcmp(r->body, "PVFW ", 5) == 0) ||
        !parse_manifest(op, r->body, r->body_len))
        return false;
    if (!check_version(a, op->version, "") || !loop_guard_holds(a, now, op->version)) {
        fail(a, now);
        return true;
    }
    sha256_hex(r->body, r->body_len, op->manifest_sha256);
    fetch_next_file(a, now);
    return true;
}

/* One listed file arrived: non-empty, and if it carries a PVFW line, of this load. */
static void manifest_file_done(pv_agent *a, uint64_t now, const pv_agent_response *r)
{
    pv__op *op = a->op;
    const char *name = op->files[op->next_file];
    const char *body = r->body;
    size_t len = r->body_len;
    char version[64] = "", model[32] = "", hash[65] = "", got[65];
    if (len == 0) {
        pv__set_err(a, "Zero file size: %s", name);
        fail(a, now);
        return;
    }
    if (read_header(&body, &len, version, model, hash)) {
        sha256_hex(body, len, got);
        if ((version[0] != '\0' && !same_version(version, op->version)) ||
            (hash[0] != '\0' && strcmp(hash, got) != 0)) {
            pv__set_err(a, "corrupt file: %s does not belong to %s", name, op->version);
            fail(a, now);
            return;
        }
    }
    op->files_size += r->body_len;
    if (++op->next_file < op->nfiles) {
        fetch_next_file(a, now);
        return;
    }
    pv__slot slot = {.size = op->files_size};
    snprintf(slot.version, sizeof slot.version, "%s", op->version);
    memcpy(slot.sha256, op->manifest_sha256, sizeof slot.sha256);
    a->slot[!a->active] = slot; /* every file in the inactive slot, then the switch */
    reboot_into(a, now, slot.version);
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
    if (a->op->files != NULL) {
        manifest_file_done(a, now, r);
        return;
    }
    if (start_manifest(a, now, r))
        return;
    pv__slot slot = {0};
    if (!verify(a, r, &slot) || !loop_guard_holds(a, now, slot.version)) {
        fail(a, now);
        return;
    }
    a->slot[!a->active] = slot; /* written to the inactive slot first, then switched */
    reboot_into(a, now, slot.version);
}
