/*
 * cmd_profile.c — `provisor profile check | convert | diff`: the profile
 * formats of core (xml_profile, text_profile) on files. The format is found
 * by content, as a phone does (spec 3.2): gzip is inflated first, then the
 * first non-space character '<' means XML, anything else the text form.
 * `import` lines of text profiles are read relative to the importing
 * top-level file's directory.
 */
#include "cli/cli.h"

#include "core/alloc.h"
#include "core/gzip.h"
#include "core/param.h"
#include "core/text_profile.h"
#include "core/xml_profile.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A profile larger than this (after gunzip) is refused, as the parsers do. */
#define MAX_PROFILE ((size_t)4 << 20)

typedef struct import_ctx {
    const char *top; /* the top-level file's path, for its directory */
} import_ctx;

/* base directory of top + name, unless name is absolute or top is stdin. */
static char *resolve(const char *top, const char *name)
{
    const char *slash = strrchr(top, '/');
    if (name[0] == '/' || slash == NULL || strcmp(top, "-") == 0)
        return pv_strdup(name);
    pv_buf b = {0};
    pv_buf_append(&b, top, (size_t)(slash - top) + 1);
    pv_buf_append_str(&b, name);
    return pv_buf_take(&b, NULL);
}

static int read_import(void *ctx, const char *name, pv_buf *content, pv_error *err)
{
    const import_ctx *ic = ctx;
    char *path = resolve(ic->top, name);
    int rc = pv_cli_read_file(path, MAX_PROFILE, content, err);
    free(path);
    return rc;
}

static bool looks_xml(pv_slice s)
{
    if (pv_slice_starts_with(s, "\xEF\xBB\xBF"))
        s = pv_slice_make(s.ptr + 3, s.len - 3); /* UTF-8 byte order mark */
    s = pv_slice_trim(s);
    return s.len > 0 && s.ptr[0] == '<';
}

/* Prints a parser error as `file:line: message` (or `file: message`). */
static void report(const char *path, const pv_profile_pos *where, const pv_error *err)
{
    if (where->line == 0) {
        fprintf(stderr, "%s: %s\n", path, err->msg);
        return;
    }
    char *file = where->file[0] ? resolve(path, where->file) : pv_strdup(path);
    /* the message reads "[NAME: ]line L, column C: what"; the line is printed already */
    const char *rest = strstr(err->msg, ", column ");
    rest = rest ? rest + 2 : err->msg;
    fprintf(stderr, "%s:%lu: %s\n", file, where->line, rest);
    free(file);
}

/* Reads and parses path into out; prints any error. Returns 0 or a PV_E* code. */
static int load(const char *path, const pv_xml_aliases *aliases, pv_params *out)
{
    pv_buf data = {0};
    pv_error err = {{0}};
    int rc = pv_cli_read_file(path, MAX_PROFILE, &data, &err);
    if (rc == 0 && pv_gzip_detect(pv_buf_slice(&data))) { /* spec 3.2 */
        pv_buf plain = {0};
        rc = pv_gzip_decompress(pv_buf_slice(&data), MAX_PROFILE, &plain, &err);
        pv_buf_free(&data);
        data = plain;
    }
    if (rc == 0 && pv_slice_starts_with(pv_buf_slice(&data), "Salted__"))
        rc = pv_error_set(&err, PV_EFORMAT,
                          "encrypted (Salted__); decrypt it first with 'provisor decrypt'");
    if (rc != 0) {
        fprintf(stderr, "%s: %s\n", path, err.msg);
        pv_buf_free(&data);
        return rc;
    }
    pv_profile_pos where = {0};
    if (looks_xml(pv_buf_slice(&data))) {
        pv_xml_opts opts = {.where = &where, .aliases = aliases};
        rc = pv_xml_parse(pv_buf_slice(&data), out, &opts, &err);
    } else {
        import_ctx ic = {path};
        const char *slash = strrchr(path, '/');
        pv_text_opts opts = {.import = read_import,
                             .import_ctx = &ic,
                             .where = &where,
                             .name = slash ? slash + 1 : path};
        rc = pv_text_parse(pv_buf_slice(&data), out, &opts, &err);
    }
    if (rc != 0)
        report(path, &where, &err);
    pv_buf_free(&data);
    return rc;
}

/* Reads an alias list (spec 1.1 --alias: "/path = /flat-profile/Name ;" lines). */
static int load_aliases(const char *path, pv_xml_aliases **out)
{
    pv_buf data = {0};
    pv_error err = {{0}};
    int rc = pv_cli_read_file(path, 65536, &data, &err);
    if (rc == 0)
        rc = pv_xml_aliases_parse(pv_buf_slice(&data), out, &err);
    if (rc != 0)
        fprintf(stderr, "%s: %s\n", path, err.msg);
    pv_buf_free(&data);
    return rc;
}

/* ---- check ---- */

static int check_usage(FILE *out, int code)
{
    fprintf(out, "usage: provisor profile check [--alias FILE] FILE...\n\n"
                 "Validates XML (<flat-profile>) and legacy text profiles, gzipped or not\n"
                 "('-' reads standard input). Errors print as FILE:LINE: message; each good\n"
                 "file prints 'FILE: ok, N parameters'. Exit 0 when all are good, 1 otherwise.\n"
                 "--alias FILE maps elements of a foreign XML document onto parameters, one\n"
                 "'/path/in/xml = /flat-profile/Name ;' per entry (spec 1.1, at most 30).\n");
    return code;
}

static int cmd_check(int argc, char **argv)
{
    static const struct option opts[] = {
        {"alias", required_argument, NULL, 'a'}, {"help", no_argument, NULL, 'h'}, {0}};
    const char *alias_file = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "a:h", opts, NULL)) != -1) {
        if (c == 'a')
            alias_file = optarg;
        else
            return check_usage(c == 'h' ? stdout : stderr, c == 'h' ? PV_EXIT_OK : PV_EXIT_USAGE);
    }
    if (optind >= argc)
        return check_usage(stderr, PV_EXIT_USAGE);
    pv_xml_aliases *aliases = NULL;
    if (alias_file != NULL && load_aliases(alias_file, &aliases) != 0)
        return PV_EXIT_FAILURE;
    int status = PV_EXIT_OK;
    for (int i = optind; i < argc; i++) {
        pv_params p = {0};
        if (load(argv[i], aliases, &p) == 0)
            printf("%s: ok, %zu parameters\n", argv[i], pv_params_count(&p));
        else
            status = PV_EXIT_FAILURE;
        pv_params_free(&p);
    }
    pv_xml_aliases_free(aliases);
    return status;
}

/* ---- convert ---- */

static int convert_usage(FILE *out, int code)
{
    fprintf(out, "usage: provisor profile convert --to xml|text [--alias FILE] IN [OUT]\n\n"
                 "Rewrites a profile in the canonical XML or legacy text form. '-' (and a\n"
                 "missing OUT) is standard input/output; OUT is replaced atomically.\n"
                 "The text form cannot say 'access unchanged' (it reads as na) nor carry\n"
                 "preserve-value; converting such a profile to text says so on stderr.\n");
    return code;
}

static void note_text_losses(const pv_params *p)
{
    size_t unset = 0, preserve = 0, it = 0;
    pv_param e;
    while (pv_params_next(p, &it, &e)) {
        unset += e.ua == PV_UA_UNSET;
        preserve += e.preserve;
    }
    if (unset > 0)
        pv_cli_errorf("note: %zu parameter(s) have no ua; the text form reads them as na "
                      "(spec 3.3)",
                      unset);
    if (preserve > 0)
        pv_cli_errorf("note: preserve-value of %zu parameter(s) dropped (the text form has none)",
                      preserve);
}

static int cmd_convert(int argc, char **argv)
{
    static const struct option opts[] = {{"to", required_argument, NULL, 't'},
                                         {"alias", required_argument, NULL, 'a'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0}};
    const char *to = NULL, *alias_file = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "t:a:h", opts, NULL)) != -1) {
        if (c == 't')
            to = optarg;
        else if (c == 'a')
            alias_file = optarg;
        else
            return convert_usage(c == 'h' ? stdout : stderr, c == 'h' ? PV_EXIT_OK : PV_EXIT_USAGE);
    }
    if (to == NULL || (strcmp(to, "xml") != 0 && strcmp(to, "text") != 0) || optind >= argc ||
        argc - optind > 2) {
        if (to != NULL && strcmp(to, "xml") != 0 && strcmp(to, "text") != 0)
            pv_cli_errorf("profile convert: --to %s: expected xml or text", to);
        return convert_usage(stderr, PV_EXIT_USAGE);
    }
    const char *in = argv[optind], *outp = optind + 1 < argc ? argv[optind + 1] : "-";
    pv_params p = {0};
    int status = PV_EXIT_FAILURE;
    pv_buf out = {0};
    pv_error err = {{0}};
    pv_xml_aliases *aliases = NULL;
    if (alias_file != NULL && load_aliases(alias_file, &aliases) != 0)
        goto done;
    if (load(in, aliases, &p) != 0)
        goto done;
    bool xml = strcmp(to, "xml") == 0;
    int rc = xml ? pv_xml_serialize(&p, &out, &err) : pv_text_serialize(&p, &out, &err);
    if (rc != 0) {
        pv_cli_errorf("%s: %s", in, err.msg);
        goto done;
    }
    if (!xml)
        note_text_losses(&p);
    if (pv_cli_write_file(outp, out.data, out.len, &err) != 0) {
        pv_cli_errorf("%s", err.msg);
        goto done;
    }
    status = PV_EXIT_OK;
done:
    pv_xml_aliases_free(aliases);
    pv_buf_free(&out);
    pv_params_free(&p);
    return status;
}

/* ---- diff ---- */

static int diff_usage(FILE *out, int code)
{
    fprintf(out, "usage: provisor profile diff [--apply] A B\n\n"
                 "Compares two profiles as parameter sets:\n"
                 "  + Name = \"v\"           only in B\n"
                 "  - Name                 only in A\n"
                 "  ~ Name: \"old\" -> \"new\" value changed (also ua, preserve-value)\n"
                 "With --apply, shows what changes when B is applied after A (spec 3.1:\n"
                 "parameters B does not name stay; <X/> changes only the access).\n"
                 "Exit 0 when the same, 1 when different, 2 on usage or read errors.\n");
    return code;
}

static void describe_value(pv_buf *b, const pv_param *e)
{
    if (e->has_value)
        pv_text_quote(b, e->value);
    else
        pv_buf_append_str(b, "(no value)");
}

static const char *ua_label(pv_ua ua)
{
    return ua == PV_UA_UNSET ? "unset" : pv_ua_name(ua);
}

/* Prints the differences between a and b; returns how many lines. */
static size_t print_diff(const pv_params *a, const pv_params *b)
{
    size_t n = 0, it = 0;
    pv_param x, y;
    pv_buf line = {0};
    while (pv_params_next(a, &it, &x)) {
        pv_buf_reset(&line);
        if (!pv_params_get(b, x.name, &y)) {
            pv_buf_appendf(&line, "- " PV_SLICE_FMT "\n", PV_SLICE_ARG(x.name));
        } else {
            if (x.has_value != y.has_value || !pv_slice_eq(x.value, y.value)) {
                pv_buf_appendf(&line, "~ " PV_SLICE_FMT ": ", PV_SLICE_ARG(x.name));
                describe_value(&line, &x);
                pv_buf_append_str(&line, " -> ");
                describe_value(&line, &y);
                pv_buf_append_char(&line, '\n');
            }
            if (x.ua != y.ua)
                pv_buf_appendf(&line, "~ " PV_SLICE_FMT ": ua %s -> %s\n", PV_SLICE_ARG(x.name),
                               ua_label(x.ua), ua_label(y.ua));
            if (x.preserve != y.preserve)
                pv_buf_appendf(&line, "~ " PV_SLICE_FMT ": preserve-value %s -> %s\n",
                               PV_SLICE_ARG(x.name), x.preserve ? "y" : "n",
                               y.preserve ? "y" : "n");
        }
        n += line.len > 0;
        fwrite(line.data, 1, line.len, stdout);
    }
    it = 0;
    while (pv_params_next(b, &it, &y)) {
        if (pv_params_get(a, y.name, NULL))
            continue;
        pv_buf_reset(&line);
        pv_buf_appendf(&line, "+ " PV_SLICE_FMT, PV_SLICE_ARG(y.name));
        if (y.has_value) {
            pv_buf_append_str(&line, " = ");
            describe_value(&line, &y);
        }
        if (y.ua != PV_UA_UNSET)
            pv_buf_appendf(&line, " (ua %s)", pv_ua_name(y.ua));
        if (y.preserve)
            pv_buf_append_str(&line, " (preserve-value)");
        pv_buf_append_char(&line, '\n');
        fwrite(line.data, 1, line.len, stdout);
        n++;
    }
    pv_buf_free(&line);
    return n;
}

static int cmd_diff(int argc, char **argv)
{
    static const struct option opts[] = {
        {"apply", no_argument, NULL, 'a'}, {"help", no_argument, NULL, 'h'}, {0}};
    bool apply = false;
    int c;
    while ((c = getopt_long(argc, argv, "ah", opts, NULL)) != -1) {
        if (c == 'a')
            apply = true;
        else
            return diff_usage(c == 'h' ? stdout : stderr, c == 'h' ? PV_EXIT_OK : PV_EXIT_USAGE);
    }
    if (argc - optind != 2)
        return diff_usage(stderr, PV_EXIT_USAGE);
    pv_params a = {0}, b = {0};
    int status = PV_EXIT_USAGE; /* diff(1): 2 means trouble */
    if (load(argv[optind], NULL, &a) == 0 && load(argv[optind + 1], NULL, &b) == 0) {
        if (apply) {
            pv_params after = {0};
            pv_params_copy(&after, &a);
            (void)pv_params_merge(&after, &b, NULL); /* names are valid: both were parsed */
            status = print_diff(&a, &after) ? PV_EXIT_FAILURE : PV_EXIT_OK;
            pv_params_free(&after);
        } else {
            status = print_diff(&a, &b) ? PV_EXIT_FAILURE : PV_EXIT_OK;
        }
    }
    pv_params_free(&a);
    pv_params_free(&b);
    return status;
}

static int usage(FILE *out, int code)
{
    fprintf(out, "usage: provisor profile <command> [options] [args]\n\n"
                 "commands:\n"
                 "  check FILE...                   validate profiles (XML or text, gzip too)\n"
                 "  convert --to xml|text IN [OUT]  rewrite a profile in the other form\n"
                 "  diff [--apply] A B              compare two profiles\n\n"
                 "'provisor profile <command> --help' describes each.\n");
    return code;
}

int pv_cmd_profile(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr, PV_EXIT_USAGE);
    const char *sub = argv[1];
    if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0 || strcmp(sub, "help") == 0)
        return usage(stdout, PV_EXIT_OK);
    static const struct {
        const char *name;
        int (*run)(int, char **);
    } subs[] = {{"check", cmd_check}, {"convert", cmd_convert}, {"diff", cmd_diff}};
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        if (strcmp(subs[i].name, sub) == 0) {
            optind = 1; /* argv[1..] belong to the subcommand */
            return subs[i].run(argc - 1, argv + 1);
        }
    }
    pv_cli_errorf("profile: unknown command '%s'; 'provisor profile --help' lists them", sub);
    return PV_EXIT_USAGE;
}
