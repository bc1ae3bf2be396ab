/*
 * agent_store.c — the phone's parameters: shared family defaults plus this phone's
 * differences, user access (`ua`, spec 3.1 and 9), secrets, export.
 *
 * Invariant: a->own holds a name only when its value or access differs from
 * the family default (or the family has no such parameter), and every entry
 * of a->own has a value. Reads look in a->own, then in the defaults. So a
 * factory-fresh phone has an empty overlay and a provisioned one holds only
 * what its profiles said differently — that is what keeps 100 000 phones in
 * one process small.
 */
#include "agent/agent_int.h"

#include "core/alloc.h"
#include "core/sniff.h"
#include "core/xml_profile.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The effective entry of name: from the overlay, else from the defaults. */
static bool lookup(const pv_agent *a, pv_slice name, pv_param *out, bool *is_default)
{
    if (pv_params_get(&a->own, name, out)) {
        *is_default = false;
        return true;
    }
    *is_default = true;
    return pv_params_get(&a->defs->params, name, out);
}

const char *pv__agent_get(const pv_agent *a, const char *name)
{
    pv_param p;
    bool dflt;
    if (!lookup(a, pv_slice_from(name), &p, &dflt))
        return NULL;
    return p.has_value ? p.value.ptr : "";
}

bool pv__get_bool(const pv_agent *a, const char *name)
{
    const char *v = pv__agent_get(a, name);
    if (v == NULL)
        return false;
    /* spec 3.1: Yes/No, case-insensitive; the Sipura text form also took these */
    return strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 ||
           strcasecmp(v, "enable") == 0;
}

long pv__get_long(const pv_agent *a, const char *name, long def)
{
    const char *v = pv__agent_get(a, name);
    if (v == NULL || *v == '\0')
        return def;
    char *end;
    long n = strtol(v, &end, 10);
    while (*end == ' ')
        end++;
    return *end == '\0' ? n : def;
}

pv_ua pv__get_ua(const pv_agent *a, const char *name)
{
    pv_param p;
    bool dflt;
    if (!lookup(a, pv_slice_from(name), &p, &dflt) || p.ua == PV_UA_UNSET)
        return PV_UA_NA; /* a parameter nobody gave access to is not the user's */
    return p.ua;
}

bool pv__apply_param(pv_agent *a, const pv_param *p)
{
    pv_param cur;
    bool dflt;
    bool exists = lookup(a, p->name, &cur, &dflt);
    /* copy what we keep: setting the overlay may move its pool */
    char *value;
    if (p->has_value && !(p->preserve && exists)) /* MPP preserve-value keeps the value */
        value = pv_memdup0(p->value.ptr, p->value.len);
    else if (exists && cur.has_value)
        value = pv_memdup0(cur.value.ptr, cur.value.len);
    else
        value = pv_strdup("");
    pv_ua ua = p->ua != PV_UA_UNSET ? p->ua : exists ? cur.ua : PV_UA_NA;
    bool changed =
        !exists || cur.ua != ua || !cur.has_value || !pv_slice_eq(cur.value, pv_slice_from(value));
    if (changed) {
        pv_param d;
        if (pv_params_get(&a->defs->params, p->name, &d) && d.ua == ua &&
            pv_slice_eq(d.value, pv_slice_from(value))) {
            pv_params_remove(&a->own, p->name); /* back to the default: nothing to hold */
        } else {
            pv_param e = {p->name, pv_slice_from(value), true, false, ua};
            pv_params_set(&a->own, &e, NULL);
        }
    }
    free(value);
    return changed;
}

size_t pv__apply_params(pv_agent *a, const pv_params *set)
{
    size_t it = 0, changed = 0;
    pv_param p;
    while (pv_params_next(set, &it, &p))
        changed += pv__apply_param(a, &p); /* spec 3.1: later wins, unnamed stay */
    if (pv_params_count(&a->own) == 0)
        pv_params_free(&a->own); /* an idle factory phone holds no heap */
    return changed;
}

bool pv__set_value(pv_agent *a, const char *name, const char *value)
{
    pv_param p = {pv_slice_from(name), pv_slice_from(value), true, false, PV_UA_UNSET};
    return pv__apply_param(a, &p);
}

static const char *const rule_names[] = {"Profile_Rule", "Profile_Rule_B", "Profile_Rule_C",
                                         "Profile_Rule_D"};

static bool rules_customized(const pv_agent *a)
{
    for (size_t i = 0; i < 4; i++) {
        if (pv_params_get(&a->own, pv_slice_from(rule_names[i]), &(pv_param){0}))
            return true;
    }
    return false;
}

static bool key_delivered(const pv_agent *a)
{
    static const char *const secrets[] = {"GPP_SA", "GPP_SB", "GPP_SC", "GPP_SD"};
    for (size_t i = 0; i < 4; i++) {
        const char *v = pv__agent_get(a, secrets[i]);
        if (v != NULL && *v != '\0')
            return true;
    }
    for (size_t i = 0; i < 4; i++) {
        const char *v = pv__agent_get(a, rule_names[i]);
        if (v != NULL && strstr(v, "--key") != NULL)
            return true;
    }
    return false;
}

/* spec 12.2: MFG-RESET → SP-CUST (a provider rule) → SEC-PRV-1 (a key). */
void pv__update_prov_state(pv_agent *a)
{
    if (a->prov_state < PV_AGENT_SEC_PRV_1 && key_delivered(a))
        a->prov_state = PV_AGENT_SEC_PRV_1;
    else if (a->prov_state < PV_AGENT_SP_CUST && rules_customized(a))
        a->prov_state = PV_AGENT_SP_CUST;
}

/* The value name had at the last --delta report (defaults when none was sent). */
static bool baseline_value(const pv_agent *a, pv_slice name, pv_param *out)
{
    if (a->baseline != NULL && pv_params_get(a->baseline, name, out))
        return true;
    return pv_params_get(&a->defs->params, name, out);
}

static void export_one(const pv_agent *a, pv_agent_role role, bool delta, const pv_param *e,
                       pv_params *out)
{
    char *name = pv_memdup0(e->name.ptr, e->name.len);
    pv_ua ua = e->ua == PV_UA_UNSET ? PV_UA_NA : e->ua;
    if (pv__param_is_secret(name) || (role == PV_AGENT_USER && ua == PV_UA_NA))
        goto out; /* spec 12.1, 4.3: never; spec 9: na is hidden from the user */
    if (delta) {
        pv_param old;
        if (baseline_value(a, e->name, &old) && pv_slice_eq(old.value, e->value))
            goto out; /* spec 7.1: only what changed since the last report */
    }
    pv_param p = *e;
    p.ua = ua;
    p.preserve = false;
    if (pv__param_is_password(name)) {
        p.has_value = false; /* spec 9: passwords hidden; `<Name/>` reads back as "unchanged" */
        p.value = (pv_slice){"", 0};
    }
    pv_params_set(out, &p, NULL);
out:
    free(name);
}

int pv__export(const pv_agent *a, pv_agent_role role, bool delta, pv_buf *out, pv_error *err)
{
    pv_params set = {0};
    size_t it = 0;
    pv_param e;
    while (pv_params_next(&a->defs->params, &it, &e)) {
        pv_param mine;
        if (pv_params_get(&a->own, e.name, &mine))
            e = mine;
        export_one(a, role, delta, &e, &set);
    }
    it = 0;
    while (pv_params_next(&a->own, &it, &e)) {
        if (!pv_params_get(&a->defs->params, e.name, &(pv_param){0}))
            export_one(a, role, delta, &e, &set);
    }
    if (delta && a->baseline != NULL) { /* a value that went back to its default */
        it = 0;
        while (pv_params_next(a->baseline, &it, &e)) {
            if (pv_params_get(&a->own, e.name, &(pv_param){0}))
                continue;
            pv_param d;
            if (pv_params_get(&a->defs->params, e.name, &d))
                export_one(a, role, delta, &d, &set);
        }
    }
    int rc = pv_xml_serialize(&set, out, err);
    pv_params_free(&set);
    return rc;
}

/* ---- public: the web server's and keypad's view ---- */

int pv_agent_get(const pv_agent *a, pv_agent_role role, const char *name, const char **value)
{
    const char *v = pv__agent_get(a, name);
    if (v == NULL || pv__param_is_secret(name))
        return PV_ENOENT;
    if (role == PV_AGENT_USER && pv__get_ua(a, name) == PV_UA_NA)
        return PV_ENOENT; /* spec 9: na = hidden */
    *value = v;
    return 0;
}

int pv_agent_set(pv_agent *a, uint64_t now, pv_agent_role role, const char *name, const char *value,
                 pv_error *err)
{
    if (pv__agent_get(a, name) == NULL)
        return pv_error_set(err, PV_ENOENT, "no parameter named %s", name);
    if (pv__param_is_secret(name)) /* spec 12.1: settable only by a profile */
        return pv_error_set(err, PV_EACCES, "%s can only be set by a profile", name);
    if (role == PV_AGENT_USER) {
        pv_ua ua = pv__get_ua(a, name);
        if (ua == PV_UA_NA)
            return pv_error_set(err, PV_ENOENT, "no parameter named %s", name);
        if (ua != PV_UA_RW)
            return pv_error_set(err, PV_EACCES, "%s is read-only for the user", name);
    }
    if (pv__set_value(a, name, value)) {
        pv__update_prov_state(a);
        pv__persist(a);
        pv__report_arm(a, now, true); /* spec 7.1: On Local Change */
    }
    return 0;
}

/* Parses a decoded profile: XML (with --alias aliases) or the legacy text form. */
int pv__parse_profile(pv_slice plain, char alias_gpp, const pv_agent *a, pv_params *out,
                      pv_error *err)
{
    pv_format f = pv_sniff(plain);
    if (f == PV_FORMAT_TEXT && alias_gpp == 0) /* spec 3.3: phones never read the source */
        return pv_error_set(err, PV_EFORMAT,
                            "a plain-text source profile: phones take XML or the binary spc "
                            "compiles from it, never the source (spec 3.3)");
    if (f != PV_FORMAT_XML && alias_gpp == 0)
        return pv_error_set(err, PV_EFORMAT, "not a profile (%s data)", pv_format_name(f));
    pv_xml_aliases *aliases = NULL;
    if (alias_gpp != 0) { /* spec 1.1 --alias: the map lives in GPP_x */
        char gpp[] = "GPP_A";
        gpp[4] = (char)(alias_gpp - 'a' + 'A');
        const char *map = pv__agent_get(a, gpp);
        int rc = pv_xml_aliases_parse(pv_slice_from(map ? map : ""), &aliases, err);
        if (rc != 0)
            return rc;
    }
    pv_xml_opts opts = {.aliases = aliases};
    int rc = pv_xml_parse(plain, out, &opts, err);
    pv_xml_aliases_free(aliases);
    return rc;
}

int pv_agent_apply_config(pv_agent *a, uint64_t now, pv_agent_role role, const void *data,
                          size_t len, pv_error *err)
{
    if (role != PV_AGENT_ADMIN)
        return pv_error_set(err, PV_EACCES, "only the admin account may post a configuration");
    pv_params set = {0};
    int rc = pv__parse_profile(pv_slice_make(data, len), 0, a, &set, err);
    if (rc == 0 && pv__apply_params(a, &set) > 0) { /* whole or nothing: parsed first */
        pv__update_prov_state(a);
        pv__persist(a);
        pv__report_arm(a, now, true);
        pv__arm_triggers(a, now);
    }
    pv_params_free(&set);
    return rc;
}

int pv_agent_export_config(const pv_agent *a, pv_agent_role role, char **data, size_t *len,
                           pv_error *err)
{
    pv_buf b = {0};
    int rc = pv__export(a, role, false, &b, err);
    if (rc != 0) {
        pv_buf_free(&b);
        return rc;
    }
    *data = pv_buf_take(&b, len);
    return 0;
}

bool pv_agent_check_password(const pv_agent *a, pv_agent_role role, const char *password)
{
    const char *name = role == PV_AGENT_USER             ? "User_Password"
                       : a->defs->family == PV_AGENT_MPP ? "Admin_Password"
                                                         : "Admin_Passwd";
    const char *want = pv__agent_get(a, name);
    if (want == NULL)
        want = "";
    /* constant time in the password's length: a web login must not leak it */
    size_t n = strlen(want), m = strlen(password);
    unsigned diff = (unsigned)(n ^ m);
    for (size_t i = 0; i < m; i++)
        diff |= (unsigned)(unsigned char)password[i] ^ (unsigned char)(i < n ? want[i] : 0);
    return diff == 0;
}
