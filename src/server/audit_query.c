/* audit_query.c — the audit log filtered by subject, actor, action and time; see
 * audit_query.h. */
#include "server/audit_query.h"

#include <string.h>

static bool matches(const pv_audit_query *q, const pv_store_audit *a)
{
    if (a->at < q->since || a->at > q->until)
        return false;
    if (q->actor != NULL && strcmp(q->actor, a->actor) != 0 &&
        (strncmp(a->actor, "token:", 6) != 0 || strcmp(q->actor, a->actor + 6) != 0))
        return false; /* "--actor ops" matches "token:ops" */
    if (q->action != NULL) {
        size_t len = strlen(q->action);
        bool family = len > 0 && q->action[len - 1] == '.';
        if (family ? strncmp(a->action, q->action, len) != 0 : strcmp(a->action, q->action) != 0)
            return false;
    }
    return true;
}

int pv_audit_query_run(pv_store *s, const pv_audit_query *q, pv_store_page *page, size_t want,
                       void (*fn)(void *data, const pv_store_audit *entry), void *data,
                       pv_error *err)
{
    size_t found = 0, scanned = 0;
    int rc = 0;
    do {
        page->limit = want - found;
        pv_store_audit *rows = NULL;
        size_t n = 0;
        rc = pv_store_audit_list(s, q->subject, page, &rows, &n, err);
        for (size_t i = 0; rc == 0 && i < n; i++)
            if (matches(q, &rows[i])) {
                fn(data, &rows[i]);
                found++;
            }
        scanned += n;
        pv_store_audits_free(rows, n);
    } while (rc == 0 && page->after[0] != '\0' && found < want && scanned < PV_AUDIT_SCAN_MAX);
    return rc;
}
