/*
 * console_dashboard.c — the console's dashboard: devices by state, model and
 * firmware (counts the store keeps), resyncs, failures and refusals per minute
 * over the last hour (the server's own ring of samples, rates.h) with the
 * totals since it started, and what is happening now: a storm (requests
 * waiting for admission), running and halted rollouts, device actions in
 * progress. Inline SVG charts, no script.
 */
#include "server/console_int.h"

#include "net/admission.h"
#include "net/metrics.h"
#include "server/job_metrics.h"
#include "server/notifier.h"
#include "server/rates.h"
#include "store/store_device_search.h"
#include "store/store_imports.h"
#include "store/store_rollouts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
                pv_rates_metric_sum(text.data, rows[i].name, rows[i].filter));
    pv_buf_free(&text);
    draw_bars(r, page, "since_start", &b);
}

/* One minute series as columns in inline SVG: 60 columns, the newest on the right, the peak
 * scaled to the height; its title says the hour's total, the peak and this minute for screen
 * readers, and the table after the charts has every figure. */
static void draw_minutes(pv__portal_req *r, pv_buf *out, const char *title_key,
                         const pv_rates_minute *m, size_t n, int which)
{
    int64_t v[PV_RATES_MINUTES], peak = 0, total = 0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        v[i] = which == 0 ? m[i].resyncs : which == 1 ? m[i].failures : m[i].refusals;
        total += v[i];
        if (v[i] > peak) {
            peak = v[i];
            at = i;
        }
    }
    char peak_at[40] = "-";
    if (peak > 0)
        pv__console_format_time(peak_at, sizeof peak_at, m[at].start);
    pv_buf_appendf(out, "<figure class=\"chart minutes m%d\">\n<figcaption>", which);
    pv__portal_text(out, r, title_key);
    pv_buf_append_str(out, "</figcaption>\n<svg role=\"img\" width=\"486\" height=\"118\" "
                           "viewBox=\"0 0 486 118\"><title>");
    pv__portal_text(out, r, title_key);
    pv_buf_appendf(out, ": %lld ", (long long)total);
    pv__portal_text(out, r, "in_the_last_hour");
    pv_buf_appendf(out, ", %lld/min ", (long long)peak);
    pv__portal_text(out, r, "at_most");
    pv_buf_appendf(out, " (%s), %lld ", peak_at, (long long)(n ? v[n - 1] : 0));
    pv__portal_text(out, r, "this_minute");
    pv_buf_append_str(out, "</title>\n<line x1=\"40\" y1=\"100\" x2=\"486\" y2=\"100\" "
                           "class=\"axis\"></line>\n");
    pv_buf_appendf(out, "<text x=\"0\" y=\"12\">%lld</text><text x=\"0\" y=\"100\">0</text>\n",
                   (long long)peak);
    for (size_t i = 0; i < n; i++) {
        long h = peak > 0 ? (long)(v[i] * 90 / peak) : 0;
        if (v[i] > 0 && h < 1)
            h = 1;
        pv_buf_appendf(out,
                       "<rect x=\"%zu\" y=\"%ld\" width=\"6\" height=\"%ld\" class=\"bar\">"
                       "</rect>\n",
                       44 + i * 7, 100 - h, h);
    }
    pv_buf_appendf(out, "<text x=\"40\" y=\"116\">-60 min</text>"
                        "<text x=\"440\" y=\"116\">");
    pv__portal_text(out, r, "now");
    pv_buf_append_str(out, "</text>\n</svg>\n</figure>\n");
}

/* Resyncs, failures and refusals per minute over the last hour, from the server's own ring;
 * the same figures as a table (the last ten minutes, newest first). */
static void rate_charts(pv__portal_req *r, pv_buf *page, int64_t now)
{
    pv_rates_minute m[PV_RATES_MINUTES];
    size_t n = pv_rates_read(now, m);
    pv_buf_append_str(page, "<h2>");
    pv__portal_text(page, r, "per_minute");
    pv_buf_append_str(page, "</h2>\n<div class=\"charts\" id=\"rates\">\n");
    static const char *const keys[] = {"r_resyncs", "r_failures", "r_refusals"};
    for (int w = 0; w < 3; w++)
        draw_minutes(r, page, keys[w], m, n, w);
    pv_buf_append_str(page, "</div>\n");
    static const char *const heads[] = {"minute", "r_resyncs", "r_failures", "r_refusals"};
    pv_buf_append_str(page, "<details><summary>");
    pv__portal_text(page, r, "last_minutes");
    pv_buf_append_str(page, "</summary>\n");
    pv__console_table_head(page, r, heads, 4);
    for (size_t i = n; i > 0 && i + 10 > n; i--) {
        char at[40], a[24], b[24], c[24];
        pv__console_format_time(at, sizeof at, m[i - 1].start);
        snprintf(a, sizeof a, "%lld", (long long)m[i - 1].resyncs);
        snprintf(b, sizeof b, "%lld", (long long)m[i - 1].failures);
        snprintf(c, sizeof c, "%lld", (long long)m[i - 1].refusals);
        bool known = m[i - 1].sampled; /* the server was not running yet: no figure, not 0 */
        const char *cells[] = {at, known ? a : "-", known ? b : "-", known ? c : "-"};
        pv__console_table_row(page, cells, 4);
    }
    pv_buf_append_str(page, "</tbody>\n</table>\n</details>\n");
}

/* What is happening now: a storm (requests waiting for admission, per class, and the
 * refusals of this minute), the rollouts running or halted, the device actions not finished. */
static void now_section(pv__portal_req *r, pv_buf *page, int64_t now)
{
    pv_buf text = {0};
    pv_admission_metrics(&text);
    pv_buf_append_char(&text, '\0');
    int64_t waiting = pv_rates_metric_sum(text.data, "provisor_admission_waiting", NULL);
    pv_buf_free(&text);
    pv_rates_minute m[PV_RATES_MINUTES];
    size_t n = pv_rates_read(now, m);
    pv_buf_append_str(page, "<h2>");
    pv__portal_text(page, r, "happening_now");
    pv_buf_appendf(page, "</h2>\n<ul class=\"now\" id=\"now\">\n<li class=\"%s\">",
                   waiting > 0 ? "storm" : "calm");
    pv__portal_text(page, r, waiting > 0 ? "storm" : "no_storm");
    pv_buf_appendf(page, ": <strong id=\"admission-waiting\">%lld</strong> ", (long long)waiting);
    pv__portal_text(page, r, "waiting_admission");
    pv_buf_appendf(page, ", %lld ", (long long)(n ? m[n - 1].refusals : 0));
    pv__portal_text(page, r, "refused_this_minute");
    pv_buf_append_str(page, "</li>\n");

    pv_store_page rp = {.limit = 200};
    pv_store_rollout *rolls = NULL;
    size_t nr = 0, shown = 0;
    pv_error err = {""};
    if (pv_store_rollout_list(r->portal->store, &rp, &rolls, &nr, &err) == 0) {
        for (size_t i = 0; i < nr; i++) {
            bool halted = strcmp(rolls[i].state, "halted") == 0;
            if (!halted && strcmp(rolls[i].state, "running") != 0)
                continue;
            shown++;
            pv_buf_appendf(page, "<li class=\"%s\">", halted ? "halted" : "running");
            pv__portal_text(page, r, "rollout");
            pv_buf_append_str(page, " <a href=\"/firmware\">");
            pv_html_escape(page, rolls[i].name);
            pv_buf_append_str(page, "</a>: ");
            pv_html_escape(page, rolls[i].model);
            pv_buf_append_str(page, " → ");
            pv_html_escape(page, rolls[i].to_version);
            pv_buf_append_str(page, ", ");
            pv__portal_text(page, r, rolls[i].state);
            if (!halted) /* a halt's reason names its stage */
                pv_buf_appendf(page, ", stage %lld", (long long)rolls[i].stage);
            if (halted) {
                pv_buf_append_str(page, " — ");
                pv_html_escape(page, rolls[i].reason);
            }
            pv_buf_append_str(page, "</li>\n");
        }
        pv_store_rollouts_free(rolls, nr);
    }
    if (shown == 0) {
        pv_buf_append_str(page, "<li>");
        pv__portal_text(page, r, "no_rollout_running");
        pv_buf_append_str(page, "</li>\n");
    }

    pv_store_page pg = {.limit = 50};
    pv_store_notify_job *jobs = NULL;
    size_t nj = 0;
    shown = 0;
    if (pv_store_notify_job_list(r->portal->store, &pg, &jobs, &nj, &err) == 0) {
        for (size_t i = 0; i < nj; i++) {
            if (jobs[i].finished_at != 0)
                continue;
            char at[40];
            pv__console_format_time(at, sizeof at, jobs[i].created_at);
            pv_buf_append_str(page, "<li class=\"job\">");
            pv__portal_text(page, r, "job_running");
            pv_buf_appendf(page, " #%lld ", (long long)jobs[i].id);
            pv_html_escape(page, jobs[i].action);
            pv_buf_append_char(page, ' ');
            pv_html_escape(page, jobs[i].subject);
            pv_buf_appendf(page, " (%lld, %s, ", (long long)jobs[i].total, at);
            pv_html_escape(page, jobs[i].actor);
            pv_buf_append_str(page, ")</li>\n");
            shown++;
        }
        free(jobs);
    }
    /* a CSV import the server runs (import_job.h: one at a time), with how far it is */
    pv_store_page ip = {.limit = 10};
    pv_store_import_job *imports = NULL;
    size_t ni = 0;
    if (pv_store_import_job_list(r->portal->store, &ip, &imports, &ni, &err) == 0) {
        for (size_t i = 0; i < ni; i++) {
            if (strcmp(imports[i].state, "running") != 0)
                continue;
            pv_buf_appendf(page, "<li class=\"job import\"><a href=\"/import/%lld\">",
                           (long long)imports[i].id);
            pv__portal_text(page, r, "import_job");
            pv_buf_appendf(page, " #%lld</a> ", (long long)imports[i].id);
            pv_html_escape(page, imports[i].file_name[0] ? imports[i].file_name
                                                         : imports[i].name);
            pv_buf_appendf(page, " (%lld / %lld, ", (long long)imports[i].done_rows,
                           (long long)imports[i].total);
            pv_html_escape(page, imports[i].actor);
            pv_buf_append_str(page, ")</li>\n");
            shown++;
        }
    }
    pv_store_import_jobs_free(imports, ni);
    if (shown == 0) {
        pv_buf_append_str(page, "<li>");
        pv__portal_text(page, r, "no_job_running");
        pv_buf_append_str(page, "</li>\n");
    }
    pv_buf_append_str(page, "</ul>\n");
}

/* The newest device action jobs, finished or not. */
static void recent_jobs(pv__portal_req *r, pv_buf *page)
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
    int64_t now = (int64_t)time(NULL);
    now_section(r, &page, now);
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
    rate_charts(r, &page, now);
    recent_jobs(r, &page);
    pv__portal_page(r, &page, 200);
}
