/*
 * cli.h — the `provisor` command line: the table of subcommands and the few
 * helpers they share (exit codes, whole-file reads, atomic writes).
 *
 * The command line holds no provisioning logic (DESIGN "Layers"): each
 * cmd_*.c parses its arguments with getopt_long, calls into libprovisor and
 * prints. Exit codes: 0 success, 1 failure, 2 usage error.
 */
#ifndef PV_CLI_CLI_H
#define PV_CLI_CLI_H

#include "core/buf.h"
#include "core/error.h"

#include <stdbool.h>
#include <stddef.h>

enum { PV_EXIT_OK = 0, PV_EXIT_FAILURE = 1, PV_EXIT_USAGE = 2 };

/* Largest file the command line reads whole (profiles, rules, keys). */
#define PV_CLI_MAX_FILE ((size_t)1 << 30)

typedef struct pv_cli_command {
    const char *name;
    const char *summary;
    /* argv[0] is the subcommand's name; returns a PV_EXIT_* code. */
    int (*run)(int argc, char **argv);
} pv_cli_command;

/* Subcommands, one file each (cmd_<name>.c). */
int pv_cmd_serve(int argc, char **argv);
int pv_cmd_db(int argc, char **argv);
int pv_cmd_profile(int argc, char **argv);
int pv_cmd_rule(int argc, char **argv);
int pv_cmd_encrypt(int argc, char **argv);
int pv_cmd_decrypt(int argc, char **argv);
int pv_cmd_phone(int argc, char **argv);
int pv_cmd_fleet(int argc, char **argv);
/* Over the admin API (cli_api.c; docs/api.md). */
int pv_cmd_account(int argc, char **argv);
int pv_cmd_code(int argc, char **argv);
int pv_cmd_customer(int argc, char **argv);
int pv_cmd_user(int argc, char **argv);
int pv_cmd_token(int argc, char **argv);
int pv_cmd_device(int argc, char **argv);
int pv_cmd_params(int argc, char **argv);
int pv_cmd_firmware(int argc, char **argv);
int pv_cmd_plan(int argc, char **argv);
int pv_cmd_rollout(int argc, char **argv);
int pv_cmd_report(int argc, char **argv);
int pv_cmd_audit(int argc, char **argv);
int pv_cmd_job(int argc, char **argv);
int pv_cmd_dhcp_snippet(int argc, char **argv);
int pv_cmd_admin_token(int argc, char **argv);
/* `provisor phone cert` (cmd_datadir.c): argv[0] is "cert". */
int pv_cli_phone_cert(int argc, char **argv);

/* Reads a whole file ("-" = standard input), refusing more than max bytes. */
int pv_cli_read_file(const char *path, size_t max, pv_buf *out, pv_error *err);
/*
 * Writes data to path ("-" = standard output) through a temporary file in the
 * same directory and rename(2), so a failure never leaves a partial file.
 */
int pv_cli_write_file(const char *path, const void *data, size_t len, pv_error *err);
/* Prints "provisor: ", the command being run when one is set ("account create: ",
 * pv_cli_set_context) and the message to stderr: the command and the thing named
 * once (issue 13), so messages themselves name neither the command nor the action. */
void pv_cli_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The command messages are about ("device import"); NULL: none. Borrowed. */
void pv_cli_set_context(const char *command);
/* True when argv holds -h or --help anywhere before a "--". */
bool pv_cli_wants_help(int argc, char **argv);

/* ---- commands over the admin API (cli_api.c) ----
 *
 * `provisor <resource> <action> [args] [--option value]...`: each resource
 * command is a table of actions; cli_api.c parses the shared options
 * (--server, --token, --data-dir, --json, --help), finds the admin API
 * (--server / $PROVISOR_ADMIN_URL / the data directory's provisor.conf /
 * 127.0.0.1:8081) and its token (--token / $PROVISOR_TOKEN / <data>/cli-token,
 * minted in the local store on first use), and prints tables or JSON.
 */
typedef struct json_t json_t;
typedef struct pv_cli_api pv_cli_api;

typedef struct pv_cli_action {
    const char *name;
    const char *args; /* usage of the positional arguments, e.g. "NAME" */
    int min_args, max_args;
    const char *options; /* "customer=,settings=,plain": '=' takes a value */
    const char *help;
    int (*run)(pv_cli_api *api, int argc, char **argv);
} pv_cli_action;

/* Runs argv against the actions of command `name`; a PV_EXIT_* code. */
int pv_cli_resource_main(const char *name, const char *summary, const pv_cli_action *actions,
                         size_t n, int argc, char **argv);

/* With --password-stdin: the first line of standard input, without its line end, into
 * body's "password" (a login's password never on the command line, where `ps` and the
 * shell history would show it). PV_EXIT_USAGE without the flag or with empty input. */
int pv_cli_password_stdin(pv_cli_api *api, json_t *body);

/* The value of --name (the last one given), or NULL; a flag gives "". */
const char *pv_cli_opt(const pv_cli_api *api, const char *name);
/* The i-th value of a repeatable --name, or NULL past the end. */
const char *pv_cli_opt_at(const pv_cli_api *api, const char *name, size_t i);
bool pv_cli_json(const pv_cli_api *api);

/*
 * Calls the admin API: method, path under /api/v1 (e.g. "/accounts"), an
 * optional body (taken). *out (may be NULL) receives the answer's JSON (NULL
 * for 204). Prints the API's error and returns PV_EXIT_FAILURE on an error
 * status or when the server cannot be reached.
 */
int pv_cli_call(pv_cli_api *api, const char *method, const char *path, json_t *body, json_t **out);
/* Like pv_cli_call, but *status receives the HTTP status and no error is printed for 404. */
int pv_cli_call_status(pv_cli_api *api, const char *method, const char *path, json_t *body,
                       json_t **out, int *status);
/* PUT raw bytes (application/octet-stream) to path; prints the JSON answer. */
int pv_cli_upload(pv_cli_api *api, const char *path, const void *data, size_t len);
/* GET path and write the answer's bytes as they are to stdout (render). */
int pv_cli_get_raw(pv_cli_api *api, const char *path);
/* GET path into resp (appended); prints the API's error. */
int pv_cli_fetch_raw(pv_cli_api *api, const char *path, pv_buf *resp);
/* GET every page of a list (following "next"); *items receives the array. */
int pv_cli_list_all(pv_cli_api *api, const char *path, json_t **items);
/* path + "/" + the escaped segment, in a pv_malloc'd string. */
char *pv_cli_path(const char *prefix, const char *segment, const char *suffix);

/* cmd_device_action.c: device resync|reboot|report-request (SIP NOTIFY, spec 5.5) */
int pv_cli_device_resync(pv_cli_api *api, int argc, char **argv);
/*
 * --notify of a change (params set, account update): before it, the SHA-256 of the plain
 * render of every device the scope reaches ("global", "model:M", "account:A", "device:MAC");
 * after it, a resync NOTIFY to exactly those whose render changed. Returns a PV_EXIT_* code.
 */
typedef struct pv_cli_renders pv_cli_renders;
int pv_cli_renders_take(pv_cli_api *api, const char *scope, pv_cli_renders **out);
int pv_cli_notify_changed(pv_cli_api *api, pv_cli_renders *before); /* frees before */
/* A device action job (taken): followed with --wait, printed with every device's outcome;
 * strict: with --wait, exit 1 unless every device answered 2xx. */
int pv_cli_follow_job(pv_cli_api *api, json_t *job, bool strict);
void pv_cli_renders_free(pv_cli_renders *r);
int pv_cli_device_reboot(pv_cli_api *api, int argc, char **argv);
int pv_cli_device_report_request(pv_cli_api *api, int argc, char **argv);

/* A column of a table: header and the item's key. */
typedef struct pv_cli_column {
    const char *header;
    const char *key;
} pv_cli_column;

/* Prints items as an aligned table (or JSON with --json). */
void pv_cli_print_table(const pv_cli_api *api, const json_t *items, const pv_cli_column *cols,
                        size_t ncols);
/* GET every page of path and print it as a table; a PV_EXIT_* code. */
int pv_cli_list_table(pv_cli_api *api, const char *path, const pv_cli_column *cols, size_t ncols);
/* Prints answer (if rc is PV_EXIT_OK and answer not NULL), releases it, returns rc. */
int pv_cli_show(const pv_cli_api *api, int rc, json_t *answer);
/* Prints one object as "key: value" lines (or JSON with --json). */
void pv_cli_print_object(const pv_cli_api *api, const json_t *obj);

#endif
