/*
 * cmd_serve.c — `provisor serve`: read the configuration (file and flags),
 * make sure the data directory exists, start the daemon, say where it
 * listens, wait for it to drain (issue 3, "Command line").
 *
 * Every option is a provisor.conf key (server/config.h); the getopt table
 * and the help below are generated from that table.
 */
#include "cli/cli.h"

#include "core/alloc.h"
#include "core/log.h"
#include "server/config.h"
#include "server/daemon.h"
#include "server/datadir.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OPT_KEY_BASE 1000
#define OPT_PRINT_CONFIG 900
#define OPT_PRINT_SAMPLE 901
#define OPT_PRINT_MAN 902
/* The date of provisor.conf(5), as of the hand-written pages of man/. */
#define PV_MAN_DATE "December 7, 2026"

static void usage(FILE *out)
{
    pv_buf help = {0}, text = {0};
    pv_config_help(&help);
    pv_buf_appendf(
        &text,
        "usage: provisor serve [--config FILE] [--data-dir DIR] [--root DIR]\n"
        "                      [--tftp ADDR:PORT] [--http ADDR:PORT] [--https ADDR:PORT]\n"
        "                      [--admin ADDR:PORT] [--tls-cert F --tls-key F] [--client-ca F]\n"
        "                      [--client-cert none|optional|required] [--workers N]\n"
        "                      [--log-level LEVEL] [--upload-dir DIR] [options below]\n\n"
        "Serves the profile tree over TFTP, HTTP and HTTPS (phone client certificates\n"
        "verified against the manufacturer CA bundle), with /metrics and /healthz on the\n"
        "admin listener. The first run creates the data directory: a CA and a server\n"
        "certificate, a demo phone-manufacturer CA, an admin token (printed once),\n"
        "profiles/ and uploads/.\n\n"
        "  -c, --config FILE   read provisor.conf (INI); flags override it\n"
        "      --print-config  print the resulting configuration as INI and exit\n"
        "      --print-config-sample  print a provisor.conf with every key commented out\n"
        "      --print-config-man     print provisor.conf(5) (mdoc) and exit\n"
        "  -h, --help          this text\n\n"
        "Every option below is also a provisor.conf key: --FLAG VALUE   key = default.\n"
        "A listener set to 'off' is disabled.\n%s\n"
        "Signals: SIGTERM/SIGINT drain (in-flight requests finish) and exit 0;\n"
        "SIGHUP re-reads the configuration and certificates without dropping connections.\n"
        "See docs/configuration.md.\n",
        help.data);
    /* One write: a reader that stops early (`| grep -q`) must not cost us a
     * SIGPIPE halfway through, as stdio's block-sized writes would. */
    fflush(out);
    const char *p = text.data;
    size_t left = text.len;
    while (left > 0) {
        ssize_t n = write(fileno(out), p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        p += n;
        left -= (size_t)n;
    }
    pv_buf_free(&help);
    pv_buf_free(&text);
}

/* getopt_long's table: --config, --help, the --print-* ones, then one per key. */
static struct option *build_options(void)
{
    size_t count = 0;
    const pv_config_key *keys = pv_config_keys(&count);
    struct option *opts = pv_calloc(count + 6, sizeof *opts);
    opts[0] = (struct option){"config", required_argument, NULL, 'c'};
    opts[1] = (struct option){"help", no_argument, NULL, 'h'};
    opts[2] = (struct option){"print-config", no_argument, NULL, OPT_PRINT_CONFIG};
    opts[3] = (struct option){"print-config-sample", no_argument, NULL, OPT_PRINT_SAMPLE};
    opts[4] = (struct option){"print-config-man", no_argument, NULL, OPT_PRINT_MAN};
    for (size_t i = 0; i < count; i++)
        opts[5 + i] = (struct option){pv_config_flag(&keys[i]), required_argument, NULL,
                                      OPT_KEY_BASE + (int)i};
    return opts; /* terminated by the zeroed last entry */
}

/* "127.0.0.1:6969" → "127.0.0.1" and "6969"; "[::1]:69" → "::1" and "69". */
static void split_address(const char *addr, char *host, size_t host_size, const char **port)
{
    const char *colon = strrchr(addr, ':');
    size_t len = (size_t)(colon - addr);
    if (addr[0] == '[' && len >= 2) {
        addr++;
        len -= 2;
    }
    snprintf(host, host_size, "%.*s", (int)len, addr);
    *port = colon + 1;
}

static void print_banner(const pv_daemon *d, const pv_config *cfg, const pv_datadir_result *dr)
{
    const char *tftp = pv_daemon_address(d, PV_PROTO_TFTP);
    const char *http = pv_daemon_address(d, PV_PROTO_HTTP);
    const char *https = pv_daemon_address(d, PV_PROTO_HTTPS);
    const char *admin = pv_daemon_admin_address(d);
    printf("Provisor %s is serving %s with %u loop threads.\n\n", PV_VERSION, cfg->root,
           pv_daemon_workers(d));
    if (tftp)
        printf("  TFTP   tftp://%s/\n", tftp);
    if (http)
        printf("  HTTP   http://%s/\n", http);
    if (https)
        printf("  HTTPS  https://%s/   server CA: %s/%s\n", https, cfg->data_dir,
               PV_DATADIR_CA_CERT);
    const char *portal = pv_daemon_portal_address(d);
    /* A new user's next stops (issue 10): the console and the portal, with the command that
     * makes a login for each, not only the machine endpoints. */
    if (admin)
        printf("  admin  http://%s/metrics  http://%s/healthz\n"
               "  console http://%s/   (a login: provisor user create; docs/console.md)\n",
               admin, admin, admin);
    if (portal)
        printf("  portal  https://%s/  (a login: provisor customer create; docs/portal.md)\n",
               portal);
    if (dr->admin_token[0] != '\0')
        printf("\nAdmin token (shown this once; only its SHA-256 is kept in %s/%s):\n  %s\n",
               cfg->data_dir, PV_DATADIR_ADMIN_TOKEN_HASH, dr->admin_token);
    printf("\nTry:\n");
    if (http)
        printf("  curl http://%s/sample.xml\n", http);
    if (https)
        printf("  curl --cacert %s/%s https://%s/sample.xml\n", cfg->data_dir, PV_DATADIR_CA_CERT,
               https);
    if (tftp) {
        char host[64];
        const char *port;
        split_address(tftp, host, sizeof host, &port);
        printf("  atftp -g -r sample.xml -l /dev/stdout %s %s\n", host, port);
    }
    printf("Next: README.md, \"A short tour\" (an account, devices, a binding code, a phone).\n");
    printf("Phones' client certificates are checked against %s (demo manufacturer CA:\n"
           "%s/%s, key beside it, to issue test phone certificates).\n"
           "Stop with Ctrl-C or SIGTERM (drains); SIGHUP reloads configuration and "
           "certificates.\n",
           cfg->client_ca, cfg->data_dir, PV_DATADIR_PHONE_CA_CERT);
    fflush(stdout);
}

/*
 * A first start that fails leaves nothing behind (issue 10): the data directory it created
 * goes, so the next start is a first start again and shows a new admin token. Kept only when
 * its master.key already seals secrets in a store outside it (the store would be unreadable
 * without it); the admin token is shown then, since no other run will show it.
 */
static void undo_first_run(const char *dir, const char *db, const pv_datadir_result *dr)
{
    if (!dr->created)
        return;
    char key[4096];
    int n = snprintf(key, sizeof key, "%s/master.key", dir);
    if (db != NULL && n > 0 && (size_t)n < sizeof key && access(key, F_OK) == 0) {
        pv_cli_errorf("serve: %s, created by this run, is kept: its master.key seals secrets in "
                      "the store %s; admin token (shown this once): %s",
                      dir, db, dr->admin_token[0] != '\0' ? dr->admin_token : "(none)");
        return;
    }
    pv_error err;
    if (pv_datadir_remove_new(dir, dr, &err) != 0)
        pv_cli_errorf("serve: %s", err.msg);
}

/* What to print instead of serving. */
typedef enum { PRINT_NOTHING, PRINT_CONFIG, PRINT_SAMPLE, PRINT_MAN } print_what;

/* The table's texts, which need no configuration to be loaded. */
static int print_table(print_what what)
{
    pv_buf text = {0};
    if (what == PRINT_SAMPLE)
        pv_config_sample(&text);
    else
        pv_config_man(&text, PV_MAN_DATE);
    fputs(text.data, stdout);
    pv_buf_free(&text);
    return fflush(stdout) == 0 ? PV_EXIT_OK : PV_EXIT_FAILURE;
}

static int parse_args(int argc, char **argv, pv_config_args *args, print_what *print)
{
    struct option *opts = build_options();
    size_t count = 0;
    const pv_config_key *keys = pv_config_keys(&count);
    int rc = PV_EXIT_OK, c;
    optind = 1;
    opterr = 0;
    while (rc == PV_EXIT_OK && (c = getopt_long(argc, argv, ":c:h", opts, NULL)) != -1) {
        pv_error err;
        if (c == 'c') {
            free(args->config_file);
            args->config_file = pv_strdup(optarg);
        } else if (c == 'h') {
            usage(stdout);
            rc = -1;
        } else if (c == OPT_PRINT_CONFIG) {
            *print = PRINT_CONFIG;
        } else if (c == OPT_PRINT_SAMPLE) {
            *print = PRINT_SAMPLE;
        } else if (c == OPT_PRINT_MAN) {
            *print = PRINT_MAN;
        } else if (c >= OPT_KEY_BASE && (size_t)(c - OPT_KEY_BASE) < count) {
            if (pv_config_args_add(args, pv_config_flag(&keys[c - OPT_KEY_BASE]), optarg, &err) !=
                0) {
                pv_cli_errorf("serve: %s", err.msg);
                rc = PV_EXIT_USAGE;
            }
        } else if (c == ':') {
            pv_cli_errorf("serve: %s needs a value", argv[optind - 1]);
            rc = PV_EXIT_USAGE;
        } else {
            pv_cli_errorf("serve: unknown option '%s'; 'provisor serve --help' lists them",
                          argv[optind - 1]);
            rc = PV_EXIT_USAGE;
        }
    }
    if (rc == PV_EXIT_OK && optind < argc) {
        pv_cli_errorf("serve: unexpected argument '%s'", argv[optind]);
        rc = PV_EXIT_USAGE;
    }
    free(opts);
    return rc;
}

int pv_cmd_serve(int argc, char **argv)
{
    pv_config_args args = {0};
    print_what print = PRINT_NOTHING;
    int rc = parse_args(argc, argv, &args, &print);
    if (rc == PV_EXIT_OK && (print == PRINT_SAMPLE || print == PRINT_MAN))
        rc = print_table(print);
    if (rc != PV_EXIT_OK || print == PRINT_SAMPLE || print == PRINT_MAN) {
        pv_config_args_free(&args);
        return rc < 0 ? PV_EXIT_OK : rc;
    }
    pv_config *cfg = pv_malloc(sizeof *cfg);
    pv_error err;
    if (pv_config_load(cfg, &args, &err) != 0) {
        pv_cli_errorf("serve: %s", err.msg);
        free(cfg);
        pv_config_args_free(&args);
        return PV_EXIT_USAGE;
    }
    if (print == PRINT_CONFIG) {
        pv_buf text = {0};
        pv_config_render(cfg, &text);
        fputs(text.data, stdout);
        pv_buf_free(&text);
        pv_config_free(cfg);
        free(cfg);
        pv_config_args_free(&args);
        return PV_EXIT_OK;
    }
    pv_log_set_level(cfg->log_level);
    pv_log_set_format(cfg->log_format);

    pv_datadir_result dr;
    pv_daemon *d = NULL;
    rc = pv_datadir_ensure(cfg->data_dir, &dr, &err);
    if (rc == 0 && dr.created)
        pv_logf(PV_LOG_INFO, "datadir.created", "path=\"%s\" ca_sha256=%s", cfg->data_dir,
                dr.ca_fingerprint);
    /* The daemon takes cfg; the banner and a failed first start need a few of its paths. */
    pv_config shown = {0};
    shown.root = pv_strdup(cfg->root);
    shown.data_dir = pv_strdup(cfg->data_dir);
    shown.client_ca = pv_strdup(cfg->client_ca);
    shown.db = cfg->db != NULL ? pv_strdup(cfg->db) : NULL;
    if (rc == 0)
        rc = pv_daemon_start(cfg, &args, &d, &err);
    else
        pv_config_free(cfg);
    free(cfg); /* its contents now belong to the daemon, or are freed */
    if (rc != 0) {
        pv_cli_errorf("serve: %s", err.msg);
        undo_first_run(shown.data_dir, shown.db, &dr);
        pv_config_free(&shown);
        pv_config_args_free(&args);
        return PV_EXIT_FAILURE;
    }
    print_banner(d, &shown, &dr);
    pv_config_free(&shown);
    rc = pv_daemon_wait(d);
    pv_config_args_free(&args);
    return rc == 0 ? PV_EXIT_OK : PV_EXIT_FAILURE;
}
