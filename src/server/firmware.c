/* firmware.c — multi-stage upgrade plans to Upgrade_Rule; see firmware.h. */
#include "server/firmware.h"

#include "core/alloc.h"
#include "core/version.h"

#include <jansson.h>
#include <string.h>

#define MAX_STAGES 16 /* a chain longer than this is a mistake in the plan */

typedef struct step {
    const char *from, *to;
} step;

static const pv_store_firmware *image_for(const pv_store_firmware *images, size_t n,
                                          const char *version)
{
    for (size_t i = 0; i < n; i++)
        if (images[i].version != NULL && strcmp(images[i].version, version) == 0)
            return &images[i];
    return NULL;
}

static int version_cmp(const char *model, const char *a, const char *b, int *cmp, pv_error *err)
{
    pv_version va, vb;
    pv_error e;
    if (pv_version_parse(pv_slice_from(a), &va, &e) != 0)
        return pv_error_set(err, PV_EINVAL, "plan for %s: version '%s': %s", model, a, e.msg);
    if (pv_version_parse(pv_slice_from(b), &vb, &e) != 0)
        return pv_error_set(err, PV_EINVAL, "plan for %s: version '%s': %s", model, b, e.msg);
    if (pv_version_compare(&va, &vb, cmp, &e) != 0)
        return pv_error_set(err, PV_EINVAL, "plan for %s: %s", model, e.msg);
    return 0;
}

/* Reads the plan's steps (validated as pairs of non-empty strings). */
static int read_steps(const pv_store_plan *plan, json_t *root, step *steps, size_t *n,
                      pv_error *err)
{
    if (!json_is_array(root))
        return pv_error_set(err, PV_EINVAL, "plan for %s: stages: want an array of [from, to]",
                            plan->model);
    if (json_array_size(root) > MAX_STAGES)
        return pv_error_set(err, PV_ELIMIT, "plan for %s: more than %d stages", plan->model,
                            MAX_STAGES);
    *n = 0;
    size_t i;
    json_t *pair;
    json_array_foreach(root, i, pair)
    {
        const char *from = json_string_value(json_array_get(pair, 0));
        const char *to = json_string_value(json_array_get(pair, 1));
        if (!json_is_array(pair) || json_array_size(pair) != 2 || from == NULL || to == NULL ||
            from[0] == '\0' || to[0] == '\0')
            return pv_error_set(err, PV_EINVAL,
                                "plan for %s: stages[%zu]: want [\"from\", \"to\"] versions",
                                plan->model, i);
        int cmp = 0;
        int rc = version_cmp(plan->model, from, to, &cmp, err);
        if (rc != 0)
            return rc;
        if (cmp >= 0)
            return pv_error_set(err, PV_EINVAL, "plan for %s: stages[%zu]: %s → %s goes down",
                                plan->model, i, from, to);
        steps[(*n)++] = (step){from, to};
    }
    return 0;
}

/* Walks back from the target: chain[0] is the first stage a phone takes. */
static int build_chain(const pv_store_plan *plan, const step *steps, size_t n, const char **chain,
                       size_t *len, pv_error *err)
{
    const char *at = plan->target_version;
    const char *rev[MAX_STAGES + 1];
    size_t k = 0;
    rev[k++] = at;
    for (;;) {
        const step *into = NULL;
        for (size_t i = 0; i < n; i++)
            if (strcmp(steps[i].to, at) == 0)
                into = &steps[i];
        if (into == NULL)
            break;
        if (k > n) /* longer than the step list: a cycle */
            return pv_error_set(err, PV_EINVAL, "plan for %s: the stages form a cycle",
                                plan->model);
        at = into->from;
        rev[k++] = at;
    }
    if (n > 0 && k - 1 != n)
        return pv_error_set(err, PV_EINVAL,
                            "plan for %s: stages do not form one chain ending at %s", plan->model,
                            plan->target_version);
    /* rev = C, B, A: the stages a phone installs are B then C (not A). */
    *len = 0;
    if (n == 0) { /* a direct jump from anything older */
        chain[(*len)++] = rev[0];
        return 0;
    }
    for (size_t i = k - 1; i-- > 0;)
        chain[(*len)++] = rev[i];
    return 0;
}

int pv_firmware_upgrade_rule(const pv_store_plan *plan, const pv_store_firmware *images, size_t n,
                             const char *base_url, pv_buf *rule, pv_error *err)
{
    if (plan->target_version == NULL || plan->target_version[0] == '\0')
        return pv_error_set(err, PV_EINVAL, "plan for %s: no target version", plan->model);
    json_error_t jerr;
    json_t *root = json_loads(plan->stages != NULL ? plan->stages : "[]", 0, &jerr);
    if (root == NULL)
        return pv_error_set(err, PV_EINVAL, "plan for %s: stages: line %d, column %d: %s",
                            plan->model, jerr.line, jerr.column, jerr.text);
    step steps[MAX_STAGES];
    size_t nsteps = 0, len = 0;
    const char *chain[MAX_STAGES + 1];
    int rc = read_steps(plan, root, steps, &nsteps, err);
    if (rc == 0)
        rc = build_chain(plan, steps, nsteps, chain, &len, err);
    pv_buf out = {0};
    for (size_t i = 0; rc == 0 && i < len; i++) {
        const pv_store_firmware *img = image_for(images, n, chain[i]);
        pv_version v;
        pv_error e;
        if (img == NULL) {
            rc = pv_error_set(err, PV_ENOENT,
                              "plan for %s: no registered image of version %s"
                              " (register one first: provisor firmware upload, then"
                              " firmware add; docs/rollouts.md)",
                              plan->model, chain[i]);
            break;
        }
        if (pv_version_parse(pv_slice_from(chain[i]), &v, &e) != 0) {
            rc = pv_error_set(err, PV_EINVAL, "plan for %s: version '%s': %s", plan->model,
                              chain[i], e.msg);
            break;
        }
        /* spec 6 multi-stage pattern; spec 1.4 unquoted $SWVER is a version. */
        pv_buf_appendf(&out, "%s($SWVER lt %s)? %s%s%s", i ? " | " : "", chain[i], base_url,
                       PV_FIRMWARE_PREFIX, img->file_name);
    }
    json_decref(root);
    if (rc == 0)
        pv_buf_append(rule, out.data, out.len);
    pv_buf_free(&out);
    return rc;
}

/* Every registered image of model (the caller frees them). */
static int model_images(pv_store *s, const char *model, pv_store_firmware **out, size_t *count,
                        pv_error *err)
{
    pv_store_firmware *all = NULL, *rows = NULL;
    size_t total = 0, got = 0;
    pv_store_page page = {.limit = PV_STORE_PAGE_MAX};
    int rc = 0;
    do {
        rc = pv_store_firmware_list(s, model, &page, &rows, &got, err);
        if (rc != 0)
            break;
        all = pv_reallocarray(all, total + got + 1, sizeof *all);
        if (got > 0) /* no rows: rows is NULL, which memcpy may not be given even for 0 */
            memcpy(all + total, rows, got * sizeof *rows);
        total += got;
        free(rows); /* the rows' strings now belong to all */
        rows = NULL;
    } while (page.after[0] != '\0');
    if (rc != 0) {
        pv_store_firmwares_free(all, total);
        return rc;
    }
    *out = all;
    *count = total;
    return 0;
}

int pv_firmware_rule_for_plan(pv_store *s, const pv_store_plan *plan, const char *base_url,
                              pv_buf *rule, pv_error *err)
{
    pv_store_firmware *all = NULL;
    size_t total = 0;
    int rc = model_images(s, plan->model, &all, &total, err);
    if (rc == 0)
        rc = pv_firmware_upgrade_rule(plan, all, total, base_url, rule, err);
    pv_store_firmwares_free(all, total);
    return rc;
}

int pv_firmware_rule_for_model(pv_store *s, const char *model, const char *base_url, pv_buf *rule,
                               pv_error *err)
{
    pv_store_plan plan = {0};
    int rc = pv_store_plan_get(s, model, &plan, err);
    if (rc == 0)
        rc = pv_firmware_rule_for_plan(s, &plan, base_url, rule, err);
    pv_store_plan_free(&plan);
    return rc;
}

int pv_firmware_rollback_rule_in(const pv_store_firmware *images, size_t n, const char *model,
                                 const char *version, const char *base_url, pv_buf *rule,
                                 pv_error *err)
{
    pv_version v;
    pv_error e;
    if (version == NULL || version[0] == '\0')
        return pv_error_set(err, PV_ENOENT, "rollback of %s: the previous version is unknown",
                            model);
    if (pv_version_parse(pv_slice_from(version), &v, &e) != 0)
        return pv_error_set(err, PV_EINVAL, "rollback of %s: version '%s': %s", model, version,
                            e.msg);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(images[i].version, version) != 0)
            continue;
        /* spec 1.4: unquoted $SWVER compares as a version; spec 6: a downgrade is a
         * rule like any other (Downgrade_Rev_Limit permitting) */
        pv_buf_appendf(rule, "($SWVER gt %s)? %s%s%s", version, base_url, PV_FIRMWARE_PREFIX,
                       images[i].file_name);
        return 0;
    }
    return pv_error_set(err, PV_ENOENT,
                        "rollback of %s: no registered image of version %s"
                        " (register one first: provisor firmware upload, then firmware add)",
                        model, version);
}

int pv_firmware_rollback_rule(pv_store *s, const char *model, const char *version,
                              const char *base_url, pv_buf *rule, pv_error *err)
{
    pv_store_firmware *all = NULL;
    size_t total = 0;
    int rc = model_images(s, model, &all, &total, err);
    if (rc == 0)
        rc = pv_firmware_rollback_rule_in(all, total, model, version, base_url, rule, err);
    pv_store_firmwares_free(all, total);
    return rc;
}
