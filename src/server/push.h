/*
 * push.h — which phones a NOTIFY goes to, and the job that sends it (spec
 * 5.5): what the admin API's device actions, the customer portal's "resync
 * my phone" and the server's NOTIFY after a binding have in common, so each
 * reaches phones the same way (server/notifier.h does the sending).
 *
 * A device's target is what the server renders for it: the line's address of
 * record sip:User_ID_1_@Proxy_1_ and its credentials (the notifier answers the
 * phone's challenge with them), and the address it last provisioned from with
 * SIP_Port_1_ for a direct NOTIFY; the account's settings.sip_delivery
 * (proxy, direct) chooses the path. A device without a SIP line is skipped,
 * with the reason. pv_push_start stores the job with a pending outcome per
 * device, submits it and adds one audit entry by the caller's actor; the
 * notifier's recorder (the admin API's) stores the outcomes as they finish.
 *
 * Renders: pv_push_renders_take notes the SHA-256 of each device's plain
 * render before a change; pv_push_changed selects exactly the devices whose
 * render differs after it (`account update --notify`, the portal's settings).
 *
 * Threads: everything here runs on the notifier's loop (the first one), with
 * the caller's store handle. The caller owns the selection.
 */
#ifndef PV_SERVER_PUSH_H
#define PV_SERVER_PUSH_H

#include "core/error.h"
#include "server/notifier.h"
#include "server/prov_policy.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pv_push {
    pv_store *store;
    const pv_prov_policy *policy; /* what phones get rendered with; NULL: the defaults */
    pv_notifier *notifier;        /* NULL: pv_push_start answers PV_ENOTSUP */
    const char *actor;            /* the audit's: "token:NAME", "login:NAME", "server" */
    int64_t now;
} pv_push;

typedef struct pv_push_selection {
    pv_notify_target *t;
    size_t n, cap;
    json_t *skipped; /* [{"mac":..,"reason":..}], owned */
} pv_push_selection;

void pv_push_selection_init(pv_push_selection *sel);
void pv_push_selection_free(pv_push_selection *sel);
/* Adds a copy of t (NULL: a zeroed target) to sel; returns it. */
pv_notify_target *pv_push_selection_add(pv_push_selection *sel, const pv_notify_target *t);
/* Adds dev's line 1 as a target (true), or to sel->skipped with the reason (false). */
bool pv_push_add_device(const pv_push *p, const pv_store_device *dev, pv_push_selection *sel);

/* Stores the job (*job filled), submits sel's targets with o (NULL: the notifier's defaults),
 * audits "device.<action>" on subject with {job, devices, skipped}. Errors: PV_ENOTSUP
 * (no notifier: [sip] is off), PV_EBUSY (PV_NOTIFIER_JOBS jobs running), the store's. sel is left as it
 * was: the caller frees it. */
int pv_push_start(const pv_push *p, const char *action, const char *subject,
                  const pv_push_selection *sel, const pv_notify_job_options *o,
                  pv_store_notify_job *job, pv_error *err);

typedef struct pv_push_renders pv_push_renders;
/* Each device of account_id with the hash of its render now, in MAC order. */
pv_push_renders *pv_push_renders_take(const pv_push *p, int64_t account_id);
/* Adds to sel the devices of before whose render changed since; frees before. */
void pv_push_changed(const pv_push *p, pv_push_renders *before, pv_push_selection *sel);
void pv_push_renders_free(pv_push_renders *r);

/* The server's check-sync NOTIFY once a phone completed its binding (SEC-PRV-1 → 2; docs/
 * provisioning.md "After a binding"): one job for macs, its first NOTIFY after
 * PV_PUSH_BOUND_DELAY_MS and not-registered retried while the phone registers its line.
 * Devices without a SIP line are left out; no job when none is left. 0 or an error. */
#define PV_PUSH_BOUND_DELAY_MS 2000
#define PV_PUSH_BOUND_RETRIES 4
int pv_push_after_binding(const pv_push *p, const char (*macs)[13], size_t n, int64_t *job_id,
                          pv_error *err);

#endif
