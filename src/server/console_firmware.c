/*
 * console_firmware.c — the console's firmware page: registered images,
 * upgrade plans and rollouts (read-only; changes are the CLI's and the API's).
 */
#include "server/console_int.h"

#include "store/store_rollouts.h"

#include <stdio.h>

/* The registered images, the upgrade plans and the rollouts, read-only (changes: the CLI and
 * the API, docs/rollouts.md). */
void pv__console_firmware_page(pv__portal_req *r)
{
    pv_store *s = r->portal->store;
    pv_buf page = {0};
    pv__console_open_page(&page, r, "firmware_title");
    pv_error err = {""};
    pv_store_page pg = {.limit = 200};
    pv_store_firmware *fw = NULL;
    size_t n = 0;
    static const char *const fw_heads[] = {"model", "firmware", "file", "kind", "created"};
    pv_buf_append_str(&page, "<h2>");
    pv__portal_text(&page, r, "images");
    pv_buf_append_str(&page, "</h2>\n");
    pv__console_table_head(&page, r, fw_heads, 5);
    if (pv_store_firmware_list(s, NULL, &pg, &fw, &n, &err) == 0) {
        for (size_t i = 0; i < n; i++) {
            char at[40];
            pv__console_format_time(at, sizeof at, fw[i].created_at);
            const char *cells[] = {fw[i].model, fw[i].version, fw[i].file_name, fw[i].kind, at};
            pv__console_table_row(&page, cells, 5);
        }
        pv_store_firmwares_free(fw, n);
    }
    pv_buf_append_str(&page, "</tbody>\n</table>\n<h2>");
    pv__portal_text(&page, r, "plans");
    pv_buf_append_str(&page, "</h2>\n");
    static const char *const plan_heads[] = {"model", "target", "plan_steps"};
    pv__console_table_head(&page, r, plan_heads, 3);
    pv_store_page pp = {.limit = 200};
    pv_store_plan *plans = NULL;
    if (pv_store_plan_list(s, &pp, &plans, &n, &err) == 0) {
        for (size_t i = 0; i < n; i++) {
            const char *cells[] = {plans[i].model, plans[i].target_version, plans[i].stages};
            pv__console_table_row(&page, cells, 3);
        }
        pv_store_plans_free(plans, n);
    }
    pv_buf_append_str(&page, "</tbody>\n</table>\n<h2>");
    pv__portal_text(&page, r, "rollouts");
    pv_buf_append_str(&page, "</h2>\n");
    static const char *const roll_heads[] = {"name", "model", "target", "state", "stage"};
    pv__console_table_head(&page, r, roll_heads, 5);
    pv_store_page rp = {.limit = 200};
    pv_store_rollout *rolls = NULL;
    if (pv_store_rollout_list(s, &rp, &rolls, &n, &err) == 0) {
        for (size_t i = 0; i < n; i++) {
            char stage[24];
            snprintf(stage, sizeof stage, "%lld", (long long)rolls[i].stage);
            const char *cells[] = {rolls[i].name, rolls[i].model, rolls[i].to_version,
                                   rolls[i].state, stage};
            pv__console_table_row(&page, cells, 5);
        }
        pv_store_rollouts_free(rolls, n);
    }
    pv_buf_append_str(&page, "</tbody>\n</table>\n");
    pv__portal_page(r, &page, 200);
}
