/*
 * cmd_rule.c — `provisor rule eval`: evaluates a Profile_Rule, Upgrade_Rule or
 * Report_Rule the way a phone would (spec 1, 6, 7.1) and shows every step:
 * the rule after macro expansion, which alternative was chosen, its
 * assignments, options and URL. Macro values come from --param and from the
 * identity flags (--mac, --model, --serial, --swver).
 *
 * Output is `key: value` lines, or one JSON object with --json. Exit 0 when an
 * alternative was selected, 1 on error or when none was (the message says
 * which), 2 on a usage error.
 */
#include "cli/cli.h"

#include "core/alloc.h"
#include "core/macro.h"
#include "core/rule.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: provisor rule eval RULE [--kind profile|upgrade|report]\n"
            "                          [--param NAME=VALUE]... [--mac MAC] [--model MODEL]\n"
            "                          [--serial SN] [--swver V] [--hwver V] [--json]\n\n"
            "Evaluates RULE ('-' = read it from standard input) as a phone does: expands\n"
            "macros once, picks the first alternative whose ( condition )? holds, and prints\n"
            "the expanded rule, the chosen alternative (1-based), its assignments, options\n"
            "and URL (scheme, host, port, path, query; dhcp_host when the URL names no\n"
            "server), one 'key: value' per line.\n\n"
            "  --kind K            profile (default), upgrade or report\n"
            "  --param NAME=VALUE  a macro value: A..P or GPP_A..GPP_P, SA..SD (used only in\n"
            "                      --key/--uid/--pwd arguments), REGTMR1, EXTIP, ...\n"
            "  --mac MAC           sets $MA, $MAU and $MAC (000e08aabbcc or 00:0e:08:aa:bb:cc)\n"
            "  --model MODEL       sets $PN and $PSN (SPA2102 -> 2102, CP-8841-3PCC -> 8841-3PCC)\n"
            "  --serial SN         sets $SN\n"
            "  --swver V           sets $SWVER (also the left operand of legacy '(<1.0)?')\n"
            "  --hwver V           sets $HWVER\n"
            "  --json              print one JSON object instead\n"
            "  -h, --help          this help\n\n"
            "example:\n"
            "  provisor rule eval '(\"$A\" ne \"Provisioned\")? (Line_Enable_1_ = \"No\";)! "
            "https://p.tel.com/init-prov | [--key $SA] https://p.tel.com/$MA.xml' \\\n"
            "      --param A=Provisioned --param SA=secret --mac 00:0e:08:01:23:45\n\n"
            "Exit status: 0 an alternative was selected, 1 error or none selected, 2 usage.\n");
}

static int usage_error(const char *what)
{
    pv_cli_errorf("rule: %s; 'provisor rule --help' shows the usage", what);
    return PV_EXIT_USAGE;
}

/* ---- key: value output ---- */

static void print_target(const char *prefix, const pv_rule_target *t)
{
    const pv_rule_options *o = &t->opts;
    if (o->key)
        printf("%soption.key: %s\n", prefix, o->key);
    if (o->uid)
        printf("%soption.uid: %s\n", prefix, o->uid);
    if (o->pwd)
        printf("%soption.pwd: %s\n", prefix, o->pwd);
    if (o->post)
        printf("%soption.post: %c\n", prefix, o->post);
    if (o->alias)
        printf("%soption.alias: %c\n", prefix, o->alias);
    if (o->srv)
        printf("%soption.srv: yes\n", prefix);
    if (o->delta)
        printf("%soption.delta: yes\n", prefix);
    if (o->status)
        printf("%soption.status: yes\n", prefix);
    if (!t->has_url)
        return;
    const pv_url *u = &t->url;
    pv_buf text = {0};
    pv_url_format(u, &text);
    printf("%surl: %s\n", prefix, text.data);
    pv_buf_free(&text);
    if (u->gds) {
        printf("%surl.gds: yes\n", prefix);
        return;
    }
    printf("%surl.scheme: %s\n%surl.host: %s\n%surl.port: %u\n%surl.path: %s\n", prefix,
           pv_scheme_name(u->scheme), prefix, u->host, prefix, (unsigned)u->port, prefix, u->path);
    if (u->query)
        printf("%surl.query: %s\n", prefix, u->query);
    printf("%surl.dhcp_host: %s\n", prefix, u->dhcp_host ? "yes" : "no");
}

static void print_text(const pv_rule_result *r)
{
    printf("kind: %s\nexpanded: %s\noutcome: %s\nalternatives: %zu\nchosen: %zu\n",
           pv_rule_kind_name(r->kind), r->expanded ? r->expanded : "",
           pv_rule_outcome_name(r->outcome), r->nalternatives, r->chosen);
    for (size_t i = 0; i < r->nassign; i++)
        printf("assign.%s: %s\n", r->assign[i].name, r->assign[i].value);
    for (size_t i = 0; i < r->ntargets; i++) {
        char prefix[32] = "";
        if (r->kind == PV_RULE_REPORT) {
            int n = snprintf(prefix, sizeof prefix, "report%zu.", i + 1);
            if (n < 0 || (size_t)n >= sizeof prefix)
                prefix[0] = '\0';
        }
        print_target(prefix, &r->targets[i]);
    }
}

/* ---- JSON output ---- */

static json_t *json_str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *json_letter(char c)
{
    char s[2] = {c, '\0'};
    return c ? json_string(s) : json_null();
}

static json_t *target_json(const pv_rule_target *t)
{
    const pv_rule_options *o = &t->opts;
    json_t *opts = json_pack("{s:o,s:o,s:o,s:o,s:o,s:b,s:b,s:b}", "key", json_str_or_null(o->key),
                             "uid", json_str_or_null(o->uid), "pwd", json_str_or_null(o->pwd),
                             "post", json_letter(o->post), "alias", json_letter(o->alias), "srv",
                             o->srv, "delta", o->delta, "status", o->status);
    json_t *url = json_null();
    if (t->has_url) {
        const pv_url *u = &t->url;
        pv_buf text = {0};
        pv_url_format(u, &text);
        url =
            json_pack("{s:s,s:b,s:s,s:s,s:i,s:s,s:o,s:b}", "text", text.data, "gds", u->gds,
                      "scheme", u->gds ? "gds" : pv_scheme_name(u->scheme), "host",
                      u->host ? u->host : "", "port", (int)u->port, "path", u->path ? u->path : "",
                      "query", json_str_or_null(u->query), "dhcp_host", u->dhcp_host);
        pv_buf_free(&text);
    }
    return json_pack("{s:o,s:o}", "options",
                     t->has_options ? opts : (json_decref(opts), json_null()), "url", url);
}

static json_t *result_json(const pv_rule_result *r, const char *error)
{
    json_t *assign = json_array();
    for (size_t i = 0; i < r->nassign; i++)
        json_array_append_new(
            assign, json_pack("{s:s,s:s}", "name", r->assign[i].name, "value", r->assign[i].value));
    json_t *o = json_pack("{s:s,s:o,s:s,s:b,s:I,s:o,s:o}", "kind", pv_rule_kind_name(r->kind),
                          "expanded", json_str_or_null(r->expanded), "outcome",
                          error ? "error" : pv_rule_outcome_name(r->outcome), "commented",
                          r->commented, "alternatives", (json_int_t)r->nalternatives, "chosen",
                          r->chosen ? json_integer((json_int_t)r->chosen) : json_null(),
                          "assignments", assign);
    if (error)
        json_object_set_new(o, "error", json_string(error));
    if (r->kind == PV_RULE_REPORT) {
        json_t *reports = json_array();
        for (size_t i = 0; i < r->ntargets; i++)
            json_array_append_new(reports, target_json(&r->targets[i]));
        json_object_set_new(o, "reports", reports);
    } else if (r->ntargets > 0) {
        json_t *t = target_json(&r->targets[0]);
        json_object_update(o, t);
        json_decref(t);
    } else {
        json_object_set_new(o, "options", json_null());
        json_object_set_new(o, "url", json_null());
    }
    return o;
}

static void print_json(const pv_rule_result *r, const char *error)
{
    json_t *o = result_json(r, error);
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_ENSURE_ASCII);
    if (s != NULL)
        printf("%s\n", s);
    free(s);
    json_decref(o);
}

/* ---- eval ---- */

typedef struct eval_args {
    pv_rule_kind kind;
    bool json;
    pv_identity id;
    const char *rule;
} eval_args;

static int parse_kind(const char *s, pv_rule_kind *kind)
{
    for (int k = PV_RULE_PROFILE; k <= PV_RULE_REPORT; k++) {
        if (strcmp(s, pv_rule_kind_name((pv_rule_kind)k)) == 0) {
            *kind = (pv_rule_kind)k;
            return 0;
        }
    }
    return -1;
}

static int parse_eval_args(int argc, char **argv, eval_args *a, pv_macro_vars *vars)
{
    enum { O_PARAM = 256, O_MAC, O_MODEL, O_SERIAL, O_SWVER, O_HWVER, O_KIND, O_JSON };
    static const struct option longopts[] = {
        {"param", required_argument, NULL, O_PARAM},
        {"mac", required_argument, NULL, O_MAC},
        {"model", required_argument, NULL, O_MODEL},
        {"serial", required_argument, NULL, O_SERIAL},
        {"swver", required_argument, NULL, O_SWVER},
        {"hwver", required_argument, NULL, O_HWVER},
        {"kind", required_argument, NULL, O_KIND},
        {"json", no_argument, NULL, O_JSON},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 0;
    int c;
    /* GNU getopt permutes: the rule may come before, between or after options */
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_PARAM: {
            const char *eq = strchr(optarg, '=');
            if (eq == NULL || eq == optarg)
                return usage_error("--param wants NAME=VALUE");
            char *name = pv_memdup0(optarg, (size_t)(eq - optarg));
            pv_macro_vars_set(vars, name, eq + 1);
            free(name);
            break;
        }
        case O_MAC:
            a->id.mac = optarg;
            break;
        case O_MODEL:
            a->id.model = optarg;
            break;
        case O_SERIAL:
            a->id.serial = optarg;
            break;
        case O_SWVER:
            a->id.swver = optarg;
            break;
        case O_HWVER:
            a->id.hwver = optarg;
            break;
        case O_KIND:
            if (parse_kind(optarg, &a->kind) != 0)
                return usage_error("--kind is profile, upgrade or report");
            break;
        case O_JSON:
            a->json = true;
            break;
        default:
            return usage_error(optopt ? "unknown or incomplete option" : "unknown option");
        }
    }
    if (optind >= argc)
        return usage_error("RULE is missing");
    if (optind + 1 < argc)
        return usage_error("one RULE only (quote it)");
    a->rule = argv[optind];
    return 0;
}

static int cmd_eval(int argc, char **argv)
{
    eval_args a = {.kind = PV_RULE_PROFILE};
    pv_macro_vars vars = {0};
    pv_buf input = {0};
    pv_rule_result r = {0};
    pv_error err = {{0}};
    int status = parse_eval_args(argc, argv, &a, &vars);
    if (status != 0)
        goto out;
    status = PV_EXIT_FAILURE;
    if (pv_macro_vars_identity(&vars, &a.id, &err) != 0) {
        pv_cli_errorf("rule: %s", err.msg);
        goto out;
    }
    pv_slice text = pv_slice_from(a.rule);
    if (strcmp(a.rule, "-") == 0) {
        if (pv_cli_read_file("-", PV_RULE_MAX, &input, &err) != 0) {
            pv_cli_errorf("rule: %s", err.msg);
            goto out;
        }
        text = pv_slice_trim(pv_buf_slice(&input));
    }
    pv_macro_env env = pv_macro_vars_env(&vars);
    /* spec 1.2: only a multiplatform model's Upgrade_Rule must name a server */
    bool multiplatform = a.id.model != NULL && (strncasecmp(a.id.model, "CP-", 3) == 0 ||
                                                strncasecmp(a.id.model, "ATA19", 5) == 0);
    unsigned flags = multiplatform ? PV_RULE_UPGRADE_NEEDS_SERVER : 0;
    int rc = pv_rule_eval_flags(a.kind, flags, text, &env, &r, &err);
    const char *why = NULL;
    if (rc != 0)
        why = err.msg;
    else if (r.outcome == PV_RULE_NO_MATCH)
        why = "no alternative selected: every alternative has a condition and none holds";
    else if (r.outcome == PV_RULE_EMPTY)
        why = r.commented ? "no alternative selected: the rule is commented out ('#')"
                          : "no alternative selected: the rule is empty";
    if (a.json)
        print_json(&r, rc != 0 ? err.msg : NULL);
    else if (rc == 0)
        print_text(&r);
    if (rc != 0 && r.expanded != NULL && strcmp(r.expanded, a.rule) != 0 && !a.json)
        pv_cli_errorf("rule: expanded rule: %s", r.expanded);
    if (why != NULL)
        pv_cli_errorf("rule: %s", why);
    status = why == NULL ? PV_EXIT_OK : PV_EXIT_FAILURE;
out:
    pv_rule_result_free(&r);
    pv_buf_free(&input);
    pv_macro_vars_free(&vars);
    return status;
}

int pv_cmd_rule(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? PV_EXIT_USAGE : PV_EXIT_OK;
    }
    if (strcmp(argv[1], "eval") != 0) {
        pv_cli_errorf("rule: unknown subcommand '%s'; 'provisor rule --help' lists them", argv[1]);
        return PV_EXIT_USAGE;
    }
    if (pv_cli_wants_help(argc - 1, argv + 1)) {
        usage(stdout);
        return PV_EXIT_OK;
    }
    return cmd_eval(argc - 1, argv + 1);
}
