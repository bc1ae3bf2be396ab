/*
 * report.c — text, JSON, SVG and PNG reports of a fleet run (see report.h).
 */
#include "fleet/report.h"

#include "core/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const double pcts[] = {50, 90, 99, 99.9};
static const double goal_pcts[] = {50, 90, 99, 100};

static void fmt_us(uint64_t us, char *out, size_t size)
{
    int n;
    if (us < 1000)
        n = snprintf(out, size, "%llu us", (unsigned long long)us);
    else if (us < 1000000)
        n = snprintf(out, size, "%.1f ms", us / 1000.0);
    else
        n = snprintf(out, size, "%.2f s", us / 1e6);
    if (n < 0 || (size_t)n >= size) /* callers give 32 bytes: cannot happen */
        out[0] = '\0';
}

static const char *goal_text(pv_fleet_goal g)
{
    switch (g) {
    case PV_GOAL_SWVER:
        return "running the new firmware";
    case PV_GOAL_SECPRV2:
        return "bound and in SEC-PRV-2";
    case PV_GOAL_REPORT:
        return "in SEC-PRV-2, report accepted";
    case PV_GOAL_PUSH:
        return "resynced on the server's SIP NOTIFY";
    case PV_GOAL_SWVER_RESYNC:
        return "resynced on the new firmware";
    default:
        return "a successful resync";
    }
}

static double peak_rate(const pv_fleet_stats *s)
{
    uint32_t peak = 0;
    for (size_t i = 0; i < s->nslots; i++)
        if (s->slot[i].arrivals > peak)
            peak = s->slot[i].arrivals;
    return peak * 1000.0 / (double)s->slot_ms;
}

static void mix_text(const pv_fleet_mix *m, pv_buf *out)
{
    bool first = true;
    for (int k = 1; k <= 3; k++) {
        if (m->weight[k] == 0)
            continue;
        pv_buf_appendf(out, "%s%s:%u", first ? "" : ",", pv_agent_family_name((pv_agent_family)k),
                       m->weight[k]);
        first = false;
    }
}

void pv_fleet_report_text(const pv_fleet *f, pv_buf *out)
{
    const pv_fleet_stats *s = pv_fleet_get_stats(f);
    const pv_fleet_plan *p = pv_fleet_get_plan(f);
    const pv_fleet_config *c = pv_fleet_get_config(f);
    const pv_fleet_summary *m = pv_fleet_get_summary(f);
    char a[32], b[32], d[32], e[32], g[32];
    pv_buf_appendf(out, "provisor fleet: scenario %s, %u phones (", p->scenario->name, c->phones);
    mix_text(&c->mix, out);
    pv_buf_appendf(out, "), %s clock, seed %llu\nservers:", c->virtual_clock ? "virtual" : "real",
                   (unsigned long long)c->seed);
    for (size_t i = 0; i < c->nservers; i++)
        pv_buf_appendf(out, " %s", c->servers[i]);
    pv_buf_appendf(out, "\nstopped by %s at %.1f s of scenario time (limit %.0f s)\n\n",
                   m->stopped_by ? m->stopped_by : "?", m->scenario_ms / 1000.0,
                   p->duration_ms / 1000.0);
    pv_buf_appendf(out, "goal (%s): %u/%u phones (%.1f %%)\ntime to goal:", goal_text(p->goal),
                   s->reached, s->phones, s->phones ? 100.0 * s->reached / s->phones : 0.0);
    for (size_t k = 0; k < 4; k++) {
        uint64_t ms;
        if (pv_fleet_stats_time_to(s, goal_pcts[k], &ms))
            pv_buf_appendf(out, "  %g %% %.1f s", goal_pcts[k], ms / 1000.0);
        else
            pv_buf_appendf(out, "  %g %% not reached", goal_pcts[k]);
    }
    double secs = m->scenario_ms > 0 ? m->scenario_ms / 1000.0 : 1.0;
    pv_buf_appendf(
        out,
        "\n\nrequests %llu: ok %llu, failed %llu, unfinished at the end %llu; %.1f req/s "
        "mean, %.0f req/s peak demand; at most %u in flight\n",
        (unsigned long long)s->requests, (unsigned long long)s->ok, (unsigned long long)s->failed,
        (unsigned long long)(s->requests - s->ok - s->failed), s->requests / secs, peak_rate(s),
        s->in_flight_max);
    pv_buf_appendf(out, "%-10s %9s %9s %7s %10s %10s %10s %10s %10s\n", "phase", "requests", "ok",
                   "failed", "p50", "p90", "p99", "p99.9", "max");
    for (size_t k = 0; k < s->nphases; k++) {
        const pv_fleet_phase *ph = &s->phase[k];
        fmt_us(pv_hist_percentile(&ph->latency, 50), a, sizeof a);
        fmt_us(pv_hist_percentile(&ph->latency, 90), b, sizeof b);
        fmt_us(pv_hist_percentile(&ph->latency, 99), d, sizeof d);
        fmt_us(pv_hist_percentile(&ph->latency, 99.9), e, sizeof e);
        fmt_us(ph->latency.count ? ph->latency.max : 0, g, sizeof g);
        pv_buf_appendf(out, "%-10s %9llu %9llu %7llu %10s %10s %10s %10s %10s\n", ph->name,
                       (unsigned long long)ph->requests, (unsigned long long)ph->ok,
                       (unsigned long long)ph->failed, a, b, d, e, g);
    }
    pv_buf_append_str(out, "\nfailures by cause:");
    if (s->ncauses == 0)
        pv_buf_append_str(out, " none");
    for (size_t k = 0; k < s->ncauses; k++)
        pv_buf_appendf(out, "\n  %-24s %llu", s->cause[k].name,
                       (unsigned long long)s->cause[k].count);
    uint32_t st[4];
    pv_fleet_prov_states(f, st);
    pv_buf_appendf(out,
                   "\n\nprovisioning states: MFG-RESET %u, SP-CUST %u, SEC-PRV-1 %u, "
                   "SEC-PRV-2 %u\n",
                   st[0], st[1], st[2], st[3]);
    double cores = m->wall_s > 0 ? m->cpu_s / m->wall_s : 0;
    pv_buf_appendf(out,
                   "\ncost: setup %.2f s; run %.2f s wall, %.2f s CPU (%.2f cores); "
                   "%.0f requests per CPU second\n",
                   m->setup_s, m->wall_s, m->cpu_s, cores,
                   m->cpu_s > 0 ? s->requests / m->cpu_s : 0);
    if (c->phones > 0)
        pv_buf_appendf(out,
                       "memory: %.2f KiB per phone in its agent (pv_agent_memory), %.2f KiB per "
                       "phone resident after setup (statm), %.1f MiB peak resident (VmHWM)\n",
                       m->agent_bytes / 1024.0 / c->phones,
                       (m->rss_phones > m->rss_before ? m->rss_phones - m->rss_before : 0) /
                           1024.0 / c->phones,
                       m->rss_peak / 1048576.0);
    if (!c->virtual_clock)
        pv_buf_appendf(out, "connections: %llu new%s\n", (unsigned long long)m->connections,
                       c->ca_file ? "" : "; server certificates NOT verified (no --ca)");
    if (c->sip_port != 0)
        pv_buf_appendf(out,
                       "sip: %u/%u phones registered at the end, %u resynced on a NOTIFY\n",
                       m->sip_registered, c->phones, m->sip_notified);
}

static json_t *hist_json(const pv_hist *h)
{
    json_t *o = json_object();
    json_object_set_new(o, "count", json_integer((json_int_t)h->count));
    json_object_set_new(o, "mean_us", json_integer(h->count ? (json_int_t)(h->sum / h->count) : 0));
    json_object_set_new(o, "min_us", json_integer(h->count ? (json_int_t)h->min : 0));
    json_object_set_new(o, "max_us", json_integer((json_int_t)h->max));
    static const char *const names[] = {"p50_us", "p90_us", "p99_us", "p999_us"};
    for (size_t k = 0; k < 4; k++)
        json_object_set_new(o, names[k], json_integer((json_int_t)pv_hist_percentile(h, pcts[k])));
    return o;
}

static json_t *summary_json(const pv_fleet *f)
{
    const pv_fleet_summary *m = pv_fleet_get_summary(f);
    const pv_fleet_config *c = pv_fleet_get_config(f);
    json_t *o = json_object();
    json_object_set_new(o, "wall_s", json_real(m->wall_s));
    json_object_set_new(o, "cpu_s", json_real(m->cpu_s));
    json_object_set_new(o, "setup_s", json_real(m->setup_s));
    json_object_set_new(o, "agent_bytes", json_integer((json_int_t)m->agent_bytes));
    json_object_set_new(o, "agent_bytes_per_phone",
                        json_real(c->phones ? (double)m->agent_bytes / c->phones : 0));
    uint64_t grown = m->rss_phones > m->rss_before ? m->rss_phones - m->rss_before : 0;
    json_object_set_new(o, "rss_per_phone_bytes",
                        json_real(c->phones ? (double)grown / c->phones : 0));
    json_object_set_new(o, "rss_peak_bytes", json_integer((json_int_t)m->rss_peak));
    json_object_set_new(o, "rss_end_bytes", json_integer((json_int_t)m->rss_end));
    json_object_set_new(o, "connections", json_integer((json_int_t)m->connections));
    if (c->sip_port != 0) {
        json_object_set_new(o, "sip_registered", json_integer((json_int_t)m->sip_registered));
        json_object_set_new(o, "sip_notified", json_integer((json_int_t)m->sip_notified));
    }
    return o;
}

void pv_fleet_report_json(const pv_fleet *f, pv_buf *out)
{
    const pv_fleet_stats *s = pv_fleet_get_stats(f);
    const pv_fleet_plan *p = pv_fleet_get_plan(f);
    const pv_fleet_config *c = pv_fleet_get_config(f);
    const pv_fleet_summary *m = pv_fleet_get_summary(f);
    json_t *o = json_object();
    json_object_set_new(o, "scenario", json_string(p->scenario->name));
    json_object_set_new(o, "phones", json_integer(c->phones));
    pv_buf mix = {0};
    mix_text(&c->mix, &mix);
    json_object_set_new(o, "mix", json_string(mix.data ? mix.data : ""));
    pv_buf_free(&mix);
    json_object_set_new(o, "seed", json_integer((json_int_t)c->seed));
    json_object_set_new(o, "clock", json_string(c->virtual_clock ? "virtual" : "real"));
    json_t *servers = json_array();
    for (size_t i = 0; i < c->nservers; i++)
        json_array_append_new(servers, json_string(c->servers[i]));
    json_object_set_new(o, "servers", servers);
    json_object_set_new(o, "stopped_by", json_string(m->stopped_by ? m->stopped_by : "?"));
    json_object_set_new(o, "scenario_ms", json_integer((json_int_t)m->scenario_ms));
    json_object_set_new(o, "goal", json_string(goal_text(p->goal)));
    json_object_set_new(o, "reached", json_integer(s->reached));
    json_t *tt = json_object();
    static const char *const gnames[] = {"p50_ms", "p90_ms", "p99_ms", "p100_ms"};
    for (size_t k = 0; k < 4; k++) {
        uint64_t ms;
        json_object_set_new(tt, gnames[k],
                            pv_fleet_stats_time_to(s, goal_pcts[k], &ms)
                                ? json_integer((json_int_t)ms)
                                : json_null());
    }
    json_object_set_new(o, "time_to_goal", tt);
    json_object_set_new(o, "requests", json_integer((json_int_t)s->requests));
    json_object_set_new(o, "ok", json_integer((json_int_t)s->ok));
    json_object_set_new(o, "failed", json_integer((json_int_t)s->failed));
    json_object_set_new(o, "unfinished",
                        json_integer((json_int_t)(s->requests - s->ok - s->failed)));
    json_object_set_new(o, "in_flight_max", json_integer(s->in_flight_max));
    json_object_set_new(o, "peak_rps", json_real(peak_rate(s)));
    json_t *phases = json_array();
    for (size_t k = 0; k < s->nphases; k++) {
        const pv_fleet_phase *ph = &s->phase[k];
        json_t *po = json_object();
        json_object_set_new(po, "name", json_string(ph->name));
        json_object_set_new(po, "start_ms", json_integer((json_int_t)ph->start_ms));
        json_object_set_new(po, "requests", json_integer((json_int_t)ph->requests));
        json_object_set_new(po, "ok", json_integer((json_int_t)ph->ok));
        json_object_set_new(po, "failed", json_integer((json_int_t)ph->failed));
        json_object_set_new(po, "latency", hist_json(&ph->latency));
        json_array_append_new(phases, po);
    }
    json_object_set_new(o, "phases", phases);
    json_t *causes = json_object();
    for (size_t k = 0; k < s->ncauses; k++)
        json_object_set_new(causes, s->cause[k].name, json_integer((json_int_t)s->cause[k].count));
    json_object_set_new(o, "failures", causes);
    uint32_t st[4];
    pv_fleet_prov_states(f, st);
    json_t *states = json_object();
    for (int k = 0; k < 4; k++)
        json_object_set_new(states, pv_agent_prov_state_name((pv_agent_prov_state)k),
                            json_integer(st[k]));
    json_object_set_new(o, "prov_states", states);
    json_object_set_new(o, "cost", summary_json(f));
    char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    pv_buf_append_str(out, text);
    pv_buf_append_char(out, '\n');
    free(text);
    json_decref(o);
}

/* ---- the plot ---- */

#define W 960
#define H 600
#define L 70 /* left margin */
#define R 60 /* right margin */
#define PW (W - L - R)
#define TOP_Y 50
#define TOP_H 270
#define BOT_Y 370
#define BOT_H 170

static void polyline(pv_buf *out, const double *y, size_t n, double ymax, int y0, int h,
                     const char *style)
{
    pv_buf_appendf(out, "<polyline fill=\"none\" %s points=\"", style);
    for (size_t i = 0; i < n; i++) {
        double x = L + (n > 1 ? (double)PW * i / (n - 1) : 0);
        double v = ymax > 0 ? y[i] / ymax : 0;
        pv_buf_appendf(out, "%.1f,%.1f ", x, y0 + h - v * h);
    }
    pv_buf_append_str(out, "\"/>\n");
}

static void axes(pv_buf *out, int y0, int h, double ymax, const char *unit, double seconds)
{
    pv_buf_appendf(out,
                   "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#fafafa\" "
                   "stroke=\"#999\"/>\n",
                   L, y0, PW, h);
    for (int k = 0; k <= 4; k++) {
        double yy = y0 + h - (double)h * k / 4;
        pv_buf_appendf(out,
                       "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                       "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.3g</text>\n",
                       L, yy, L + PW, yy, L - 6, yy + 4, ymax * k / 4);
    }
    for (int k = 0; k <= 8; k++) {
        double xx = L + (double)PW * k / 8;
        pv_buf_appendf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.4g s</text>\n", xx,
                       y0 + h + 16, seconds * k / 8);
    }
    pv_buf_appendf(out, "<text x=\"%d\" y=\"%d\">%s</text>\n", 8, y0 - 8, unit);
}

void pv_fleet_report_svg(const pv_fleet *f, pv_buf *out)
{
    const pv_fleet_stats *s = pv_fleet_get_stats(f);
    const pv_fleet_plan *p = pv_fleet_get_plan(f);
    const pv_fleet_config *c = pv_fleet_get_config(f);
    size_t n = (size_t)(s->end_ms / s->slot_ms) + 1;
    if (n > s->nslots)
        n = s->nslots;
    if (n < 2)
        n = 2;
    double *arr = pv_calloc(n, sizeof *arr), *done = pv_calloc(n, sizeof *done);
    double *fail = pv_calloc(n, sizeof *fail), *goal = pv_calloc(n, sizeof *goal);
    double *lmean = pv_calloc(n, sizeof *lmean), *lmax = pv_calloc(n, sizeof *lmax);
    double per_s = 1000.0 / (double)s->slot_ms, rmax = 1, latmax = 1, cum = 0;
    for (size_t i = 0; i < n && i < s->nslots; i++) {
        const pv_fleet_slot *sl = &s->slot[i];
        arr[i] = sl->arrivals * per_s;
        done[i] = sl->completions * per_s;
        fail[i] = sl->failures * per_s;
        cum += sl->goals;
        goal[i] = s->phones ? 100.0 * cum / s->phones : 0;
        uint32_t finished = sl->completions + sl->failures;
        lmean[i] = finished ? sl->latency_sum / 1000.0 / finished : 0;
        lmax[i] = sl->latency_max / 1000.0;
        if (arr[i] > rmax)
            rmax = arr[i];
        if (done[i] > rmax)
            rmax = done[i];
        if (fail[i] > rmax)
            rmax = fail[i];
        if (lmax[i] > latmax)
            latmax = lmax[i];
    }
    double seconds = (double)(n - 1) * s->slot_ms / 1000.0;
    pv_buf_appendf(out,
                   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                   "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
                   "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n"
                   "<text x=\"%d\" y=\"22\" font-size=\"16\">provisor fleet: %s, %u phones, %s "
                   "clock</text>\n",
                   W, H, W, H, W, H, L, p->scenario->name, c->phones,
                   c->virtual_clock ? "virtual" : "real");
    axes(out, TOP_Y, TOP_H, rmax, "requests per second", seconds);
    polyline(out, arr, n, rmax, TOP_Y, TOP_H, "stroke=\"#1f77b4\" stroke-width=\"1.5\"");
    polyline(out, done, n, rmax, TOP_Y, TOP_H, "stroke=\"#2ca02c\" stroke-width=\"1.5\"");
    polyline(out, fail, n, rmax, TOP_Y, TOP_H, "stroke=\"#d62728\" stroke-width=\"1.5\"");
    polyline(out, goal, n, 100, TOP_Y, TOP_H,
             "stroke=\"black\" stroke-dasharray=\"6 4\" stroke-width=\"1.5\"");
    pv_buf_appendf(out,
                   "<text x=\"%d\" y=\"%d\">100 %%</text><text x=\"%d\" y=\"%d\">0 %%</text>\n"
                   "<text x=\"%d\" y=\"%d\" fill=\"#1f77b4\">arrivals</text>"
                   "<text x=\"%d\" y=\"%d\" fill=\"#2ca02c\">completions</text>"
                   "<text x=\"%d\" y=\"%d\" fill=\"#d62728\">failures</text>"
                   "<text x=\"%d\" y=\"%d\">- - phones at goal (%%, right)</text>\n",
                   L + PW + 6, TOP_Y + 4, L + PW + 6, TOP_Y + TOP_H, L + 200, TOP_Y - 8, L + 270,
                   TOP_Y - 8, L + 360, TOP_Y - 8, L + 430, TOP_Y - 8);
    axes(out, BOT_Y, BOT_H, latmax, "latency (ms)", seconds);
    polyline(out, lmean, n, latmax, BOT_Y, BOT_H, "stroke=\"#9467bd\" stroke-width=\"1.5\"");
    polyline(out, lmax, n, latmax, BOT_Y, BOT_H, "stroke=\"#ff7f0e\" stroke-width=\"1\"");
    pv_buf_appendf(out,
                   "<text x=\"%d\" y=\"%d\" fill=\"#9467bd\">mean</text>"
                   "<text x=\"%d\" y=\"%d\" fill=\"#ff7f0e\">max</text>\n</svg>\n",
                   L + 200, BOT_Y - 8, L + 250, BOT_Y - 8);
    free(arr);
    free(done);
    free(fail);
    free(goal);
    free(lmean);
    free(lmax);
}

static int write_file(const char *dir, const char *name, const pv_buf *b, pv_error *err)
{
    char path[4096], tmp[4200];
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof path)
        return pv_error_set(err, PV_ETOOBIG, "report directory name too long");
    snprintf(tmp, sizeof tmp, "%s.tmp", path); /* tmp is larger than path: no cut */
    FILE *fp = fopen(tmp, "w");
    if (fp == NULL)
        return pv_error_set(err, PV_EIO, "%s: %s", tmp, strerror(errno));
    bool ok = fwrite(b->data ? b->data : "", 1, b->len, fp) == b->len;
    ok = (fclose(fp) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return pv_error_set(err, PV_EIO, "%s: cannot write (%s)", path, strerror(errno));
    }
    return 0;
}

/* rsvg-convert plot.svg -o plot.png, without a shell; false when it is missing or fails. */
static bool render_png(const char *dir)
{
    char svg[4096], png[4096];
    if (snprintf(svg, sizeof svg, "%s/plot.svg", dir) >= (int)sizeof svg ||
        snprintf(png, sizeof png, "%s/plot.png", dir) >= (int)sizeof png)
        return false;
    pid_t pid = fork();
    if (pid < 0)
        return false;
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) {
            dup2(devnull, 1);
            dup2(devnull, 2);
        }
        execlp("rsvg-convert", "rsvg-convert", "--format", "png", "--output", png, svg,
               (char *)NULL);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int pv_fleet_report_write(const pv_fleet *f, const char *dir, bool *png_made, pv_error *err)
{
    *png_made = false;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return pv_error_set(err, PV_EIO, "--report %s: %s", dir, strerror(errno));
    pv_buf b = {0};
    pv_fleet_report_text(f, &b);
    int rc = write_file(dir, "report.txt", &b, err);
    pv_buf_reset(&b);
    if (rc == 0) {
        pv_fleet_report_json(f, &b);
        rc = write_file(dir, "report.json", &b, err);
        pv_buf_reset(&b);
    }
    if (rc == 0) {
        pv_fleet_report_svg(f, &b);
        rc = write_file(dir, "plot.svg", &b, err);
    }
    pv_buf_free(&b);
    if (rc == 0)
        *png_made = render_png(dir);
    return rc;
}
