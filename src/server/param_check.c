/* param_check.c — a value's placeholders tried on the devices its scope reaches; see
 * param_check.h. */
#include "server/param_check.h"

#include "core/buf.h"
#include "server/render.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct check {
    pv_store *s;
    const char *name, *value;
    pv_store_account acct; /* the last account read: devices come in MAC order, often runs */
    size_t tried, failed;
    int first_rc;   /* the first failure's code */
    pv_error first; /* and its message, naming its device */
} check;

/* One device: the value expanded as the renderer would. */
static int try_device(check *c, const pv_store_device *d, pv_error *err)
{
    if (d->account_id != 0 && d->account_id != c->acct.id && strstr(c->value, "{{") != NULL) {
        pv_store_account_free(&c->acct);
        int rc = pv_store_account_get(c->s, d->account_id, &c->acct, err);
        if (rc != 0)
            return rc;
    }
    c->tried++;
    if (strstr(c->value, "{{") == NULL)
        return 0; /* a dry run counting the devices: nothing to fill */
    pv_buf out = {0};
    pv_error why = {""};
    int rc = pv_render_expand(c->name, pv_slice_from(c->value), d,
                              d->account_id != 0 ? &c->acct : NULL, &out, &why);
    pv_buf_free(&out);
    if (rc != 0 && c->failed++ == 0)
        c->first_rc = pv_error_set(&c->first, rc, "device %s: %s", d->mac, why.msg);
    return 0;
}

static bool in_scope(const char *scope, const pv_store_device *d)
{
    if (strncmp(scope, "model:", 6) == 0)
        return d->model != NULL && strcmp(d->model, scope + 6) == 0;
    return true; /* global, or the account the listing was restricted to */
}

static int walk_devices(check *c, const char *scope, pv_error *err)
{
    if (strncmp(scope, "device:", 7) == 0) {
        pv_store_device d = {0};
        int rc = pv_store_device_get(c->s, scope + 7, &d, err);
        if (rc == 0)
            rc = try_device(c, &d, err);
        pv_store_device_free(&d);
        return rc == PV_ENOENT ? 0 : rc; /* a device layer may precede its device */
    }
    int64_t account_id = 0;
    if (strncmp(scope, "account:", 8) == 0)
        account_id = strtoll(scope + 8, NULL, 10);
    pv_store_page page = {.limit = PV_STORE_PAGE_MAX};
    do {
        pv_store_device *rows = NULL;
        size_t n = 0;
        int rc = pv_store_device_list(c->s, account_id, &page, &rows, &n, err);
        for (size_t i = 0; rc == 0 && i < n; i++)
            if (in_scope(scope, &rows[i]))
                rc = try_device(c, &rows[i], err);
        pv_store_devices_free(rows, n);
        if (rc != 0)
            return rc;
    } while (page.after[0] != '\0' && c->tried < PV_PARAM_CHECK_DEVICES);
    return 0;
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
