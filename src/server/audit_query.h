/*
 * audit_query.h — the audit log filtered as an operator asks: by subject (a device's MAC, an
 * account, "code:N"), actor, action and time, for the admin API's GET /audit and the console's
 * audit page, so both filter alike.
 *
 * The store indexes the log by id and by subject only; actor, action and time are checked
 * here while walking the log in id order, at most PV_AUDIT_SCAN_MAX entries per call, so one
 * request costs a bounded read however rare the match. A page may therefore hold fewer than
 * asked for; page->after says where the next call continues ("" at the end of the log).
 * Nothing is kept between calls; the caller owns the query's strings.
 */
#ifndef PV_SERVER_AUDIT_QUERY_H
#define PV_SERVER_AUDIT_QUERY_H

#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

#define PV_AUDIT_SCAN_MAX 10000

typedef struct pv_audit_query {
    const char *subject;  /* exact; NULL: any */
    const char *actor;    /* exact, and "ops" also matches "token:ops"; NULL: any */
    const char *action;   /* exact, or a family when it ends in '.' ("device."); NULL: any */
    int64_t since, until; /* unix seconds, inclusive; 0 and INT64_MAX: unbounded */
} pv_audit_query;

/* Calls fn for up to want entries matching q, in id order after page->after. */
int pv_audit_query_run(pv_store *s, const pv_audit_query *q, pv_store_page *page, size_t want,
                       void (*fn)(void *data, const pv_store_audit *entry), void *data,
                       pv_error *err);

#endif
