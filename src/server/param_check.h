/*
 * param_check.h — a parameter value is refused when it is written, not when the
 * phones fetch it (issue 13: `params set global 'Bogus_={{nope}}'` was accepted
 * and every device in the scope then got HTTP 500 at its next resync).
 *
 * pv_param_check expands the value's placeholders (render.h, step 2) for every
 * device the scope reaches — the one device of "device:<mac>", the devices of
 * "account:<id>", those of "model:<m>", every device for "global". Whether a
 * placeholder fills depends only on the device's account and on whether it has
 * a serial and a model (render.c's fields), so the devices are read grouped by
 * those (store_device_search.h, one GROUP BY) and the value expanded once per
 * group: complete at a million devices in about a second, where a render per
 * device would take minutes. A scope that reaches no device yet still refuses
 * what could never be filled: a placeholder that is not a device field and is
 * in no account's settings (for an account scope: not in that account's).
 *
 * pv_param_settings_reach does the same for a change of an account's settings
 * (or customer, or name): every device of the account, its layers' values
 * expanded before and after — one device per group of the same layers, each
 * device with a device layer on its own.
 *
 * Stateless; reads the store through the caller's handle.
 */
#ifndef PV_SERVER_PARAM_CHECK_H
#define PV_SERVER_PARAM_CHECK_H

#include "core/error.h"
#include "store/store.h"

/* What a value would do to the devices its scope reaches: the dry run of an edit
 * ("N devices change, M would fail to render (first: MAC, reason)"). */
typedef struct pv_param_reach {
    size_t devices;  /* devices the scope reaches */
    size_t failed;   /* of them (or the stand-in of an empty scope), those it fails for */
    int first_rc;    /* the first failure's code (PV_EINVAL, PV_ESYNTAX) */
    char first[256]; /* and its message: "device <mac>: <parameter>: <why>" */
} pv_param_reach;

/* Fills *out without refusing anything: 0 unless the store fails. */
int pv_param_reach_of(pv_store *s, const char *scope, const char *name, const char *value,
                      pv_param_reach *out, pv_error *err);

/* 0, or PV_EINVAL/PV_ESYNTAX with err saying how many devices would fail to render,
 * the first of them and why; another code for a store failure. scope is the
 * store's form ("account:7", "device:<12 hex>"). */
int pv_param_check(pv_store *s, const char *scope, const char *name, const char *value,
                   pv_error *err);

/* What a change of an account's settings does to its devices, every one of them: changed
 * counts those whose profile differs (a value of their layers expands to other text, or they
 * rendered not before and do now), failed those that filled before and do not after (a
 * device already failing does not hold up the edit that may fix it); first names the lowest
 * MAC of them: "<mac>, <reason>". before and after are the account as read before and after
 * the change (the same id). 0 unless the store fails. */
typedef struct pv_param_settings {
    size_t devices, changed, failed;
    char first[320];
} pv_param_settings;
int pv_param_settings_reach(pv_store *s, const pv_store_account *before,
                            const pv_store_account *after, pv_param_settings *out, pv_error *err);

#endif
