/*
 * store_rollouts.h — the rows of firmware rollouts (issue 15): a rollout, its
 * stages, its members in admission order and each member's upgrade outcome.
 * The policy — who is admitted when, what counts as failed, when a rollout
 * halts — is the server's (server/rollout.h); this file only reads and writes
 * rows, so that both backends share one set of statements (docs/store.md).
 *
 * Ownership: every struct filled here owns its strings; free it with the
 * matching _free. Member states: pending (not admitted yet), admitted (its
 * profile carries the upgrade rule), upgraded (seen at the new version),
 * failed ($UPGERR / Last_Upgrade_Result reported), missing (served the rule,
 * not back at the new version within the soak time), in_call (reported busy:
 * waiting for the hang-up, never counted as failed).
 */
#ifndef PV_STORE_STORE_ROLLOUTS_H
#define PV_STORE_STORE_ROLLOUTS_H

#include "store/store.h"

#include <stdint.h>

typedef struct pv_store_rollout {
    int64_t id;
    char *name, *model;
    char *from_version; /* what rollback serves again ("" when unknown) */
    char *to_version;
    char *steps;  /* the plan's allowed direct steps, copied at creation (JSON array) */
    char *target; /* the target set as asked (JSON object), for show */
    int64_t max_in_flight, per_minute, soak_s;
    int64_t max_failed_permille, max_missing_permille;
    char state[16]; /* running, halted, aborted, rolled_back, done */
    int64_t stage;  /* index of the current stage */
    int64_t stage_full_at; /* when every member of the current stage had settled (its soak
                              starts), 0 = not yet */
    char *reason;          /* why it halted (or who stopped it) */
    int64_t version, created_at, updated_at;
} pv_store_rollout;

typedef struct pv_store_rollout_stage {
    int64_t idx;
    char label[32]; /* "canary 5", "10%" */
    int64_t upto;   /* members at positions below this belong to stages 0..idx */
    int64_t started_at, finished_at;
    char outcome[16]; /* "", "passed", "halted" */
} pv_store_rollout_stage;

typedef struct pv_store_rollout_member {
    char mac[13];
    int64_t position, stage; /* stage -1 while pending */
    char state[16];
    int64_t admitted_at, served_at, settled_at;
    char *detail;
    char *firmware_version; /* the device's, as last seen */
} pv_store_rollout_member;

typedef struct pv_store_rollout_counts {
    int64_t total, pending, admitted, upgraded, failed, missing, in_call;
    int64_t recent; /* admitted at or after the `since` of the query */
} pv_store_rollout_counts;

/* What a device's render needs: the newest rollout of its model and its membership. */
typedef struct pv_store_rollout_view {
    int64_t id;
    char state[16];
    char member[16]; /* "" when the device is not a member */
    int64_t served_at;
    char *from_version, *to_version, *steps;
} pv_store_rollout_view;

/* Inserts the rollout (state running, stage 0), its stages and its members at
 * positions 0.. in the order of macs. Call inside a transaction. */
int pv_store_rollout_create(pv_store *s, const pv_store_rollout *r,
                            const pv_store_rollout_stage *stages, size_t nstages,
                            char *const *macs, size_t nmacs, int64_t now, int64_t *id,
                            pv_error *err);
int pv_store_rollout_get(pv_store *s, const char *name, pv_store_rollout *out, pv_error *err);
/* Rollouts in name order. */
int pv_store_rollout_list(pv_store *s, pv_store_page *page, pv_store_rollout **rows, size_t *n,
                          pv_error *err);
/* Rollouts in state running, id order (at most 1000: the evaluator's work list). */
int pv_store_rollout_running(pv_store *s, pv_store_rollout **rows, size_t *n, pv_error *err);
void pv_store_rollout_free(pv_store_rollout *r);
void pv_store_rollouts_free(pv_store_rollout *rows, size_t n);

/* Compare-and-set on version: state, stage, stage_full_at (0 = NULL) and reason;
 * PV_ECONFLICT when another writer changed the row first. */
int pv_store_rollout_set(pv_store *s, const pv_store_rollout *r, int64_t now, pv_error *err);

int pv_store_rollout_stages(pv_store *s, int64_t id, pv_store_rollout_stage **rows, size_t *n,
                            pv_error *err);
/* Sets a stage's started_at / finished_at+outcome (0 / NULL leaves them). */
int pv_store_rollout_stage_mark(pv_store *s, int64_t id, int64_t idx, int64_t started_at,
                                int64_t finished_at, const char *outcome, pv_error *err);

/* Counts of the members of stage (or of every stage when stage < 0): those it admitted and
 * the pending ones of its cohort; recent counts those admitted at or after since. */
int pv_store_rollout_count(pv_store *s, int64_t id, int64_t stage, int64_t since,
                           pv_store_rollout_counts *out, pv_error *err);
/* Admits the pending members at positions below upto into stage; *admitted = how many. */
int pv_store_rollout_admit(pv_store *s, int64_t id, int64_t stage, int64_t upto, int64_t now,
                           int64_t *admitted, pv_error *err);
/* Sets one member's state (settled_at = now). */
int pv_store_rollout_mark(pv_store *s, int64_t id, const char *mac, const char *state, int64_t now,
                          pv_error *err);
/* Members still admitted that were served the rule at or before served_before: missing. */
int pv_store_rollout_settle_missing(pv_store *s, int64_t id, int64_t served_before, int64_t now,
                                    int64_t *changed, pv_error *err);

/* PV_ENOENT when no rollout names the model; out->member "" when mac is not in it. */
int pv_store_rollout_view_get(pv_store *s, const char *model, const char *mac,
                              pv_store_rollout_view *out, pv_error *err);
void pv_store_rollout_view_free(pv_store_rollout_view *v);
/* The first time an admitted member is served its rule. */
int pv_store_rollout_served(pv_store *s, int64_t id, const char *mac, int64_t now, pv_error *err);
/* What the device said about itself: sets state and detail of its membership in
 * the newest rollout where it is admitted, in_call or missing (a report of a
 * pending or settled member changes nothing). *changed: 0 or 1. */
int pv_store_rollout_note(pv_store *s, const char *mac, const char *state, const char *detail,
                          int64_t now, int64_t *changed, pv_error *err);

/* Members in admission order (cursor: position). */
int pv_store_rollout_members(pv_store *s, int64_t id, pv_store_page *page,
                             pv_store_rollout_member **rows, size_t *n, pv_error *err);
/* The same, only members admitted and not yet upgraded (admitted, failed, missing, in_call). */
int pv_store_rollout_unsettled(pv_store *s, int64_t id, pv_store_page *page,
                               pv_store_rollout_member **rows, size_t *n, pv_error *err);
void pv_store_rollout_members_free(pv_store_rollout_member *rows, size_t n);

#endif
