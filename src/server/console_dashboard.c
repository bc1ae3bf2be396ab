/*
 * console_dashboard.c — the console's dashboard: devices by state, model and
 * firmware, the server's own counters, and what is happening now (device
 * action jobs, rollouts), as inline SVG charts (no script).
 */
#include "server/console_int.h"

#include "net/metrics.h"
#include "server/job_metrics.h"
#include "server/notifier.h"
#include "store/store_device_search.h"
#include "store/store_rollouts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct bars {
    pv_buf *out;
    char labels[12][64];
    int64_t counts[12];
    size_t n;
} bars;

static void add_bar(void *data, const char *value, int64_t count)
{
    bars *b = data;
    if (b->n == 12)
        return;
    snprintf(b->labels[b->n], sizeof b->labels[0], "%s", value[0] ? value : "-");
    b->counts[b->n++] = count;
}

/* A horizontal bar chart in inline SVG (no script, no library), with its figures as text for
 * screen readers (role="img" and a title naming every bar). */
static void draw_bars(pv__portal_req *r, pv_buf *out, const char *title_key, const bars *b)
{
    int64_t max = 1;
    for (size_t i = 0; i < b->n; i++)
        if (b->counts[i] > max)
            max = b->counts[i];
    pv_buf_append_str(out, "<figure class=\"chart\">\n<figcaption>");
    pv__portal_text(out, r, title_key);
    pv_buf_appendf(out,
                   "</figcaption>\n<svg role=\"img\" width=\"480\" height=\"%zu\" "
                   "viewBox=\"0 0 480 %zu\"><title>",
                   b->n * 24 + 4, b->n * 24 + 4);
    for (size_t i = 0; i < b->n; i++) {
        pv_html_escape(out, b->labels[i]);
        pv_buf_appendf(out, ": %lld%s", (long long)b->counts[i], i + 1 < b->n ? ", " : "");
    }
    pv_buf_append_str(out, "</title>\n");
    for (size_t i = 0; i < b->n; i++) {
        long w = (long)(b->counts[i] * 260 / max);
        pv_buf_appendf(out, "<text x=\"0\" y=\"%zu\" class=\"label\">", i * 24 + 17);
        pv_html_escape(out, b->labels[i]);
        pv_buf_appendf(out,
                       "</text><rect x=\"150\" y=\"%zu\" width=\"%ld\" height=\"18\" "
                       "class=\"bar\"></rect><text x=\"%ld\" y=\"%zu\">%lld</text>\n",
                       i * 24 + 4, w > 0 ? w : 1, 156 + w, i * 24 + 17, (long long)b->counts[i]);
    }
    pv_buf_append_str(out, "</svg>\n</figure>\n");
}

/* The sum over every label set of a metric family in Prometheus text (this server's own
 * /metrics, rendered in memory): "name{...} value" and "name value" lines. */
static int64_t metric_sum(const char *text, const char *name, const char *label)
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

/* Since the server started, from its own counters: what phones got, what was refused, the
 * device actions sent and how they ended. */
static void traffic_chart(pv__portal_req *r, pv_buf *page)
{
    pv_buf text = {0};
    pv_metrics_render(&text);
    pv_jobm_render_text(&text);
    pv_notifier_metrics(&text);
    pv_buf_append_char(&text, '\0');
    static const struct {
        const char *label, *name, *filter;
    } rows[] = {
        {"m_profiles_served", "provisor_profiles_served_total", NULL},
        {"m_refusals", "provisor_refusals_total", NULL},
        {"m_refused_connections", "provisor_refused_total", NULL},
        {"m_binding_refusals", "provisor_binding_refusals_total", NULL},
        {"m_notify_ok", "provisor_sip_notify_total", "outcome=\"ok\""},
        {"m_notify_all", "provisor_sip_notify_total", NULL},
        {"m_key_rotations", "provisor_key_rotations_total", NULL},
    };
    bars b = {.out = page};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        add_bar(&b, pv__portal_t(r, rows[i].label),
                metric_sum(text.data, rows[i].name, rows[i].filter));
    pv_buf_free(&text);
    draw_bars(r, page, "since_start", &b);
}

/* What is happening now: the newest device action jobs and the rollouts. */
static void now_tables(pv__portal_req *r, pv_buf *page)
{
    pv_store_page pg = {.limit = 10};
    pv_store_notify_job *jobs = NULL;
    size_t n = 0;
    pv_error err = {""};
    pv_buf_append_str(page, "<h2>");
    pv__portal_text(page, r, "recent_jobs");
    pv_buf_append_str(page, "</h2>\n<ul class=\"jobs\">\n");
    if (pv_store_notify_job_list(r->portal->store, &pg, &jobs, &n, &err) == 0) {
        for (size_t i = 0; i < n; i++) {
            char at[40];
            pv__console_format_time(at, sizeof at, jobs[i].created_at);
            pv_buf_appendf(page, "<li>#%lld %s ", (long long)jobs[i].id, at);
            pv_html_escape(page, jobs[i].action);
            pv_buf_append_char(page, ' ');
            pv_html_escape(page, jobs[i].subject);
            pv_buf_appendf(page, " (%lld) ", (long long)jobs[i].total);
            pv_html_escape(page, jobs[i].actor);
            pv_buf_append_str(page, jobs[i].finished_at ? "" : " …");
            pv_buf_append_str(page, "</li>\n");
        }
        free(jobs);
    }
    pv_buf_append_str(page, "</ul>\n<h2>");
    pv__portal_text(page, r, "rollouts");
    pv_buf_append_str(page, "</h2>\n<ul class=\"rollouts\">\n");
    pv_store_page rp = {.limit = 20};
    pv_store_rollout *rolls = NULL;
    n = 0;
    if (pv_store_rollout_list(r->portal->store, &rp, &rolls, &n, &err) == 0) {
        for (size_t i = 0; i < n; i++) {
            pv_buf_append_str(page, "<li>");
            pv_html_escape(page, rolls[i].name);
            pv_buf_append_str(page, ": ");
            pv_html_escape(page, rolls[i].model);
            pv_buf_append_str(page, " → ");
            pv_html_escape(page, rolls[i].to_version);
            pv_buf_appendf(page, ", %s, stage %lld</li>\n", rolls[i].state,
                           (long long)rolls[i].stage);
        }
        pv_store_rollouts_free(rolls, n);
    }
    pv_buf_append_str(page, "</ul>\n");
}

void pv__console_dashboard_page(pv__portal_req *r)
{
    pv_buf page = {0};
    pv__console_open_page(&page, r, "dashboard_title");
    static const struct {
        pv_store_device_by by;
        const char *key;
    } charts[] = {{PV_DEVICE_BY_STATE, "devices_by_state"},
                  {PV_DEVICE_BY_MODEL, "devices_by_model"},
                  {PV_DEVICE_BY_FIRMWARE, "devices_by_firmware"}};
    pv_buf_append_str(&page, "<div class=\"charts\">\n");
    for (size_t i = 0; i < sizeof charts / sizeof charts[0]; i++) {
        bars b = {.out = &page};
        pv_error err = {""};
        if (pv_store_device_counts(r->portal->store, charts[i].by, 12, add_bar, &b, &err) != 0) {
            pv_buf_free(&page);
            pv__console_store_failed(r, &err);
            return;
        }
        draw_bars(r, &page, charts[i].key, &b);
    }
    traffic_chart(r, &page);
    pv_buf_append_str(&page, "</div>\n");
    now_tables(r, &page);
    pv__portal_page(r, &page, 200);
}
