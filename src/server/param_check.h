/*
 * param_check.h — a parameter value is refused when it is written, not when the
 * phones fetch it (issue 13: `params set global 'Bogus_={{nope}}'` was accepted
 * and every device in the scope then got HTTP 500 at its next resync).
 *
 * pv_param_check expands the value's placeholders (render.h, step 2) for the
 * devices the scope reaches — the one device of "device:<mac>", the devices of
 * "account:<id>", those of "model:<m>", every device for "global" — at most
 * PV_PARAM_CHECK_DEVICES of them, so that a write stays a bounded piece of work
 * on the admin loop. A scope that reaches no device yet still refuses what could
 * never be filled: a placeholder that is not a device field and is in no
 * account's settings (for an account scope: not in that account's).
 *
 * Stateless; reads the store through the caller's handle.
 */
#ifndef PV_SERVER_PARAM_CHECK_H
#define PV_SERVER_PARAM_CHECK_H

#include "core/error.h"
#include "store/store.h"

#define PV_PARAM_CHECK_DEVICES 200000

/* What a value would do to the devices its scope reaches: the dry run of an edit
 * ("N devices change, M would fail to render (first: MAC, reason)"). */
typedef struct pv_param_reach {
    size_t devices;  /* devices the scope reaches (at most PV_PARAM_CHECK_DEVICES looked at) */
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

#endif
