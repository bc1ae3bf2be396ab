/*
 * cli_api.c — what the commands over the admin API share: argument parsing
 * by action table, finding the server and its token, calls, tables; see
 * cli.h ("commands over the admin API") and docs/api.md.
 */
#include "cli/cli.h"

#include "core/alloc.h"
#include "net/http_client.h"
#include "server/config.h"
#include "server/tokens.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_OPTS 64

struct pv_cli_api {
    const char *names[MAX_OPTS];
    const char *values[MAX_OPTS];
    size_t nopts;
    const char *server, *token, *data_dir;
    bool json;
    pv_http_client *http;
};

const char *pv_cli_opt(const pv_cli_api *api, const char *name)
{
    const char *v = NULL;
    for (size_t i = 0; i < api->nopts; i++)
        if (strcmp(api->names[i], name) == 0)
            v = api->values[i];
    return v;
}

const char *pv_cli_opt_at(const pv_cli_api *api, const char *name, size_t at)
{
    for (size_t i = 0; i < api->nopts; i++)
        if (strcmp(api->names[i], name) == 0 && at-- == 0)
            return api->values[i];
    return NULL;
}

bool pv_cli_json(const pv_cli_api *api)
{
    return api->json;
}

/* ---- usage ---- */

static void usage(FILE *out, const char *name, const char *summary, const pv_cli_action *actions,
                  size_t n)
{
    fprintf(out, "usage: provisor %s <action> [args] [options]\n\n%s\n\nactions:\n", name, summary);
    for (size_t i = 0; i < n; i++) {
        char head[96];
        snprintf(head, sizeof head, "%s %s", actions[i].name, actions[i].args);
        fprintf(out, "  %-30s %s\n", head, actions[i].help);
        if (actions[i].options[0]) {
            fprintf(out, "  %-30s options:", "");
            const char *o = actions[i].options;
            while (*o) {
                size_t len = strcspn(o, ",");
                bool value = len > 0 && o[len - 1] == '=';
                fprintf(out, " --%.*s%s", (int)(value ? len - 1 : len), o, value ? " V" : "");
                o += len + (o[len] == ',');
            }
            fputc('\n', out);
        }
    }
    fprintf(out,
            "\ncommon options:\n"
            "  --server URL     admin API (default $PROVISOR_ADMIN_URL, else [admin] listen of\n"
            "                   DATA/provisor.conf, else http://127.0.0.1:8081)\n"
            "  --token T        bearer token (default $PROVISOR_TOKEN, else DATA/cli-token,\n"
            "                   created in the local store on first use)\n"
            "  --data-dir DIR   data directory (default $PROVISOR_DATA or ./provisor-data)\n"
            "  --json           print JSON for scripts instead of tables\n"
            "  -h, --help       this text\n\n"
            "Exit status: 0 success, 1 failure, 2 usage error. See docs/api.md.\n");
}

/* Does action a take --name, and with a value? -1 when unknown. */
static int option_kind(const pv_cli_action *a, const char *name, size_t nlen)
{
    const char *o = a->options;
    while (*o) {
        size_t len = strcspn(o, ",");
        bool value = len > 0 && o[len - 1] == '=';
        size_t klen = value ? len - 1 : len;
        if (klen == nlen && strncmp(o, name, nlen) == 0)
            return value;
        o += len + (o[len] == ',');
    }
    return -1;
}

static const char *const common_value[] = {"server", "token", "data-dir"};

/* Parses argv[1..] (argv[0] is the action) into api and the positionals. */
static int parse(pv_cli_api *api, const pv_cli_action *a, int argc, char **argv, char **pos,
                 int *npos)
{
    *npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
            pos[(*npos)++] = argv[i];
            continue;
        }
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        int kind = option_kind(a, name, nlen);
        for (size_t k = 0; kind < 0 && k < 3; k++)
            if (strlen(common_value[k]) == nlen && strncmp(common_value[k], name, nlen) == 0)
                kind = 2;
        if (kind < 0 && nlen == 4 && strncmp(name, "json", 4) == 0) {
            api->json = true;
            continue;
        }
        if (kind < 0) {
            pv_cli_errorf("unknown option --%.*s; see --help", (int)nlen, name);
            return PV_EXIT_USAGE;
        }
        const char *value = "";
        if (kind >= 1) {
            if (eq)
                value = eq + 1;
            else if (i + 1 < argc)
                value = argv[++i];
            else {
                pv_cli_errorf("--%s needs a value", name);
                return PV_EXIT_USAGE;
            }
        }
        char *key = pv_strndup(name, nlen);
        if (kind == 2) {
            const char **slot = strcmp(key, "server") == 0  ? &api->server
                                : strcmp(key, "token") == 0 ? &api->token
                                                            : &api->data_dir;
            *slot = value;
            free(key);
            continue;
        }
        if (api->nopts == MAX_OPTS) {
            free(key);
            pv_cli_errorf("too many options");
            return PV_EXIT_USAGE;
        }
        api->names[api->nopts] = key;
        api->values[api->nopts++] = value;
    }
    if (*npos < a->min_args || *npos > a->max_args) {
        if (a->args[0] == '\0')
            pv_cli_errorf("takes no arguments; see --help");
        else
            pv_cli_errorf("usage: %s %s; see --help", a->name, a->args);
        return PV_EXIT_USAGE;
    }
    return PV_EXIT_OK;
}

/* ---- finding the server and the token ---- */

static const char *data_dir(const pv_cli_api *api)
{
    if (api->data_dir)
        return api->data_dir;
    const char *env = getenv("PROVISOR_DATA");
    return env && env[0] ? env : PV_CONFIG_DEFAULT_DATA_DIR;
}

static char *server_url(const pv_cli_api *api)
{
    pv_buf b = {0};
    const char *env = getenv("PROVISOR_ADMIN_URL");
    if (api->server || (env && env[0])) {
        pv_buf_append_str(&b, api->server ? api->server : env);
        return pv_buf_take(&b, NULL);
    }
    char conf[4096];
    int n = snprintf(conf, sizeof conf, "%s/provisor.conf", data_dir(api));
    const char *listen = PV_CONFIG_DEFAULT_ADMIN;
    pv_config cfg;
    pv_config_init(&cfg);
    if (n > 0 && (size_t)n < sizeof conf && access(conf, R_OK) == 0 &&
        pv_config_load_file(&cfg, conf, NULL) == 0 && cfg.admin_listen)
        listen = cfg.admin_listen;
    /* a wildcard listener is reached on loopback */
    if (strncmp(listen, "0.0.0.0:", 8) == 0)
        pv_buf_appendf(&b, "http://127.0.0.1:%s", listen + 8);
    else if (strncmp(listen, "[::]:", 5) == 0)
        pv_buf_appendf(&b, "http://[::1]:%s", listen + 5);
    else
        pv_buf_appendf(&b, "http://%s", listen);
    pv_config_free(&cfg);
    return pv_buf_take(&b, NULL);
}

/*
 * The data directory keeps only the hash of the first-run admin token, so
 * the command line cannot reuse it. Whoever can write the data directory can
 * write the store, so such a user gets a token of their own: minted here,
 * registered (hashed) in the store as "cli-<user>", kept in DATA/cli-token
 * (0600) for the next commands.
 */
static char *local_token(const pv_cli_api *api, pv_error *err)
{
    char path[4096], db[4096];
    const char *dir = data_dir(api);
    int n1 = snprintf(path, sizeof path, "%s/cli-token", dir);
    int n2 = snprintf(db, sizeof db, "%s/provisor.db", dir);
    if (n1 < 0 || n2 < 0 || (size_t)n1 >= sizeof path || (size_t)n2 >= sizeof db) {
        pv_error_set(err, PV_ETOOBIG, "data directory path too long");
        return NULL;
    }
    pv_buf b = {0};
    if (pv_cli_read_file(path, 4096, &b, NULL) == 0) {
        char *t = pv_slice_dup(pv_slice_trim(pv_buf_slice(&b)));
        pv_buf_free(&b);
        return t;
    }
    pv_buf_free(&b);
    if (access(dir, W_OK) != 0 || (access(db, F_OK) == 0 && access(db, W_OK) != 0)) {
        pv_error_set(err, PV_EACCES,
                     "no token: give --token or $PROVISOR_TOKEN (no writable store at %s to "
                     "create one)",
                     dir);
        return NULL;
    }
    char token[PV_TOKEN_SIZE], name[96];
    const char *user = getenv("USER");
    pv_store *s = NULL;
    int rc = pv_store_open(db, &s, err);
    if (rc == 0)
        rc = pv_store_migrate(s, NULL, err);
    for (int attempt = 0; rc == 0 || rc == PV_EEXIST; attempt++) {
        /* a lost cli-token file leaves its name taken: number the next one */
        snprintf(name, sizeof name, attempt ? "cli-%.40s-%d" : "cli-%.40s",
                 user && user[0] ? user : "local", attempt);
        /* admin: whoever can write the store can do anything anyway */
        rc = pv_token_mint(s, name, PV_ROLE_ADMIN, 0, (int64_t)time(NULL), token, NULL, err);
        if (rc == 0 || attempt > 100)
            break;
    }
    if (s)
        pv_store_close(s);
    if (rc != 0)
        return NULL;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, token, strlen(token)) != (ssize_t)strlen(token) ||
        write(fd, "\n", 1) != 1) {
        pv_error_set(err, PV_EIO, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    close(fd);
    return pv_strdup(token);
}

static int connect_api(pv_cli_api *api)
{
    pv_error err = {""};
    const char *env = getenv("PROVISOR_TOKEN");
    char *token = api->token      ? pv_strdup(api->token)
                  : env && env[0] ? pv_strdup(env)
                                  : local_token(api, &err);
    if (token == NULL) {
        pv_cli_errorf("%s", err.msg);
        return PV_EXIT_FAILURE;
    }
    char *url = server_url(api);
    int rc = pv_http_client_new(url, token, 0, &api->http, &err);
    free(url);
    free(token);
    if (rc != 0) {
        pv_cli_errorf("%s", err.msg);
        return PV_EXIT_USAGE;
    }
    return PV_EXIT_OK;
}

int pv_cli_resource_main(const char *name, const char *summary, const pv_cli_action *actions,
                         size_t n, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout, name, summary, actions, n);
        return argc < 2 ? PV_EXIT_USAGE : PV_EXIT_OK;
    }
    const pv_cli_action *a = NULL;
    for (size_t i = 0; i < n && a == NULL; i++)
        if (strcmp(actions[i].name, argv[1]) == 0)
            a = &actions[i];
    if (a == NULL) {
        pv_cli_errorf("%s: unknown action '%s'; 'provisor %s --help' lists them", name, argv[1],
                      name);
        return PV_EXIT_USAGE;
    }
    if (pv_cli_wants_help(argc, argv)) {
        usage(stdout, name, summary, a, 1);
        return PV_EXIT_OK;
    }
    char context[64];
    snprintf(context, sizeof context, "%s %s", name, a->name);
    pv_cli_set_context(context);
    pv_cli_api api = {0};
    char **pos = pv_calloc((size_t)argc, sizeof *pos);
    int npos = 0;
    int rc = parse(&api, a, argc - 1, argv + 1, pos, &npos);
    if (rc == PV_EXIT_OK)
        rc = connect_api(&api);
    if (rc == PV_EXIT_OK)
        rc = a->run(&api, npos, pos);
    pv_http_client_free(api.http);
    for (size_t i = 0; i < api.nopts; i++)
        free((char *)api.names[i]);
    free(pos);
    pv_cli_set_context(NULL);
    return rc;
}

int pv_cli_password_stdin(pv_cli_api *api, json_t *body)
{
    if (pv_cli_opt(api, "password-stdin") == NULL) {
        pv_cli_errorf("--password-stdin is required: the password is read from standard input "
                      "(e.g. printf '%%s\\n' \"$PW\" | provisor ... --password-stdin)");
        return PV_EXIT_USAGE;
    }
    char line[1100]; /* PV_PASSWORD_MAX (1024) bytes and a line end; the server checks */
    if (fgets(line, sizeof line, stdin) == NULL) {
        pv_cli_errorf("--password-stdin: standard input is empty");
        return PV_EXIT_USAGE;
    }
    line[strcspn(line, "\r\n")] = '\0';
    json_object_set_new(body, "password", json_string(line));
    OPENSSL_cleanse(line, sizeof line);
    return PV_EXIT_OK;
}

/* ---- calls ---- */

int pv_cli_call_status(pv_cli_api *api, const char *method, const char *path, json_t *body,
                       json_t **out, int *status)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    pv_buf url = {0}, resp = {0};
    pv_buf_appendf(&url, "/api/v1%s", path);
    pv_error err = {""};
    int rc = pv_http_client_request(api->http, method, url.data, text, text ? strlen(text) : 0,
                                    NULL, status, &resp, &err);
    free(text);
    pv_buf_free(&url);
    if (out)
        *out = NULL;
    if (rc != 0) {
        pv_cli_errorf("cannot reach the admin API (is 'provisor serve' running?): %s", err.msg);
        pv_buf_free(&resp);
        return PV_EXIT_FAILURE;
    }
    json_t *j = resp.len ? json_loadb(resp.data, resp.len, 0, NULL) : NULL;
    pv_buf_free(&resp);
    if (*status >= 400) {
        json_t *e = json_object_get(j, "error");
        const char *msg = json_string_value(json_object_get(e, "message"));
        const char *field = json_string_value(json_object_get(e, "field"));
        if (*status != 404 || out == NULL || status == NULL)
            pv_cli_errorf("%s%s%s%s (HTTP %d)", msg ? msg : "request failed",
                          field ? " [field " : "", field ? field : "", field ? "]" : "", *status);
        if (out && *status == 404)
            *out = j;
        else
            json_decref(j);
        return PV_EXIT_FAILURE;
    }
    if (out)
        *out = j;
    else
        json_decref(j);
    return PV_EXIT_OK;
}

int pv_cli_call(pv_cli_api *api, const char *method, const char *path, json_t *body, json_t **out)
{
    int status = 0;
    json_t *got = NULL;
    int rc = pv_cli_call_status(api, method, path, body, &got, &status);
    if (rc != PV_EXIT_OK && status == 404) {
        json_t *e = json_object_get(got, "error");
        const char *msg = json_string_value(json_object_get(e, "message"));
        pv_cli_errorf("%s (HTTP 404)", msg ? msg : "not found");
    }
    if (out && rc == PV_EXIT_OK)
        *out = got;
    else
        json_decref(got);
    return rc;
}

int pv_cli_upload(pv_cli_api *api, const char *path, const void *data, size_t len)
{
    pv_buf url = {0}, resp = {0};
    pv_buf_appendf(&url, "/api/v1%s", path);
    pv_error err = {""};
    int status = 0;
    int rc = pv_http_client_request(api->http, "PUT", url.data, data ? data : "", len,
                                    "application/octet-stream", &status, &resp, &err);
    pv_buf_free(&url);
    json_t *j = rc == 0 ? json_loadb(resp.data ? resp.data : "", resp.len, 0, NULL) : NULL;
    pv_buf_free(&resp);
    if (rc != 0)
        pv_cli_errorf("cannot reach the admin API (is 'provisor serve' running?): %s", err.msg);
    else if (status >= 400)
        pv_cli_errorf(
            "%s (HTTP %d)",
            json_string_value(json_object_get(json_object_get(j, "error"), "message"))
                ? json_string_value(json_object_get(json_object_get(j, "error"), "message"))
                : "upload failed",
            status);
    else
        pv_cli_print_object(api, j);
    json_decref(j);
    return rc == 0 && status < 400 ? PV_EXIT_OK : PV_EXIT_FAILURE;
}

int pv_cli_get_raw(pv_cli_api *api, const char *path)
{
    pv_buf resp = {0};
    int rc = pv_cli_fetch_raw(api, path, &resp);
    if (rc == PV_EXIT_OK)
        fwrite(resp.data ? resp.data : "", 1, resp.len, stdout);
    pv_buf_free(&resp);
    return rc;
}

int pv_cli_fetch_raw(pv_cli_api *api, const char *path, pv_buf *resp)
{
    pv_buf url = {0};
    pv_buf_appendf(&url, "/api/v1%s", path);
    pv_error err = {""};
    int status = 0;
    int rc =
        pv_http_client_request(api->http, "GET", url.data, NULL, 0, NULL, &status, resp, &err);
    pv_buf_free(&url);
    if (rc != 0) {
        pv_cli_errorf("cannot reach the admin API (is 'provisor serve' running?): %s", err.msg);
    } else if (status >= 400) {
        json_t *j = json_loadb(resp->data ? resp->data : "", resp->len, 0, NULL);
        const char *msg =
            json_string_value(json_object_get(json_object_get(j, "error"), "message"));
        pv_cli_errorf("%s (HTTP %d)", msg ? msg : "request failed", status);
        json_decref(j);
    }
    return rc == 0 && status < 400 ? PV_EXIT_OK : PV_EXIT_FAILURE;
}

int pv_cli_list_all(pv_cli_api *api, const char *path, json_t **items)
{
    *items = json_array();
    pv_buf url = {0};
    char *after = NULL;
    for (;;) {
        pv_buf_reset(&url);
        pv_buf_appendf(&url, "%s%slimit=1000", path, strchr(path, '?') ? "&" : "?");
        if (after) {
            pv_buf_append_str(&url, "&after=");
            pv_http_client_escape(&url, after);
        }
        json_t *page = NULL;
        int rc = pv_cli_call(api, "GET", url.data, NULL, &page);
        free(after);
        after = NULL;
        if (rc != PV_EXIT_OK) {
            pv_buf_free(&url);
            return rc;
        }
        json_array_extend(*items, json_object_get(page, "items"));
        const char *next = json_string_value(json_object_get(page, "next"));
        after = next ? pv_strdup(next) : NULL;
        json_decref(page);
        if (after == NULL)
            break;
    }
    pv_buf_free(&url);
    return PV_EXIT_OK;
}

char *pv_cli_path(const char *prefix, const char *segment, const char *suffix)
{
    pv_buf b = {0};
    pv_buf_append_str(&b, prefix);
    pv_buf_append_char(&b, '/');
    pv_http_client_escape(&b, segment);
    pv_buf_append_str(&b, suffix ? suffix : "");
    return pv_buf_take(&b, NULL);
}

/* ---- output ---- */

static bool is_time_key(const char *key)
{
    size_t len = strlen(key);
    return (len > 3 && strcmp(key + len - 3, "_at") == 0) || strcmp(key, "last_seen") == 0 ||
           strcmp(key, "at") == 0;
}

/* One cell: strings as they are, times in UTC, null and 0 times as "-". */
static char *cell(const char *key, const json_t *v)
{
    pv_buf b = {0};
    if (v == NULL || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0)) {
        pv_buf_append_str(&b, "-");
    } else if (json_is_string(v)) {
        pv_buf_append_str(&b, json_string_value(v));
    } else if (json_is_integer(v) && is_time_key(key)) {
        time_t t = (time_t)json_integer_value(v);
        struct tm tm;
        char text[32];
        if (t == 0 || gmtime_r(&t, &tm) == NULL ||
            strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
            pv_buf_append_str(&b, "-");
        else
            pv_buf_append_str(&b, text);
    } else if (json_is_boolean(v)) {
        pv_buf_append_str(&b, json_is_true(v) ? "yes" : "no");
    } else {
        char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        pv_buf_append_str(&b, t ? t : "");
        free(t);
    }
    return pv_buf_take(&b, NULL);
}

static void print_json(const json_t *v)
{
    char *t = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY);
    printf("%s\n", t ? t : "null");
    free(t);
}

void pv_cli_print_table(const pv_cli_api *api, const json_t *items, const pv_cli_column *cols,
                        size_t ncols)
{
    if (api->json) {
        print_json(items);
        return;
    }
    size_t rows = json_array_size(items);
    size_t *width = pv_calloc(ncols, sizeof *width);
    char **cells = pv_calloc(rows * ncols + 1, sizeof *cells);
    for (size_t c = 0; c < ncols; c++)
        width[c] = strlen(cols[c].header);
    for (size_t r = 0; r < rows; r++) {
        for (size_t c = 0; c < ncols; c++) {
            char *t = cell(cols[c].key, json_object_get(json_array_get(items, r), cols[c].key));
            cells[r * ncols + c] = t;
            if (strlen(t) > width[c])
                width[c] = strlen(t);
        }
    }
    for (size_t c = 0; c < ncols; c++)
        printf(c + 1 < ncols ? "%-*s  " : "%-.*s\n", (int)width[c], cols[c].header);
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < ncols; c++)
            printf(c + 1 < ncols ? "%-*s  " : "%.*s\n", c + 1 < ncols ? (int)width[c] : 1 << 20,
                   cells[r * ncols + c]);
    for (size_t i = 0; i < rows * ncols; i++)
        free(cells[i]);
    free(cells);
    free(width);
}

void pv_cli_print_object(const pv_cli_api *api, const json_t *obj)
{
    if (api->json || !json_is_object(obj)) {
        print_json(obj);
        return;
    }
    size_t w = 0;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        if (strlen(key) > w)
            w = strlen(key);
    }
    json_object_foreach((json_t *)obj, key, v)
    {
        if (json_is_object(v) || json_is_array(v)) {
            char *t = json_dumps(v, JSON_INDENT(2));
            printf("%s:%*s %s\n", key, (int)(w - strlen(key)) + 1, "", t ? t : "");
            free(t);
            continue;
        }
        char *t = cell(key, v);
        printf("%s:%*s %s\n", key, (int)(w - strlen(key)) + 1, "", t);
        free(t);
    }
}

int pv_cli_show(const pv_cli_api *api, int rc, json_t *answer)
{
    if (rc == PV_EXIT_OK && answer)
        pv_cli_print_object(api, answer);
    json_decref(answer);
    return rc;
}

int pv_cli_list_table(pv_cli_api *api, const char *path, const pv_cli_column *cols, size_t ncols)
{
    json_t *items = NULL;
    int rc = pv_cli_list_all(api, path, &items);
    if (rc == PV_EXIT_OK)
        pv_cli_print_table(api, items, cols, ncols);
    json_decref(items);
    return rc;
}
