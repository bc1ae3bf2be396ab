/*
 * console_settings.c — an account's settings as a form (issue 13 item 1: "a form from the
 * settings, JSON for the rest"). The fields are those api_accounts.c checks and the portal
 * shows — lines, speed dials, hunt group, user features, SIP delivery; every other key
 * stands in a JSON text area. console.js turns the form back into the settings object and
 * sends it as the admin API's PUT /accounts/{name} (?dry_run=1 for the dry run): the API
 * validates the shape and renders the account's devices with it before it commits.
 *
 * Line passwords never reach the page: their inputs are empty, and an empty one keeps the
 * password the line has (console.js reads it from the API at save time).
 */
#include "server/console_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One column of a repeated row (a line, a speed dial). */
typedef struct column {
    const char *field, *label_key, *extra;
    bool integer;
} column;

static const column line_cols[] = {
    {"line", "line", "inputmode=\"numeric\" size=\"3\"", true},
    {"user", "user", "maxlength=\"64\"", false},
    {"password", "password", "type=\"password\" autocomplete=\"new-password\" data-keep", false},
    {"auth_id", "auth_id", "maxlength=\"64\"", false},
    {"display_name", "display_name", "maxlength=\"40\"", false},
    {"proxy", "proxy", "maxlength=\"128\"", false},
};

static const column dial_cols[] = {
    {"key", "key", "inputmode=\"numeric\" size=\"3\"", true},
    {"name", "name", "maxlength=\"40\"", false},
    {"number", "number", "maxlength=\"32\" inputmode=\"tel\"", false},
};

/* A table of rows, one per array item and one empty to add one; each input labelled
 * "<legend> <row>: <column>" for screen readers (the table head shows the columns). */
static void rows_table(pv_buf *out, pv__portal_req *r, const char *array, const char *legend_key,
                       const column *cols, size_t ncols, const json_t *items)
{
    pv_buf_appendf(out, "<fieldset data-array=\"%s\">\n<legend>", array);
    pv__portal_text(out, r, legend_key);
    pv_buf_append_str(out, "</legend>\n<table class=\"rows\">\n<thead><tr>");
    for (size_t c = 0; c < ncols; c++) {
        pv_buf_append_str(out, "<th scope=\"col\">");
        pv__portal_text(out, r, cols[c].label_key);
        pv_buf_append_str(out, "</th>");
    }
    pv_buf_append_str(out, "</tr></thead>\n<tbody>\n");
    size_t n = json_array_size(items);
    for (size_t i = 0; i <= n; i++) {
        const json_t *item = i < n ? json_array_get(items, i) : NULL;
        pv_buf_append_str(out, "<tr data-row>");
        for (size_t c = 0; c < ncols; c++) {
            const json_t *v = json_object_get(item, cols[c].field);
            char text[64] = "";
            if (json_is_integer(v))
                snprintf(text, sizeof text, "%lld", (long long)json_integer_value(v));
            pv_buf_appendf(out, "<td><input id=\"%s-%zu-%s\" data-field=\"%s\"%s aria-label=\"",
                           array, i, cols[c].field, cols[c].field,
                           cols[c].integer ? " data-type=\"int\"" : "");
            pv__portal_text(out, r, legend_key);
            pv_buf_appendf(out, " %zu: ", i + 1);
            pv__portal_text(out, r, cols[c].label_key);
            pv_buf_appendf(out, "\" %s value=\"", cols[c].extra);
            bool secret = strcmp(cols[c].field, "password") == 0; /* never on the page */
            pv_html_escape(out, secret ? "" : json_is_string(v) ? json_string_value(v) : text);
            pv_buf_append_str(out, "\"");
            if (secret && json_is_string(v))
                pv_buf_appendf(out, " placeholder=\"%s\"", "••••••");
            pv_buf_append_str(out, "></td>");
        }
        pv_buf_append_str(out, "</tr>\n");
    }
    pv_buf_append_str(out, "</tbody>\n</table>\n</fieldset>\n");
}

static void text_input(pv_buf *out, pv__portal_req *r, const char *id, const char *label_key,
                       const char *value)
{
    pv_buf_appendf(out, "<div class=\"field\"><label for=\"%s\">", id);
    pv__portal_text(out, r, label_key);
    pv_buf_appendf(out, "</label>\n<input id=\"%s\" value=\"", id);
    pv_html_escape(out, value != NULL ? value : "");
    pv_buf_append_str(out, "\" maxlength=\"256\"></div>\n");
}

static void choice(pv_buf *out, pv__portal_req *r, const char *id, const char *label_key,
                   const char *const *options, const char *value)
{
    pv_buf_appendf(out, "<div class=\"field\"><label for=\"%s\">", id);
    pv__portal_text(out, r, label_key);
    pv_buf_appendf(out, "</label>\n<select id=\"%s\">\n<option value=\"\">-</option>\n", id);
    for (size_t i = 0; options[i] != NULL; i++)
        pv_buf_appendf(out, "<option%s>%s</option>\n",
                       value != NULL && strcmp(value, options[i]) == 0 ? " selected" : "",
                       options[i]);
    pv_buf_append_str(out, "</select></div>\n");
}

/* The strings of a JSON array joined by ", " (hunt members, user features). */
static void joined(pv_buf *out, const json_t *arr)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (json_is_string(v))
            pv_buf_appendf(out, "%s%s", out->len ? ", " : "", json_string_value(v));
    }
    pv_buf_append_char(out, '\0');
}

void pv__console_settings_form(pv_buf *out, pv__portal_req *r, const pv_store_account *a)
{
    json_t *s = json_loads(a->settings != NULL ? a->settings : "{}", 0, NULL);
    if (!json_is_object(s)) {
        json_decref(s);
        s = json_object();
    }
    bool change = pv__console_can_change(r);
    pv_buf_append_str(out, "<section aria-labelledby=\"settings-h\">\n<h2 id=\"settings-h\">");
    pv__portal_text(out, r, "settings");
    pv_buf_append_str(
        out, "</h2>\n<form class=\"settings\" id=\"settings\" data-path=\"/api/v1/accounts/");
    pv__console_url_escape(out, a->name);
    pv_buf_appendf(out, "\" data-version=\"%lld\"", (long long)a->version);
    if (a->customer != NULL) {
        pv_buf_append_str(out, " data-customer=\"");
        pv_html_escape(out, a->customer);
        pv_buf_append_str(out, "\"");
    }
    pv_buf_append_str(out, " data-t-dry=\"");
    pv__portal_text(out, r, "settings_dry_run");
    pv_buf_append_str(out, "\" data-t-first=\"");
    pv__portal_text(out, r, "first_failure");
    pv_buf_append_str(out, "\" data-t-json=\"");
    pv__portal_text(out, r, "other_settings_bad");
    pv_buf_appendf(out, "\">\n<fieldset class=\"plain\"%s>\n", change ? "" : " disabled");
    rows_table(out, r, "lines", "lines", line_cols, 6, json_object_get(s, "lines"));
    rows_table(out, r, "speed_dials", "speed_dials", dial_cols, 3,
               json_object_get(s, "speed_dials"));
    json_t *hunt = json_object_get(s, "hunt_group");
    pv_buf_append_str(out, "<fieldset>\n<legend>");
    pv__portal_text(out, r, "hunt_group");
    pv_buf_append_str(out, "</legend>\n");
    text_input(out, r, "s-hunt-number", "number",
               json_string_value(json_object_get(hunt, "number")));
    pv_buf list = {0};
    joined(&list, json_object_get(hunt, "members"));
    text_input(out, r, "s-hunt-members", "members", list.data);
    pv_buf_free(&list);
    static const char *const policies[] = {"ring-all", "sequential", "round-robin", NULL};
    choice(out, r, "s-hunt-policy", "policy", policies,
           json_string_value(json_object_get(hunt, "policy")));
    pv_buf_append_str(out, "</fieldset>\n<fieldset>\n<legend>");
    pv__portal_text(out, r, "features");
    pv_buf_append_str(out, "</legend>\n");
    joined(&list, json_object_get(s, "user_features"));
    text_input(out, r, "s-features", "user_features", list.data);
    pv_buf_free(&list);
    static const char *const deliveries[] = {"proxy", "direct", NULL};
    choice(out, r, "s-delivery", "sip_delivery", deliveries,
           json_string_value(json_object_get(s, "sip_delivery")));
    pv_buf_append_str(out, "</fieldset>\n");
    /* the rest, as JSON: what the form has no field for is kept, not dropped */
    static const char *const known[] = {"lines", "speed_dials", "hunt_group", "user_features",
                                        "sip_delivery"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        json_object_del(s, known[i]);
    char *rest = json_dumps(s, JSON_INDENT(2) | JSON_SORT_KEYS);
    pv_buf_append_str(out, "<div class=\"field\"><label for=\"s-other\">");
    pv__portal_text(out, r, "other_settings");
    pv_buf_append_str(out, "</label>\n<textarea id=\"s-other\" rows=\"4\" cols=\"60\" "
                           "spellcheck=\"false\">");
    pv_html_escape(out, rest != NULL ? rest : "{}");
    pv_buf_append_str(out, "</textarea></div>\n</fieldset>\n");
    free(rest);
    json_decref(s);
    if (change) {
        pv_buf_append_str(out, "<div class=\"buttons\"><button type=\"button\" "
                               "id=\"settings-dry-run\">");
        pv__portal_text(out, r, "dry_run");
        pv_buf_append_str(out, "</button>\n<button type=\"submit\" id=\"settings-save\">");
        pv__portal_text(out, r, "save");
        pv_buf_append_str(out, "</button></div>\n");
    }
    pv_buf_append_str(out, "<p id=\"settings-verdict\" class=\"verdict\" role=\"status\" "
                           "aria-live=\"polite\"></p>\n</form>\n</section>\n");
}
