/*
 * console_devices.c — the console's device search (keyset pages over the
 * devices table, store_device_search.h) and a device's page: its layered
 * parameters, reports, audit trail and actions.
 */
#include "server/console_int.h"

#include "core/param.h"
#include "server/render.h"
#include "store/store_device_search.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define DEVICES_PER_PAGE 50
#define LAYER_NAMES                                                                                \
    {                                                                                              \
        "global", "model", "account", "device"                                                     \
    }

/* The account a device row names, by name as an operator knows it (a link to its page), each
 * account read once per page; "-" for none. */
typedef struct account_name {
    int64_t id;
    pv_store_account account; /* id 0: could not be read */
} account_name;

static void account_cell(pv_buf *page, pv__portal_req *r, int64_t id, account_name *names,
                         size_t *count)
{
    if (id == 0) {
        pv_buf_append_char(page, '-');
        return;
    }
    account_name *hit = NULL;
    for (size_t i = 0; i < *count && hit == NULL; i++)
        if (names[i].id == id)
            hit = &names[i];
    if (hit == NULL) {
        hit = &names[(*count)++];
        *hit = (account_name){.id = id};
        pv_error err = {""};
        if (pv_store_account_get(r->portal->store, id, &hit->account, &err) != 0)
            hit->account = (pv_store_account){0};
    }
    if (hit->account.name == NULL) {
        pv_buf_appendf(page, "%lld", (long long)id);
        return;
    }
    pv_buf_append_str(page, "<a href=\"/accounts/");
    pv__console_url_escape(page, hit->account.name);
    pv_buf_append_str(page, "\">");
    pv_html_escape(page, hit->account.name);
    pv_buf_append_str(page, "</a>");
}

/* The last-seen filter: a choice (seen=within, not_for, never; "" any) and an age ("7d"). */
static const char *const seen_choices[][2] = {{"", "any"},
                                              {"within", "seen_within"},
                                              {"not_for", "seen_not_for"},
                                              {"never", "seen_never"}};

static void seen_fields(pv_buf *page, pv__portal_req *r, const char *seen, const char *age)
{
    pv_buf_append_str(page, "<div class=\"field\"><label for=\"q-seen\">");
    pv__portal_text(page, r, "last_seen");
    pv_buf_append_str(page, "</label>\n<select id=\"q-seen\" name=\"seen\">\n");
    for (size_t i = 0; i < sizeof seen_choices / sizeof seen_choices[0]; i++) {
        pv_buf_appendf(page, "<option value=\"%s\"%s>", seen_choices[i][0],
                       strcmp(seen, seen_choices[i][0]) == 0 ? " selected" : "");
        pv__portal_text(page, r, seen_choices[i][1]);
        pv_buf_append_str(page, "</option>\n");
    }
    pv_buf_append_str(page, "</select></div>\n");
    pv__console_text_field(page, r, "age", "seen_age", age);
}

/* seen and age into dq (now: the page's clock); the problem's text key, or NULL. */
static const char *seen_query(const char *seen, const char *age, int64_t now,
                              pv_store_device_query *dq)
{
    if (seen[0] == '\0')
        return NULL;
    if (strcmp(seen, "never") == 0) {
        dq->never_seen = true;
        return NULL;
    }
    int64_t seconds = 0;
    pv_error err = {""};
    if (pv_store_seen_age(age, &seconds, &err) != 0)
        return "bad_age";
    if (strcmp(seen, "within") == 0)
        dq->seen_since = now - seconds;
    else if (strcmp(seen, "not_for") == 0)
        dq->seen_before = now - seconds;
    else
        return "bad_seen";
    return NULL;
}

void pv__console_devices_page(pv__portal_req *r)
{
    char mac[40] = "", account[80] = "", state[16] = "", model[64] = "", fw[64] = "",
         after[16] = "", seen[16] = "", age[40] = "";
    pv_slice q = r->req->query;
    (void)pv_form_get(q, "seen", seen, sizeof seen);
    (void)pv_form_get(q, "age", age, sizeof age);
    (void)pv_form_get(q, "mac", mac, sizeof mac);
    (void)pv_form_get(q, "account", account, sizeof account);
    (void)pv_form_get(q, "state", state, sizeof state);
    (void)pv_form_get(q, "model", model, sizeof model);
    (void)pv_form_get(q, "firmware", fw, sizeof fw);
    (void)pv_form_get(q, "after", after, sizeof after);
    pv_buf page = {0};
    pv__console_open_page(&page, r, "devices_title");
    pv_buf_append_str(&page, "<form class=\"search\" method=\"get\" action=\"/devices\" "
                             "role=\"search\">\n");
    pv__console_text_field(&page, r, "mac", "mac_prefix", mac);
    pv__console_text_field(&page, r, "account", "account", account);
    pv_buf_append_str(&page, "<div class=\"field\"><label for=\"q-state\">");
    pv__portal_text(&page, r, "state");
    pv_buf_append_str(&page,
                      "</label>\n<select id=\"q-state\" name=\"state\">\n<option value=\"\">");
    pv__portal_text(&page, r, "any");
    pv_buf_append_str(&page, "</option>\n");
    for (int st = PV_STATE_MFG_RESET; st <= PV_STATE_SEC_PRV_2; st++) {
        const char *name = pv_store_state_name((pv_store_state)st);
        pv_buf_appendf(&page, "<option%s>%s</option>\n",
                       strcmp(state, name) == 0 ? " selected" : "", name);
    }
    pv_buf_append_str(&page, "</select></div>\n");
    pv__console_text_field(&page, r, "model", "model", model);
    pv__console_text_field(&page, r, "firmware", "firmware", fw);
    seen_fields(&page, r, seen, age);
    pv_buf_append_str(&page, "<button type=\"submit\">");
    pv__portal_text(&page, r, "search");
    pv_buf_append_str(&page, "</button>\n</form>\n");

    pv_store_device_query dq = {.state = state, .model = model, .firmware = fw};
    pv_error err = {""};
    const char *problem = NULL;
    if (pv_store_mac_prefix(mac, dq.mac_prefix, &err) != 0)
        problem = err.msg;
    if (problem == NULL && account[0] != '\0') {
        pv_store_account a = {0};
        if (pv_store_account_get_by_name(r->portal->store, account, &a, &err) == 0)
            dq.account_id = a.id;
        else
            problem = pv__portal_t(r, "no_such_account");
        pv_store_account_free(&a);
    }
    pv_store_state st_value;
    if (problem == NULL && state[0] != '\0' && pv_store_state_parse(state, &st_value) != 0)
        problem = pv__portal_t(r, "bad_state");
    const char *seen_problem = problem == NULL ? seen_query(seen, age, time(NULL), &dq) : NULL;
    if (seen_problem != NULL)
        problem = pv__portal_t(r, seen_problem);
    if (problem != NULL) {
        pv_buf_append_str(&page, "<p class=\"error\" role=\"alert\">");
        pv_html_escape(&page, problem);
        pv_buf_append_str(&page, "</p>\n");
        pv__portal_page(r, &page, 422);
        return;
    }
    pv_store_page pg = {.limit = DEVICES_PER_PAGE};
    snprintf(pg.after, sizeof pg.after, "%s", after);
    pv_store_device *rows = NULL;
    size_t n = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (pv_store_device_find(r->portal->store, &dq, &pg, &rows, &n, &err) != 0) {
        pv_buf_free(&page);
        pv__console_store_failed(r, &err);
        return;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
    char text[200];
    pv_buf_append_str(&page, "<p class=\"found\" id=\"found\">");
    pv_html_escape(&page, pv__portal_tn(r, "devices_shown", (long long)n, text, sizeof text));
    pv_buf_appendf(&page, " <span class=\"took\">(%ld ms)</span></p>\n", ms);
    pv_buf_append_str(&page, "<table class=\"devices\">\n<thead><tr>");
    static const char *const heads[] = {"mac",   "model",    "account",
                                        "state", "firmware", "last_seen"};
    for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
        pv_buf_append_str(&page, "<th scope=\"col\">");
        pv__portal_text(&page, r, heads[i]);
        pv_buf_append_str(&page, "</th>");
    }
    pv_buf_append_str(&page, "</tr></thead>\n<tbody>\n");
    account_name names[DEVICES_PER_PAGE];
    size_t nnames = 0;
    for (size_t i = 0; i < n; i++) {
        const pv_store_device *d = &rows[i];
        char when[40];
        pv__console_format_time(when, sizeof when, d->last_seen);
        pv_buf_appendf(&page, "<tr><td><a href=\"/devices/%s\">%s</a></td><td>", d->mac, d->mac);
        pv_html_escape(&page, d->model ? d->model : "-");
        pv_buf_append_str(&page, "</td><td>");
        account_cell(&page, r, d->account_id, names, &nnames);
        pv_buf_appendf(&page, "</td><td>%s</td><td>", pv_store_state_name(d->state));
        pv_html_escape(&page, d->firmware_version ? d->firmware_version : "-");
        pv_buf_appendf(&page, "</td><td>%s</td></tr>\n", when);
    }
    pv_buf_append_str(&page, "</tbody>\n</table>\n");
    for (size_t i = 0; i < nnames; i++)
        pv_store_account_free(&names[i].account);
    if (pg.after[0] != '\0') { /* keyset: the next page starts after this page's last MAC */
        pv_buf_append_str(&page, "<p><a rel=\"next\" id=\"next-page\" href=\"/devices?mac=");
        pv__console_url_escape(&page, mac);
        pv_buf_append_str(&page, "&amp;account=");
        pv__console_url_escape(&page, account);
        pv_buf_append_str(&page, "&amp;state=");
        pv__console_url_escape(&page, state);
        pv_buf_append_str(&page, "&amp;model=");
        pv__console_url_escape(&page, model);
        pv_buf_append_str(&page, "&amp;firmware=");
        pv__console_url_escape(&page, fw);
        pv_buf_append_str(&page, "&amp;seen=");
        pv__console_url_escape(&page, seen);
        pv_buf_append_str(&page, "&amp;age=");
        pv__console_url_escape(&page, age);
        pv_buf_appendf(&page, "&amp;after=%s\">", rows[n - 1].mac);
        pv__portal_text(&page, r, "next_page");
        pv_buf_append_str(&page, "</a></p>\n");
    }
    pv_store_devices_free(rows, n);
    pv__portal_page(r, &page, 200);
}

/* ---- one device ---- */

/* Every parameter the device's layers set: its value in each layer, the layer that wins
 * (the last that sets it: global → model → account → device, DESIGN 4) and the value the
 * render gives it once placeholders are filled. */
static void layers_table(pv_buf *out, pv__portal_req *r, const pv_store_render_input *in,
                         const pv_params *rendered, bool reveal)
{
    static const char *const layer[] = LAYER_NAMES;
    pv_buf_append_str(out, "<table class=\"layers\" id=\"layers\">\n<thead><tr><th scope=\"col\">");
    pv__portal_text(out, r, "parameter");
    pv_buf_append_str(out, "</th>");
    for (int l = 0; l < PV_LAYERS; l++) {
        pv_buf_append_str(out, "<th scope=\"col\">");
        pv__portal_text(out, r, layer[l]);
        pv_buf_append_str(out, "</th>");
    }
    pv_buf_append_str(out, "<th scope=\"col\">");
    pv__portal_text(out, r, "rendered");
    pv_buf_append_str(out, "</th></tr></thead>\n<tbody>\n");
    /* The union of names, in name order: each set is sorted, so a merge walk. */
    size_t at[PV_LAYERS] = {0};
    for (;;) {
        const char *next = NULL;
        for (int l = 0; l < PV_LAYERS; l++)
            if (at[l] < in->sets[l].n &&
                (next == NULL || strcmp(in->sets[l].entries[at[l]].name, next) < 0))
                next = in->sets[l].entries[at[l]].name;
        if (next == NULL)
            break;
        const char *name = next;
        int winner = -1;
        const char *vals[PV_LAYERS] = {0};
        for (int l = 0; l < PV_LAYERS; l++)
            if (at[l] < in->sets[l].n && strcmp(in->sets[l].entries[at[l]].name, name) == 0) {
                vals[l] = in->sets[l].entries[at[l]].value;
                winner = l;
            }
        pv_buf_append_str(out, "<tr><th scope=\"row\">");
        pv_html_escape(out, name);
        pv_buf_append_str(out, "</th>");
        for (int l = 0; l < PV_LAYERS; l++) {
            pv_buf_appendf(out, "<td%s>", l == winner ? " class=\"wins\"" : "");
            if (vals[l] != NULL)
                pv__console_masked(out, name, vals[l], reveal);
            if (l == winner) {
                pv_buf_append_str(out, " <span class=\"badge\">");
                pv__portal_text(out, r, "wins");
                pv_buf_append_str(out, "</span>");
            }
            pv_buf_append_str(out, "</td>");
        }
        pv_buf_append_str(out, "<td>");
        const char *v = rendered ? pv_params_value(rendered, name) : NULL;
        if (v != NULL)
            pv__console_masked(out, name, v, reveal);
        pv_buf_append_str(out, "</td></tr>\n");
        for (int l = 0; l < PV_LAYERS; l++)
            if (vals[l] != NULL)
                at[l]++;
    }
    pv_buf_append_str(out, "</tbody>\n</table>\n");
}

void pv__console_device_page(pv__portal_req *r, const char *mac, bool reveal)
{
    pv_store *s = r->portal->store;
    pv_store_render_input in = {0};
    pv_error err = {""};
    int rc = pv_store_render_load(s, mac, false, &in, &err);
    if (rc == PV_ENOENT || rc == PV_EINVAL) {
        pv__portal_error(r, 404, "not_found", err.msg);
        return;
    }
    if (rc != 0) {
        pv__console_store_failed(r, &err);
        return;
    }
    const pv_store_device *d = &in.device;
    pv_buf page = {0};
    pv__console_open_page(&page, r, "device_title");
    char seen[40], text[200];
    pv__console_format_time(seen, sizeof seen, d->last_seen);
    pv_buf_appendf(&page, "<dl class=\"device\">\n<dt>MAC</dt><dd id=\"device-mac\">%s</dd>\n<dt>",
                   d->mac);
    pv__portal_text(&page, r, "model");
    pv_buf_append_str(&page, "</dt><dd>");
    pv_html_escape(&page, d->model ? d->model : "-");
    pv_buf_append_str(&page, "</dd>\n<dt>");
    pv__portal_text(&page, r, "account");
    pv_buf_append_str(&page, "</dt><dd>");
    pv_html_escape(&page, in.account ? in.account->name : "-");
    pv_buf_append_str(&page, "</dd>\n<dt>");
    pv__portal_text(&page, r, "state");
    pv_buf_appendf(&page, "</dt><dd>%s</dd>\n<dt>", pv_store_state_name(d->state));
    pv__portal_text(&page, r, "firmware");
    pv_buf_append_str(&page, "</dt><dd>");
    pv_html_escape(&page, d->firmware_version ? d->firmware_version : "-");
    pv_buf_append_str(&page, "</dd>\n<dt>");
    pv__portal_text(&page, r, "last_seen");
    pv_buf_appendf(&page, "</dt><dd>%s</dd>\n</dl>\n", seen);

    if (pv__console_can_change(r)) {
        char path[80];
        snprintf(path, sizeof path, "/api/v1/devices/%s/actions", d->mac);
        pv_buf_append_str(&page, "<h2>");
        pv__portal_text(&page, r, "actions");
        pv_buf_append_str(&page, "</h2>\n<ul class=\"actions\">\n");
        pv__console_action_button(&page, r, "POST", path, "{\"action\":\"resync\"}",
                                  "action_resync");
        pv__console_action_button(&page, r, "POST", path, "{\"action\":\"reboot\"}",
                                  "action_reboot");
        snprintf(path, sizeof path, "/api/v1/devices/%s/rotate-key", d->mac);
        pv__console_action_button(&page, r, "POST", path, "{}", "action_rotate_key");
        snprintf(path, sizeof path, "/api/v1/devices/%s/release", d->mac);
        pv__console_action_button(&page, r, "POST", path, "{}", "action_release");
        pv_buf_append_str(&page, "</ul>\n<p class=\"outcome\" id=\"outcome\" role=\"status\" "
                                 "aria-live=\"polite\"></p>\n");
    }

    pv_buf_append_str(&page, "<h2>");
    pv__portal_text(&page, r, "layered_parameters");
    pv_buf_append_str(&page, "</h2>\n");
    pv_params rendered;
    pv_params_init(&rendered);
    pv_render_options ro = {.policy = r->portal->policy};
    rc = pv_render_params(s, d, &ro, &rendered, &err);
    if (rc != 0) {
        pv_buf_append_str(&page, "<p class=\"error\" role=\"alert\">");
        pv_html_escape(&page, err.msg);
        pv_buf_append_str(&page, "</p>\n");
    }
    layers_table(&page, r, &in, rc == 0 ? &rendered : NULL, reveal);
    pv_params_free(&rendered);
    if (!reveal && pv__console_can_change(r)) {
        pv_buf_appendf(&page, "<form method=\"post\" action=\"/devices/%s/reveal\">\n", d->mac);
        pv__portal_csrf_field(&page, r);
        pv_buf_append_str(&page, "<button type=\"submit\" id=\"reveal\">");
        pv__portal_text(&page, r, "reveal_secrets");
        pv_buf_append_str(&page, "</button>\n</form>\n");
    }

    pv__console_device_reports(r, &page, d->mac);
    pv_buf_append_str(&page, "<h2>");
    pv__portal_text(&page, r, "audit_trail");
    pv_buf_append_str(&page, "</h2>\n<ul class=\"audit\" id=\"audit\">\n");
    pv_store_page ap = {.limit = 50};
    pv_store_audit *audits = NULL;
    size_t na = 0;
    if (pv_store_audit_list(s, d->mac, &ap, &audits, &na, &err) == 0) {
        for (size_t i = 0; i < na; i++) {
            pv__console_format_time(text, sizeof text, audits[i].at);
            pv_buf_appendf(&page, "<li>%s ", text);
            pv_html_escape(&page, audits[i].actor);
            pv_buf_append_char(&page, ' ');
            pv_html_escape(&page, audits[i].action);
            pv_buf_append_str(&page, "</li>\n");
        }
        pv_store_audits_free(audits, na);
    }
    pv_buf_append_str(&page, "</ul>\n");
    pv_store_render_input_free(&in);
    pv__portal_page(r, &page, 200);
}
