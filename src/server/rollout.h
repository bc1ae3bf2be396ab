/*
 * rollout.h — firmware rollouts that halt themselves (issue 15; docs/rollouts.md).
 *
 * A rollout moves a target set of one model's devices (the whole model, an
 * account, explicit devices, a percentage of those) to the model's upgrade
 * plan (firmware.h) in stages: a canary of N devices, then cohorts that grow
 * to a share of the set (1 %, 10 %, 50 %, 100 %). Only admitted members get
 * the plan's Upgrade_Rule in their profile; the evaluator (pv_rollout_tick,
 * run periodically by the server) admits members within the stage's budget
 * (upgrades in flight, admissions per minute), reads what the phones say —
 * the version they come back with (User-Agent, recorded by every fetch), the
 * Last_Upgrade_Result and Call_State of their reports (pv_rollout_note_report)
 * — and counts a member served the rule but not back within the soak time as
 * missing; a stage passes once every member settled and the soak ran. More failed or
 * missing members than the thresholds halt the rollout at once: no new
 * device gets the rule, the in-flight ones lose it, an audit entry
 * (rollout.halt) and the metric say so, and the operator decides: resume,
 * abort, or rollback (the previous version's rule to every admitted member).
 * A phone reported in a call is never counted as failed or missing.
 *
 * The newest rollout of a model governs it: from its creation the model's
 * plan reaches only its admitted members (pv_rollout_rule). Ownership: all
 * functions work on a caller's store handle; nothing is kept between calls
 * except the process-wide counters of pv_rollout_metrics.
 */
#ifndef PV_SERVER_ROLLOUT_H
#define PV_SERVER_ROLLOUT_H

#include "core/buf.h"
#include "core/error.h"
#include "core/param.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdint.h>

#define PV_ROLLOUT_MAX_COHORTS 8

typedef struct pv_rollout_spec {
    const char *name;
    const char *model;
    int64_t account_id;         /* 0: every account (and none) */
    const char *const *devices; /* explicit MACs (normalised), or NULL */
    size_t ndevices;
    unsigned percent;         /* 1..100 of the set, chosen by a hash; 0 = 100 */
    const char *from_version; /* what rollback serves; NULL: the set's most common version */
    unsigned canary;          /* devices in the first stage; 0 = no canary */
    unsigned cohorts[PV_ROLLOUT_MAX_COHORTS]; /* growing shares in %, the last 100 */
    size_t ncohorts;
    unsigned max_in_flight, per_minute, soak_s;
    unsigned max_failed_permille, max_missing_permille;
} pv_rollout_spec;

/* Defaults of a spec's budget, soak and thresholds (docs/rollouts.md). */
void pv_rollout_spec_default(pv_rollout_spec *spec);

/* Materialises the rollout: stages and members in admission order. Call
 * inside a transaction. Errors say what is wrong (no plan, no image, an
 * empty target set, a device of another model). */
int pv_rollout_create(pv_store *s, const pv_rollout_spec *spec, int64_t now, int64_t *id,
                      pv_error *err);

/*
 * The Upgrade_Rule a device gets (render.c), from what its render read in its
 * one statement (pv_store_render_load): v, the newest rollout of the model
 * and the device's membership (NULL: none), and the model's images. *governed
 * false: no rollout names the model, the plan applies as before. Else rule
 * receives the rollout's rule for this device, or nothing. The first serving
 * of an admitted member is written (pv_store_rollout_served) on s.
 */
int pv_rollout_rule(pv_store *s, const pv_store_rollout_view *v, const char *model, const char *mac,
                    const pv_store_firmware *images, size_t n, const char *base_url, pv_buf *rule,
                    bool *governed, pv_error *err);

/* One evaluation of every running rollout (the server calls it periodically). */
int pv_rollout_tick(pv_store *s, int64_t now, pv_error *err);

/* What a stored report says (reports.c): an upgrade failure or a call. */
int pv_rollout_note_report(pv_store *s, const char *mac, const pv_params *report, int64_t now,
                           pv_error *err);

typedef enum { PV_ROLLOUT_RESUME, PV_ROLLOUT_ABORT, PV_ROLLOUT_ROLLBACK } pv_rollout_action;

/* resume (halted → running), abort (→ aborted), rollback (→ rolled_back). The
 * caller audits; PV_ECONFLICT when the rollout's state does not allow it. */
int pv_rollout_act(pv_store *s, const char *name, pv_rollout_action action, int64_t now,
                   pv_error *err);

/* Prometheus text of the rollout counters (admin /metrics). */
void pv_rollout_metrics(pv_buf *out);

#endif
