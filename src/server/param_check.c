/* param_check.c — a value's placeholders tried on the devices its scope reaches; see
 * param_check.h. */
#include "server/param_check.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "server/render.h"
#include "store/store_device_search.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct check {
    pv_store *s;
    const char *name, *value;
    pv_store_account acct; /* the last account read */
    size_t tried, failed;
    int first_rc;         /* the first failure's code */
    pv_error first;       /* and its message, naming its device */
    char first_mac[13];   /* that device: the lowest MAC of the failing groups */
} check;

/* One group of devices (store_device_search.h): the value expanded as the renderer would,
 * for a stand-in of the group — its lowest MAC, a serial and a model when the group's devices
 * have them, its account. What a placeholder can read of a device is exactly that
 * (render.c's fields), so the group's devices all fill or all fail. */
static int try_group(check *c, const pv_store_device_group *g, pv_error *err)
{
    bool fills = strstr(c->value, "{{") != NULL;
    if (fills && g->account_id != 0 && g->account_id != c->acct.id) {
        pv_store_account_free(&c->acct);
        int rc = pv_store_account_get(c->s, g->account_id, &c->acct, err);
        if (rc != 0)
            return rc;
    }
    c->tried += (size_t)g->devices;
    if (!fills)
        return 0; /* a dry run counting the devices: nothing to fill */
    pv_store_device d = {.serial = g->has_serial ? "serial" : NULL,
                         .model = g->has_model ? "model" : NULL,
                         .account_id = g->account_id};
    memcpy(d.mac, g->first_mac, sizeof d.mac);
    pv_buf out = {0};
    pv_error why = {""};
    int rc = pv_render_expand(c->name, pv_slice_from(c->value), &d,
                              g->account_id != 0 ? &c->acct : NULL, &out, &why);
    pv_buf_free(&out);
    if (rc == 0)
        return 0;
    c->failed += (size_t)g->devices;
    if (c->first_mac[0] == '\0' || strcmp(g->first_mac, c->first_mac) < 0) {
        memcpy(c->first_mac, g->first_mac, sizeof c->first_mac);
        c->first_rc = pv_error_set(&c->first, rc, "device %s: %s", g->first_mac, why.msg);
    }
    return 0;
}

/* Every device the scope reaches, a group at a time: one GROUP BY over the scope's devices,
 * however many (issue 13: "every edit validated against the devices it reaches"). */
static int walk_devices(check *c, const char *scope, pv_error *err)
{
    pv_store_device_group *g = NULL;
    size_t n = 0;
    int rc = pv_store_scope_groups(c->s, scope, &g, &n, err);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = try_group(c, &g[i], err);
    pv_store_device_groups_free(g, n);
    return rc;
}

/* Fills value for a stand-in device that has every device field. */
static int expand_for(const check *c, const pv_store_account *acct, pv_error *why)
{
    const pv_store_device stand_in = {.mac = "000000000000", .serial = "SN", .model = "model"};
    pv_buf out = {0};
    int rc = pv_render_expand(c->name, pv_slice_from(c->value), &stand_in, acct, &out, why);
    pv_buf_free(&out);
    return rc;
}

/* No device reached: the value must fill for the scope's account, or (global, model)
 * for some account. */
static int try_accounts(check *c, const char *scope, pv_error *err)
{
    pv_error why = {""};
    int found = -1; /* < 0: not yet */
    if (strncmp(scope, "account:", 8) == 0) {
        int rc = pv_store_account_get(c->s, strtoll(scope + 8, NULL, 10), &c->acct, err);
        if (rc != 0)
            return rc;
        found = expand_for(c, &c->acct, &why);
    } else {
        pv_store_page page = {.limit = PV_STORE_PAGE_MAX};
        do {
            pv_store_account *rows = NULL;
            size_t n = 0;
            int rc = pv_store_account_list(c->s, &page, &rows, &n, err);
            for (size_t i = 0; rc == 0 && i < n && found != 0; i++)
                found = expand_for(c, &rows[i], &why);
            pv_store_accounts_free(rows, n);
            if (rc != 0)
                return rc;
        } while (found != 0 && page.after[0] != '\0');
        if (found < 0) /* no account at all: the message for a device without one */
            found = expand_for(c, NULL, &why);
    }
    if (found != 0) {
        c->failed = 1;
        c->first_rc =
            pv_error_set(&c->first, found, "%s (%s reaches no device yet)", why.msg, scope);
    }
    return 0;
}

int pv_param_reach_of(pv_store *s, const char *scope, const char *name, const char *value,
                     pv_param_reach *out, pv_error *err)
{
    memset(out, 0, sizeof *out);
    check c = {.s = s, .name = name, .value = value};
    int rc = walk_devices(&c, scope, err);
    if (rc == 0 && c.tried == 0 && strstr(value, "{{") != NULL)
        rc = try_accounts(&c, scope, err);
    pv_store_account_free(&c.acct);
    if (rc != 0)
        return rc;
    out->devices = c.tried;
    out->failed = c.failed;
    out->first_rc = c.first_rc;
    snprintf(out->first, sizeof out->first, "%s", c.failed ? c.first.msg : "");
    return 0;
}

int pv_param_check(pv_store *s, const char *scope, const char *name, const char *value,
                   pv_error *err)
{
    if (strstr(value, "{{") == NULL)
        return 0; /* nothing to fill: the common case costs nothing */
    pv_param_reach r;
    int rc = pv_param_reach_of(s, scope, name, value, &r, err);
    if (rc != 0 || r.failed == 0)
        return rc;
    if (r.devices <= 1)
        return pv_error_set(err, r.first_rc, "%s", r.first);
    return pv_error_set(err, r.first_rc, "%zu of %zu devices would fail to render (first: %s)",
                        r.failed, r.devices, r.first);
}

/* ---- a change of an account's settings ---- */

/* What the values of a device's layers do before and after the change. */
typedef struct verdict {
    bool fail_before, fail_after, differs;
    pv_error why; /* the first failure after */
} verdict;

/* Each value of sets that has a placeholder, expanded for d with the account before and after:
 * a value without one expands to itself either way. */
static void try_layers(const pv_store_param_set *const *sets, size_t nsets,
                       const pv_store_device *d, const pv_store_account *before,
                       const pv_store_account *after, verdict *v)
{
    pv_buf a = {0}, b = {0};
    for (size_t l = 0; l < nsets; l++)
        for (size_t i = 0; i < sets[l]->n; i++) {
            const pv_store_param *e = &sets[l]->entries[i];
            if (e->value == NULL || strstr(e->value, "{{") == NULL)
                continue;
            pv_buf_reset(&a);
            pv_buf_reset(&b);
            pv_error eb = {""}, ea = {""};
            int rb = pv_render_expand(e->name, pv_slice_from(e->value), d, before, &b, &eb);
            int ra = pv_render_expand(e->name, pv_slice_from(e->value), d, after, &a, &ea);
            v->fail_before |= rb != 0;
            if (ra != 0 && !v->fail_after) {
                v->fail_after = true;
                v->why = ea;
            }
            if (rb == 0 && ra == 0 && (a.len != b.len || memcmp(a.data, b.data, a.len) != 0))
                v->differs = true;
        }
    pv_buf_free(&a);
    pv_buf_free(&b);
}

/* A layer's set, empty when the scope has none. */
static int layer_get(pv_store *s, const char *scope, pv_store_param_set *set, pv_error *err)
{
    int rc = pv_store_params_get(s, scope, set, err);
    return rc == PV_ENOENT ? 0 : rc;
}

typedef struct model_set {
    char *model;
    pv_store_param_set set;
} model_set;

/* The model's layer, read once per check (an account's devices are of a few models). */
static int model_layer(pv_store *s, const char *model, model_set **cache, size_t *n,
                       const pv_store_param_set **out, pv_error *err)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*cache)[i].model, model) == 0) {
            *out = &(*cache)[i].set;
            return 0;
        }
    *cache = pv_reallocarray(*cache, *n + 1, sizeof **cache);
    model_set *m = &(*cache)[(*n)++];
    m->model = pv_strdup(model);
    char scope[160];
    snprintf(scope, sizeof scope, "model:%s", model);
    int rc = layer_get(s, scope, &m->set, err);
    *out = &m->set;
    return rc;
}

int pv_param_settings_reach(pv_store *s, const pv_store_account *before,
                            const pv_store_account *after, pv_param_settings *out, pv_error *err)
{
    memset(out, 0, sizeof *out);
    pv_store_device_group *g = NULL;
    size_t n = 0, nmodels = 0;
    model_set *models = NULL;
    pv_store_param_set global = {0}, account = {0};
    char scope[48], first[13] = "";
    snprintf(scope, sizeof scope, "account:%" PRId64, after->id);
    int rc = pv_store_account_groups(s, after->id, &g, &n, err);
    if (rc == 0)
        rc = layer_get(s, "global", &global, err);
    if (rc == 0)
        rc = layer_get(s, scope, &account, err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        /* the renderer's layers for these devices: global → model → account → device */
        const pv_store_param_set *sets[4] = {&global};
        size_t nsets = 1;
        pv_store_param_set device = {0};
        if (g[i].model != NULL)
            rc = model_layer(s, g[i].model, &models, &nmodels, &sets[nsets++], err);
        sets[nsets++] = &account;
        if (rc == 0 && g[i].layered) {
            char dscope[24];
            snprintf(dscope, sizeof dscope, "device:%s", g[i].first_mac);
            rc = layer_get(s, dscope, &device, err);
            sets[nsets++] = &device;
        }
        if (rc == 0) {
            pv_store_device d = {.serial = g[i].has_serial ? "serial" : NULL,
                                 .model = g[i].model,
                                 .account_id = after->id};
            memcpy(d.mac, g[i].first_mac, sizeof d.mac);
            verdict v = {0};
            try_layers(sets, nsets, &d, before, after, &v);
            out->devices += (size_t)g[i].devices;
            if (!v.fail_before && v.fail_after) {
                out->failed += (size_t)g[i].devices;
                if (first[0] == '\0' || strcmp(g[i].first_mac, first) < 0) {
                    memcpy(first, g[i].first_mac, sizeof first);
                    snprintf(out->first, sizeof out->first, "%s, %s", first, v.why.msg);
                }
            } else if (!v.fail_after && (v.fail_before || v.differs)) {
                out->changed += (size_t)g[i].devices;
            }
        }
        pv_store_param_set_free(&device);
    }
    for (size_t i = 0; i < nmodels; i++) {
        free(models[i].model);
        pv_store_param_set_free(&models[i].set);
    }
    free(models);
    pv_store_param_set_free(&global);
    pv_store_param_set_free(&account);
    pv_store_device_groups_free(g, n);
    return rc;
}
