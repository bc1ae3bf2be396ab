/*
 * console_firmware.c — the console's firmware page (issue 15, "the console's firmware
 * page"; docs/rollouts.md): each rollout
 * with its stages and their health (upgraded, failed, missing, in a call, per stage),
 * the thresholds that halt it and the reason it halted; for operators the decisions
 * after a halt (resume, abort, rollback) and a form to create a rollout. The images and
 * upgrade plans below them are console_plans.c's.
 *
 * Read from the store here; every change is an admin API call that console.js sends with
 * the session (pv__console_api → pv_api_handle_as), so the API's own validation, role
 * check and audit decide — the console has no second implementation of a rollout.
 */
#include "server/console_int.h"

#include "store/store_rollouts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One stage's row: its devices (the admission order's positions from the previous stage's
 * bound to its own), times, outcome and its members' health. */
static void stage_row(pv_buf *page, const pv_store_rollout *ro, const pv_store_rollout_stage *st,
                      int64_t from, const pv_store_rollout_counts *c)
{
    char started[40], finished[40];
    pv__console_format_time(started, sizeof started, st->started_at);
    pv__console_format_time(finished, sizeof finished, st->finished_at);
    bool current = st->idx == ro->stage &&
                   (strcmp(ro->state, "running") == 0 || strcmp(ro->state, "halted") == 0);
    pv_buf_appendf(page, "<tr%s><th scope=\"row\">", current ? " class=\"current\"" : "");
    pv_html_escape(page, st->label);
    pv_buf_appendf(page, "</th><td>%lld</td><td>%s</td><td>%s</td><td>",
                   (long long)(st->upto - from), started, finished);
    pv_html_escape(page, st->outcome[0] ? st->outcome : "-");
    pv_buf_appendf(page,
                   "</td><td>%lld</td><td>%lld</td><td%s>%lld</td><td%s>%lld</td><td>%lld</td>"
                   "<td>%lld</td></tr>\n",
                   (long long)c->admitted, (long long)c->upgraded,
                   c->failed ? " class=\"bad\"" : "", (long long)c->failed,
                   c->missing ? " class=\"bad\"" : "", (long long)c->missing, (long long)c->in_call,
                   (long long)c->pending);
}

/* resume after a halt; abort while running or halted; rollback unless rolled back already
 * (pv_rollout_act's rules: the API answers 409 otherwise, the page offers only these). */
static void rollout_actions(pv__portal_req *r, pv_buf *page, const pv_store_rollout *ro)
{
    bool halted = strcmp(ro->state, "halted") == 0, running = strcmp(ro->state, "running") == 0,
         rolled_back = strcmp(ro->state, "rolled_back") == 0;
    if (!pv__console_can_change(r) || rolled_back)
        return;
    pv_buf path = {0};
    pv_buf_append_str(page, "<ul class=\"actions reload\">\n");
    static const struct {
        const char *verb, *label;
    } acts[] = {
        {"resume", "rollout_resume"}, {"abort", "rollout_abort"}, {"rollback", "rollout_rollback"}};
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++) {
        if ((i == 0 && !halted) || (i == 1 && !halted && !running))
            continue;
        pv_buf_reset(&path);
        pv_buf_append_str(&path, "/api/v1/rollouts/");
        pv__console_url_escape(&path, ro->name);
        pv_buf_appendf(&path, "/%s", acts[i].verb);
        pv_buf_append_char(&path, '\0');
        pv__console_action_button(page, r, "POST", path.data, "{}", acts[i].label);
    }
    pv_buf_free(&path);
    pv_buf_append_str(page, "</ul>\n");
}

static void rollout_section(pv__portal_req *r, pv_buf *page, const pv_store_rollout *ro)
{
    pv_store *s = r->portal->store;
    pv_buf_appendf(page,
                   "<section class=\"rollout state-%s\" aria-labelledby=\"ro-%lld\">\n"
                   "<h3 id=\"ro-%lld\">",
                   ro->state, (long long)ro->id, (long long)ro->id);
    pv_html_escape(page, ro->name);
    pv_buf_append_str(page, "</h3>\n<p>");
    pv_html_escape(page, ro->model);
    pv_buf_append_str(page, ": ");
    pv_html_escape(page, ro->from_version[0] ? ro->from_version : "?");
    pv_buf_append_str(page, " → ");
    pv_html_escape(page, ro->to_version);
    pv_buf_append_str(page, " · <strong class=\"rstate\">");
    pv__portal_text(page, r, ro->state); /* running, halted... are catalog keys */
    pv_buf_append_str(page, "</strong> · ");
    pv__portal_text(page, r, "rollout_thresholds");
    pv_buf_appendf(page, " %lld.%lld %% / %lld.%lld %%, soak %lld s, %lld/min, %lld ",
                   (long long)ro->max_failed_permille / 10, (long long)ro->max_failed_permille % 10,
                   (long long)ro->max_missing_permille / 10,
                   (long long)ro->max_missing_permille % 10, (long long)ro->soak_s,
                   (long long)ro->per_minute, (long long)ro->max_in_flight);
    pv__portal_text(page, r, "in_flight");
    pv_buf_append_str(page, "</p>\n");
    if (ro->reason[0] != '\0') {
        bool halted = strcmp(ro->state, "halted") == 0;
        pv_buf_appendf(page, "<p class=\"%s\"%s>", halted ? "error" : "reason",
                       halted ? " role=\"alert\"" : "");
        pv__portal_text(page, r, "rollout_reason");
        pv_buf_append_str(page, ": ");
        pv_html_escape(page, ro->reason);
        pv_buf_append_str(page, "</p>\n");
    }
    pv_store_rollout_stage *st = NULL;
    size_t nst = 0;
    pv_error err = {""};
    if (pv_store_rollout_stages(s, ro->id, &st, &nst, &err) == 0) {
        static const char *const heads[] = {"stage",     "devices",    "started",    "finished",
                                            "outcome",   "r_admitted", "r_upgraded", "r_failed",
                                            "r_missing", "r_in_call",  "r_pending"};
        pv__console_table_head(page, r, heads, sizeof heads / sizeof heads[0]);
        for (size_t i = 0; i < nst; i++) {
            pv_store_rollout_counts c = {0};
            if (pv_store_rollout_count(s, ro->id, st[i].idx, 0, &c, &err) == 0)
                stage_row(page, ro, &st[i], i > 0 ? st[i - 1].upto : 0, &c);
        }
        pv_buf_append_str(page, "</tbody>\n</table>\n");
        free(st);
    }
    rollout_actions(r, page, ro);
    pv_buf_append_str(page, "</section>\n");
}

/* An input of the create form: data-key names its field of the API's body, type ("" for text,
 * "int", "number", "list") tells console.js the JSON type. */
static void field(pv_buf *page, pv__portal_req *r, const char *key, const char *label,
                  const char *type, const char *placeholder)
{
    pv_buf_appendf(page, "<div class=\"field\"><label for=\"rc-%s\">", key);
    pv__portal_text(page, r, label);
    pv_buf_appendf(page, "</label>\n<input id=\"rc-%s\" data-key=\"%s\" maxlength=\"64\"", key,
                   key);
    if (type[0] != '\0')
        pv_buf_appendf(page, " data-type=\"%s\"%s", type,
                       strcmp(type, "int") == 0 ? " inputmode=\"numeric\"" : "");
    if (placeholder[0] != '\0')
        pv_buf_appendf(page, " placeholder=\"%s\"", placeholder);
    pv_buf_append_str(page, "></div>\n");
}

/* The create form (operators): what POST /api/v1/rollouts takes; empty fields are left out,
 * so the API's defaults apply (docs/rollouts.md); the page is read again on success. */
static void create_form(pv__portal_req *r, pv_buf *page)
{
    pv_buf_append_str(page, "<h2 id=\"create-rollout\">");
    pv__portal_text(page, r, "rollout_create");
    pv_buf_append_str(page, "</h2>\n<form class=\"api-form edit\" id=\"rollout-form\" "
                            "data-method=\"POST\" data-path=\"/api/v1/rollouts\" "
                            "data-then=\"reload\" data-omit-empty "
                            "aria-labelledby=\"create-rollout\">\n");
    static const struct {
        const char *key, *label, *type, *placeholder;
    } fields[] = {
        {"name", "name", "", ""},
        {"model", "model", "", ""},
        {"account", "account", "", ""},
        {"from_version", "r_from", "", ""},
        {"percent", "r_percent", "int", "100"},
        {"canary", "r_canary", "int", ""},
        {"cohorts", "r_cohorts", "list", "1,10,50,100"},
        {"per_minute", "r_per_minute", "int", ""},
        {"max_in_flight", "r_in_flight", "int", ""},
        {"soak_s", "r_soak", "int", ""},
        {"max_failed_percent", "r_max_failed", "number", "2"},
        {"max_missing_percent", "r_max_missing", "number", "1"},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        field(page, r, fields[i].key, fields[i].label, fields[i].type, fields[i].placeholder);
    pv_buf_append_str(page, "<button type=\"submit\" id=\"rollout-create\">");
    pv__portal_text(page, r, "rollout_create");
    pv_buf_append_str(page, "</button>\n<p class=\"verdict\" role=\"status\" "
                            "aria-live=\"polite\"></p>\n</form>\n");
}

void pv__console_firmware_page(pv__portal_req *r, const pv__console_fw_form *f)
{
    pv_buf page = {0};
    pv__console_open_page(&page, r, "firmware_title");
    if (pv__console_can_change(r))
        pv_buf_append_str(&page, "<p class=\"outcome\" id=\"outcome\" role=\"status\" "
                                 "aria-live=\"polite\"></p>\n");
    pv_buf_append_str(&page, "<h2>");
    pv__portal_text(&page, r, "rollouts");
    pv_buf_append_str(&page, "</h2>\n");
    pv_store_page rp = {.limit = 50};
    pv_store_rollout *rolls = NULL;
    size_t n = 0;
    pv_error err = {""};
    if (pv_store_rollout_list(r->portal->store, &rp, &rolls, &n, &err) != 0) {
        pv_buf_free(&page);
        pv__console_store_failed(r, &err);
        return;
    }
    if (n == 0) {
        pv_buf_append_str(&page, "<p>");
        pv__portal_text(&page, r, "no_rollouts");
        pv_buf_append_str(&page, "</p>\n");
    }
    for (size_t i = 0; i < n; i++)
        rollout_section(r, &page, &rolls[i]);
    pv_store_rollouts_free(rolls, n);
    if (pv__console_can_change(r))
        create_form(r, &page);
    pv__console_images_and_plans(r, &page, f);
    pv__portal_page(r, &page, f ? f->status : 200);
}
