/* cli_io.c — file helpers for the command line; see cli.h. */
#include "cli/cli.h"
#include "os/fileio.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int pv_cli_read_file(const char *path, size_t max, pv_buf *out, pv_error *err)
{
    if (strcmp(path, "-") == 0)
        return pv_file_read_fd(STDIN_FILENO, path, max, out, err);
    return pv_file_read(path, max, out, err);
}

int pv_cli_write_file(const char *path, const void *data, size_t len, pv_error *err)
{
    if (strcmp(path, "-") != 0)
        return pv_file_write_atomic(path, data, len, 0644, err);
    if (pv_file_write_all(STDOUT_FILENO, data, len) != 0)
        return pv_error_set(err, PV_EIO, "standard output: %s", strerror(errno));
    return 0;
}

static const char *context; /* the command being run, for messages */

void pv_cli_set_context(const char *command)
{
    context = command;
}

void pv_cli_errorf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("provisor: ", stderr);
    if (context != NULL)
        fprintf(stderr, "%s: ", context);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

bool pv_cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return false;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return true;
    }
    return false;
}
