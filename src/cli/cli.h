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

/* Reads a whole file ("-" = standard input), refusing more than max bytes. */
int pv_cli_read_file(const char *path, size_t max, pv_buf *out, pv_error *err);
/*
 * Writes data to path ("-" = standard output) through a temporary file in the
 * same directory and rename(2), so a failure never leaves a partial file.
 */
int pv_cli_write_file(const char *path, const void *data, size_t len, pv_error *err);
/* Prints "provisor: " and the message to stderr. */
void pv_cli_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* True when argv holds -h or --help anywhere before a "--". */
bool pv_cli_wants_help(int argc, char **argv);

#endif
