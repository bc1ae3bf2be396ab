/* rates.c — per-minute samples of the server's own counters; see rates.h. */
#include "server/rates.h"

#include "core/buf.h"
#include "net/admission.h"
#include "net/metrics.h"
#include "server/job_metrics.h"
#include "server/store_fault.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pv_rates_minute ring[PV_RATES_MINUTES]; /* closed minutes, by (start / 60) % 60 */
static pv_rates_totals base;                   /* the totals when the open minute began */
static int64_t open_minute = -1;               /* start of the minute being counted; -1 none */
static int64_t first_minute = -1;              /* the minute of the first sample */

int64_t pv_rates_metric_sum(const char *text, const char *name, const char *label)
{
    size_t len = strlen(name);
    double sum = 0;
    for (const char *line = text; line != NULL && *line; line = strchr(line, '\n')) {
        if (*line == '\n')
            line++;
        if (strncmp(line, name, len) != 0 || (line[len] != '{' && line[len] != ' '))
            continue;
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        if (label != NULL) {
            char one[512];
            snprintf(one, sizeof one, "%.*s", (int)(n < sizeof one ? n : sizeof one - 1), line);
            if (strstr(one, label) == NULL)
                continue;
        }
        const char *space = memchr(line, ' ', n);
        if (space != NULL)
            sum += strtod(space + 1, NULL);
    }
    return (int64_t)sum;
}

void pv_rates_totals_now(pv_rates_totals *out)
{
    pv_buf text = {0};
    pv_metrics_render(&text);
    pv_jobm_render_text(&text);
    pv_admission_metrics(&text);
    pv_store_health_render(&text);
    pv_buf_append_char(&text, '\0');
    const char *t = text.data;
    out->resyncs = pv_rates_metric_sum(t, "provisor_profiles_served_total", NULL);
    out->failures = pv_rates_metric_sum(t, "provisor_render_errors_total", NULL) +
                    pv_rates_metric_sum(t, "provisor_store_failures_total", NULL) +
                    pv_rates_metric_sum(t, "provisor_tls_handshakes_total", "kind=\"failed\"");
    out->refusals = pv_rates_metric_sum(t, "provisor_refusals_total", NULL) +
                    pv_rates_metric_sum(t, "provisor_refused_total", NULL) +
                    pv_rates_metric_sum(t, "provisor_binding_refusals_total", NULL) +
                    pv_rates_metric_sum(t, "provisor_admission_refused_total", NULL);
    pv_buf_free(&text);
}

static pv_rates_minute since_base(int64_t start, const pv_rates_totals *now)
{
    return (pv_rates_minute){.start = start,
                             .resyncs = now->resyncs - base.resyncs,
                             .failures = now->failures - base.failures,
                             .refusals = now->refusals - base.refusals};
}

void pv_rates_sample(int64_t now)
{
    pv_rates_totals t;
    pv_rates_totals_now(&t);
    int64_t minute = now - now % 60;
    pthread_mutex_lock(&lock);
    if (open_minute < 0) {
        base = t; /* what happened before the first sample is not this minute's */
        open_minute = first_minute = minute;
    } else if (minute > open_minute) {
        /* What the counters gained since the open minute began is its figure (late by at most
         * one sampling period); minutes skipped (a stalled loop) stay empty. */
        pv_rates_minute m = since_base(open_minute, &t);
        m.complete = m.sampled = 1;
        ring[(open_minute / 60) % PV_RATES_MINUTES] = m;
        base = t;
        open_minute = minute;
    }
    pthread_mutex_unlock(&lock);
}

size_t pv_rates_read(int64_t now, pv_rates_minute out[PV_RATES_MINUTES])
{
    pv_rates_totals t;
    pv_rates_totals_now(&t);
    int64_t minute = now - now % 60;
    pthread_mutex_lock(&lock);
    if (open_minute < 0) {
        pthread_mutex_unlock(&lock);
        return 0;
    }
    for (size_t i = 0; i < PV_RATES_MINUTES; i++) {
        int64_t start = minute - (int64_t)(PV_RATES_MINUTES - 1 - i) * 60;
        const pv_rates_minute *m = &ring[(start / 60) % PV_RATES_MINUTES];
        if (start == open_minute) {
            out[i] = since_base(start, &t); /* the minute running: its figures so far */
            out[i].sampled = 1;
        } else if (m->start == start)
            out[i] = *m;
        else
            /* before the first sample: nothing known; after it, a minute no sample closed */
            out[i] = (pv_rates_minute){.start = start,
                                       .complete = start < open_minute,
                                       .sampled = start >= first_minute};
    }
    pthread_mutex_unlock(&lock);
    return PV_RATES_MINUTES;
}

void pv_rates_reset(void)
{
    pthread_mutex_lock(&lock);
    memset(ring, 0, sizeof ring);
    memset(&base, 0, sizeof base);
    open_minute = first_minute = -1;
    pthread_mutex_unlock(&lock);
}
