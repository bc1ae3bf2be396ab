/*
 * api_firmware.c — firmware images, upgrade plans, reports and the audit log
 * in the admin API; see api.h and docs/api.md.
 *
 * Firmware image files live in <data>/firmware/: the operator copies them
 * there (large multiplatform loads) or uploads them with PUT
 * /firmware/files/{file} (bounded by the admin listener's body limit).
 * Registering an image whose file is present computes its size and SHA-256
 * from the file, so the metadata cannot disagree with what is served.
 */
#include "core/alloc.h"
#include "core/buf.h"
#include "server/api_int.h"
#include "server/audit_query.h"
#include "server/firmware.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- firmware ---- */

static bool check_file_name(pv__api_ctx *ctx, const char *name, const char *field)
{
    size_t len = strlen(name);
    if (len == 0 || len > 128 || name[0] == '.' ||
        strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != len) {
        pv__api_fail(ctx, 422, "invalid", field,
                     "file name '%.130s': 1 to 128 letters, digits, '.', '_', '-', not starting "
                     "with '.'",
                     name);
        return false;
    }
    return true;
}

/* SHA-256 (hex) and size of <data>/firmware/<name>; PV_ENOENT when absent. */
static int hash_file(const char *data_dir, const char *name, char hex[65], int64_t *size)
{
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/firmware/%s", data_dir, name);
    if (n < 0 || (size_t)n >= sizeof path)
        return PV_ETOOBIG;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? PV_ENOENT : PV_EIO;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    char buf[65536];
    ssize_t r;
    *size = 0;
    while ((r = read(fd, buf, sizeof buf)) > 0) {
        EVP_DigestUpdate(md, buf, (size_t)r);
        *size += r;
    }
    unsigned char digest[32];
    EVP_DigestFinal_ex(md, digest, NULL);
    EVP_MD_CTX_free(md);
    close(fd);
    pv_hex_encode(digest, 32, hex);
    return r < 0 ? PV_EIO : 0;
}

static json_t *firmware_json(const pv_store_firmware *f)
{
    json_t *files = json_loads(f->files ? f->files : "[]", 0, NULL);
    return json_pack("{s:I, s:s, s:s, s:s, s:o, s:I, s:s, s:o, s:I}", "id", (json_int_t)f->id,
                     "model", f->model, "version", f->version, "file_name", f->file_name, "sha256",
                     pv__api_str_or_null(f->sha256), "size", (json_int_t)f->size, "kind",
                     f->kind ? f->kind : "bin", "files", files ? files : json_array(), "created_at",
                     (json_int_t)f->created_at);
}

void pv__api_firmware_list(pv__api_ctx *ctx)
{
    pv_store_page page;
    if (!pv__api_page(ctx, &page))
        return;
    char *model = pv__api_query(ctx, "model");
    pv_store_firmware *rows = NULL;
    size_t n = 0;
    pv_error err = {""};
    int rc = pv_store_firmware_list(ctx->store, model, &page, &rows, &n, &err);
    free(model);
    if (rc != 0) {
        pv__api_fail_store(ctx, rc, &err, "after");
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(items, firmware_json(&rows[i]));
    pv_store_firmwares_free(rows, n);
    pv__api_reply_page(ctx, items, &page);
}

static bool check_firmware_body(pv__api_ctx *ctx, pv_store_firmware *f, char hex[65])
{
    static const pv__api_field fields[] = {
        {"model", PV_API_STRING, true},     {"version", PV_API_STRING, true},
        {"file_name", PV_API_STRING, true}, {"kind", PV_API_STRING, false},
        {"sha256", PV_API_STRING, false},   {"size", PV_API_INT, false},
        {"files", PV_API_ARRAY, false},
    };
    if (!pv__api_body(ctx, fields, 7))
        return false;
    json_t *b = ctx->body;
    f->model = (char *)pv__api_str(b, "model");
    f->version = (char *)pv__api_str(b, "version");
    f->file_name = (char *)pv__api_str(b, "file_name");
    if (!check_file_name(ctx, f->file_name, "file_name"))
        return false;
    const char *kind = pv__api_str(b, "kind");
    size_t fl = strlen(f->file_name);
    if (kind == NULL) /* spec 6: multiplatform .loads manifests, SPA .bin images */
        kind = fl > 6 && strcmp(f->file_name + fl - 6, ".loads") == 0 ? "loads" : "bin";
    if (strcmp(kind, "loads") != 0 && strcmp(kind, "bin") != 0) {
        pv__api_fail(ctx, 422, "invalid", "kind", "kind '%.20s': want loads or bin", kind);
        return false;
    }
    f->kind = (char *)kind;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(b, "files"), i, v)
    {
        if (!json_is_string(v) || !check_file_name(ctx, json_string_value(v), "files")) {
            if (ctx->status == 0)
                pv__api_fail(ctx, 400, "invalid", "files", "files[%zu] must be a file name", i);
            return false;
        }
    }
    int64_t size = 0;
    const char *want = pv__api_str(b, "sha256");
    int rc = hash_file(ctx->data_dir, f->file_name, hex, &size);
    if (rc == 0) {
        if (want && strcasecmp(want, hex) != 0) {
            pv__api_fail(ctx, 422, "invalid", "sha256",
                         "sha256 says %.64s but firmware/%s hashes to %s", want, f->file_name, hex);
            return false;
        }
        f->size = size;
    } else if (rc == PV_ENOENT) {
        if (want == NULL || strlen(want) != 64 || strspn(want, "0123456789abcdef") != 64 ||
            json_object_get(b, "size") == NULL) {
            pv__api_fail(ctx, 422, "invalid", "file_name",
                         "firmware/%s is not in the data directory: upload it (PUT "
                         "/api/v1/firmware/files/%s) or give sha256 (64 lower-case hex) and size",
                         f->file_name, f->file_name);
            return false;
        }
        snprintf(hex, 65, "%s", want);
        f->size = json_integer_value(json_object_get(b, "size"));
    } else {
        pv__api_fail(ctx, 500, "io", "file_name", "firmware/%s cannot be read", f->file_name);
        return false;
    }
    f->sha256 = hex;
    return true;
}

void pv__api_firmware_create(pv__api_ctx *ctx)
{
    pv_store_firmware f = {0};
    char hex[65];
    if (!check_firmware_body(ctx, &f, hex))
        return;
    json_t *files = json_object_get(ctx->body, "files");
    char *files_text = files ? json_dumps(files, JSON_COMPACT) : pv_strdup("[]");
    f.files = files_text;
    int64_t id = 0;
    pv_error err = {""};
    int rc = pv_store_begin(ctx->store, &err);
    if (rc == 0)
        rc = pv_store_firmware_add(ctx->store, &f, ctx->now, &id, &err);
    free(files_text);
    if (rc != 0) {
        pv_store_rollback(ctx->store);
        pv__api_fail_store(ctx, rc, &err, rc == PV_EEXIST ? "version" : NULL);
        return;
    }
    char subject[160];
    snprintf(subject, sizeof subject, "firmware:%.60s/%.60s", f.model, f.version);
    if (!pv__api_commit(ctx, "firmware.create", subject, json_deep_copy(ctx->body)))
        return;
    pv_store_firmware got = {0};
    rc = pv_store_firmware_get(ctx->store, id, &got, &err);
    if (rc == 0)
        pv__api_reply(ctx, 201, firmware_json(&got));
    else
        pv__api_fail_store(ctx, rc, &err, NULL);
    pv_store_firmware_free(&got);
}

static bool parse_id(pv__api_ctx *ctx, int64_t *id)
{
    char *end = NULL;
    long long v = strtoll(ctx->params[0], &end, 10);
    if (ctx->params[0][0] == '\0' || *end != '\0' || v <= 0) {
        pv__api_fail(ctx, 404, "not_found", NULL, "'%.40s' is not an id", ctx->params[0]);
        return false;
    }
    *id = v;
    return true;
}

void pv__api_firmware_get(pv__api_ctx *ctx)
{
    int64_t id;
    if (!parse_id(ctx, &id))
        return;
    pv_store_firmware f = {0};
    pv_error err = {""};
    int rc = pv_store_firmware_get(ctx->store, id, &f, &err);
    if (rc == 0)
        pv__api_reply(ctx, 200, firmware_json(&f));
    else
        pv__api_fail_store(ctx, rc, &err, NULL);
    pv_store_firmware_free(&f);
}

/* Inside the deletion's transaction: the model's plan must still build its rule without the
 * image (as PUT /plans checks it is written), or every device of that model would fail to
 * render. True, with the 409 answered, when it does not. */
static bool plan_needs_image(pv__api_ctx *ctx, const pv_store_firmware *img)
{
    pv_store_plan plan = {0};
    pv_error err = {""};
    bool needed = false;
    if (pv_store_plan_get(ctx->store, img->model, &plan, &err) == 0) {
        pv_buf rule = {0};
        needed = pv_firmware_rule_for_plan(ctx->store, &plan, "http://check", &rule, &err) != 0;
        pv_buf_free(&rule);
        if (needed)
            pv__api_fail(ctx, 409, "in_use", NULL,
                         "firmware delete: the plan for %s installs %s (target %s): set or "
                         "delete the plan first (provisor plan set|delete)",
                         img->model, img->version, plan.target_version ? plan.target_version : "-");
    }
    pv_store_plan_free(&plan);
    return needed;
}

void pv__api_firmware_delete(pv__api_ctx *ctx)
{
    int64_t id;
    if (!parse_id(ctx, &id))
        return;
    pv_error err = {""};
    pv_store_firmware img = {0};
    int rc = pv_store_begin(ctx->store, &err);
    if (rc == 0)
        rc = pv_store_firmware_get(ctx->store, id, &img, &err);
    if (rc == 0)
        rc = pv_store_firmware_delete(ctx->store, id, &err);
    if (rc != 0) {
        pv_store_rollback(ctx->store);
        pv_store_firmware_free(&img);
        pv__api_fail_store(ctx, rc, &err, NULL);
        return;
    }
    if (plan_needs_image(ctx, &img)) {
        pv_store_rollback(ctx->store);
        pv_store_firmware_free(&img);
        return;
    }
    pv_store_firmware_free(&img);
    char subject[32];
    snprintf(subject, sizeof subject, "firmware:%lld", (long long)id);
    if (pv__api_commit(ctx, "firmware.delete", subject, NULL))
        pv__api_reply(ctx, 204, NULL);
}

/* Writes the body to <data>/firmware/<file> through a temporary file and
 * rename(2): a phone never downloads half an image. */
void pv__api_firmware_upload(pv__api_ctx *ctx)
{
    const char *name = ctx->params[0];
    if (!check_file_name(ctx, name, "file"))
        return;
    char dir[4096], tmp[4200], path[4200];
    int n = snprintf(dir, sizeof dir, "%s/firmware", ctx->data_dir);
    if (n < 0 || (size_t)n >= sizeof dir) {
        pv__api_fail(ctx, 500, "io", NULL, "data directory path too long");
        return;
    }
    snprintf(tmp, sizeof tmp, "%s/.upload-%s", dir, name);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        pv__api_fail(ctx, 500, "io", NULL, "cannot create firmware/: %s", strerror(errno));
        return;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    pv_slice b = ctx->req->body;
    size_t off = 0;
    while (fd >= 0 && off < b.len) {
        ssize_t w = write(fd, b.ptr + off, b.len - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    bool ok = fd >= 0 && off == b.len && fsync(fd) == 0;
    if (fd >= 0)
        ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        pv__api_fail(ctx, 500, "io", NULL, "cannot write firmware/%s: %s", name, strerror(e));
        return;
    }
    char hex[65];
    int64_t size = 0;
    if (hash_file(ctx->data_dir, name, hex, &size) != 0) {
        pv__api_fail(ctx, 500, "io", NULL, "cannot read back firmware/%s", name);
        return;
    }
    json_t *o =
        json_pack("{s:s, s:I, s:s}", "file_name", name, "size", (json_int_t)size, "sha256", hex);
    char subject[160];
    snprintf(subject, sizeof subject, "firmware-file:%s", name);
    pv_error err = {""};
    if (pv_store_begin(ctx->store, &err) == 0 &&
        pv__api_commit(ctx, "firmware.upload", subject, json_deep_copy(o)))
        pv__api_reply(ctx, 201, o);
    else {
        if (ctx->status == 0)
            pv__api_fail_store(ctx, PV_ESTORE, &err, NULL);
        json_decref(o);
    }
}

/* ---- upgrade plans ---- */

static json_t *plan_json(const pv_store_plan *p)
{
    json_t *stages = json_loads(p->stages ? p->stages : "[]", 0, NULL);
    return json_pack("{s:s, s:s, s:o, s:I, s:I}", "model", p->model, "target_version",
                     p->target_version, "stages", stages ? stages : json_array(), "version",
                     (json_int_t)p->version, "updated_at", (json_int_t)p->updated_at);
}

static int list_plans(pv__api_ctx *ctx, pv_store_page *page, json_t *items, pv_error *err)
{
    pv_store_plan *rows = NULL;
    size_t n = 0;
    int rc = pv_store_plan_list(ctx->store, page, &rows, &n, err);
    for (size_t i = 0; rc == 0 && i < n; i++)
        json_array_append_new(items, plan_json(&rows[i]));
    pv_store_plans_free(rows, n);
    return rc;
}

void pv__api_plans_list(pv__api_ctx *ctx)
{
    pv__api_list(ctx, list_plans);
}

void pv__api_plan_get(pv__api_ctx *ctx)
{
    pv_store_plan p = {0};
    pv_error err = {""};
    int rc = pv_store_plan_get(ctx->store, ctx->params[0], &p, &err);
    if (rc == 0)
        pv__api_reply(ctx, 200, plan_json(&p));
    else
        pv__api_fail_store(ctx, rc, &err, NULL);
    pv_store_plan_free(&p);
}

/* stages: the allowed direct steps [[from, to], ...] (multi-stage upgrades). */
static bool check_stages(pv__api_ctx *ctx, const json_t *stages)
{
    size_t i;
    json_t *s;
    json_array_foreach(stages, i, s)
    {
        if (!json_is_array(s) || json_array_size(s) != 2 || !json_is_string(json_array_get(s, 0)) ||
            !json_is_string(json_array_get(s, 1)) ||
            json_string_length(json_array_get(s, 0)) == 0 ||
            json_string_length(json_array_get(s, 1)) == 0) {
            pv__api_fail(ctx, 400, "invalid", "stages",
                         "stages[%zu] must be a pair of versions [\"from\", \"to\"]", i);
            return false;
        }
    }
    return true;
}

void pv__api_plan_put(pv__api_ctx *ctx)
{
    static const pv__api_field fields[] = {{"target_version", PV_API_STRING, true},
                                           {"stages", PV_API_ARRAY, false}};
    if (!pv__api_body(ctx, fields, 2))
        return;
    json_t *stages = json_object_get(ctx->body, "stages");
    if (stages && !check_stages(ctx, stages))
        return;
    char *stages_text = stages ? json_dumps(stages, JSON_COMPACT) : pv_strdup("[]");
    pv_store_plan p = {.model = ctx->params[0],
                       .target_version = (char *)pv__api_str(ctx->body, "target_version"),
                       .stages = stages_text};
    pv_error err = {""};
    int rc = pv_store_begin(ctx->store, &err);
    /* A plan is checked when written, as parameters are (docs/api.md): one that names a version
     * without a registered image, or whose steps do not reach the target, would make every
     * profile of the model fail to render at the phones' next resync. The probe is the rule a
     * rollout's creation builds (rollout.c), on the images in this transaction. */
    bool unusable = false;
    if (rc == 0) {
        pv_buf probe = {0};
        pv_error why = {""};
        if (pv_firmware_rule_for_plan(ctx->store, &p, "http://check", &probe, &why) != 0) {
            unusable = true;
            pv_store_rollback(ctx->store);
            pv__api_fail(ctx, 422, "invalid", "target_version", "%s", why.msg);
        }
        pv_buf_free(&probe);
    }
    if (rc == 0 && !unusable)
        rc = pv_store_plan_put(ctx->store, &p, ctx->now, &err);
    free(stages_text);
    if (unusable) {
        /* answered above */
    } else if (rc != 0) {
        pv_store_rollback(ctx->store);
        pv__api_fail_store(ctx, rc, &err, NULL);
    } else if (pv__api_commit(ctx, "plan.put", ctx->params[0], json_deep_copy(ctx->body))) {
        pv__api_plan_get(ctx);
    }
}

void pv__api_plan_delete(pv__api_ctx *ctx)
{
    pv_error err = {""};
    int rc = pv_store_begin(ctx->store, &err);
    if (rc == 0)
        rc = pv_store_plan_delete(ctx->store, ctx->params[0], &err);
    if (rc != 0) {
        pv_store_rollback(ctx->store);
        pv__api_fail_store(ctx, rc, &err, NULL);
    } else if (pv__api_commit(ctx, "plan.delete", ctx->params[0], NULL)) {
        pv__api_reply(ctx, 204, NULL);
    }
}

/* ---- reports ---- */

void pv__api_reports_list(pv__api_ctx *ctx)
{
    pv_store_page page;
    if (!pv__api_page(ctx, &page))
        return;
    char *mac_in = pv__api_query(ctx, "mac");
    char mac[13];
    bool ok = mac_in == NULL || pv__api_mac(ctx, mac_in, "mac", mac);
    pv_store_report *rows = NULL;
    size_t n = 0;
    pv_error err = {""};
    int rc = ok ? pv_store_report_list(ctx->store, mac_in ? mac : NULL, &page, &rows, &n, &err) : 0;
    free(mac_in);
    if (!ok)
        return;
    if (rc != 0) {
        pv__api_fail_store(ctx, rc, &err, "after");
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(items, pv__api_report_json(&rows[i], false));
    pv_store_reports_free(rows, n);
    pv__api_reply_page(ctx, items, &page);
}

void pv__api_report_get(pv__api_ctx *ctx)
{
    int64_t id;
    if (!parse_id(ctx, &id))
        return;
    pv_store_report r = {0};
    pv_error err = {""};
    int rc = pv_store_report_get(ctx->store, id, &r, &err);
    if (rc == 0)
        pv__api_reply(ctx, 200, pv__api_report_json(&r, true));
    else
        pv__api_fail_store(ctx, rc, &err, NULL);
    pv_store_report_free(&r);
}

/* ---- audit log ---- */

static bool query_time(pv__api_ctx *ctx, const char *name, int64_t *out)
{
    char *v = pv__api_query(ctx, name);
    if (v == NULL)
        return true;
    char *end = NULL;
    long long t = strtoll(v, &end, 10);
    bool ok = v[0] != '\0' && *end == '\0' && t >= 0;
    free(v);
    if (!ok)
        pv__api_fail(ctx, 400, "invalid", name, "%s must be a time in unix seconds", name);
    else
        *out = t;
    return ok;
}

static void add_entry(void *data, const pv_store_audit *a)
{
    json_t *detail = a->detail ? json_loads(a->detail, 0, NULL) : NULL;
    if (a->detail && detail == NULL)
        detail = json_string(a->detail);
    json_array_append_new(data,
                          json_pack("{s:I, s:I, s:s, s:s, s:o, s:o, s:o}", "id", (json_int_t)a->id,
                                    "at", (json_int_t)a->at, "actor", a->actor, "action", a->action,
                                    "subject", pv__api_str_or_null(a->subject), "content_hash",
                                    pv__api_str_or_null(a->content_hash), "detail",
                                    detail ? detail : json_null()));
}

/* Filtered by device (the subject), actor, action and time as the console's page is
 * (audit_query.h: a bounded scan, so a page may hold fewer than limit items). */
void pv__api_audit_list(pv__api_ctx *ctx)
{
    pv_store_page page;
    pv_audit_query q = {.until = INT64_MAX};
    if (!pv__api_page(ctx, &page) || !query_time(ctx, "since", &q.since) ||
        !query_time(ctx, "until", &q.until))
        return;
    size_t want = page.limit ? page.limit : 100;
    char *device = pv__api_query(ctx, "device");
    char *actor = pv__api_query(ctx, "actor");
    char *action = pv__api_query(ctx, "action");
    char mac[13];
    json_t *items = NULL;
    pv_error err = {""};
    int rc = 0;
    if (device == NULL || pv__api_mac(ctx, device, "device", mac)) {
        q.subject = device ? mac : NULL;
        q.actor = actor;
        q.action = action;
        items = json_array();
        rc = pv_audit_query_run(ctx->store, &q, &page, want, add_entry, items, &err);
    }
    free(device);
    free(actor);
    free(action);
    if (items == NULL)
        return;
    if (rc != 0) {
        json_decref(items);
        pv__api_fail_store(ctx, rc, &err, "after");
        return;
    }
    pv__api_reply_page(ctx, items, &page);
}
