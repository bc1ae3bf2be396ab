/*
 * cmd_fleet.c — `provisor fleet run | certs | profiles`: the fleet simulator
 * (src/fleet, docs/fleet.md).
 *
 *   run       many emulated phones against a server on loopback (or on the
 *             virtual clock), then a report: text, --json, plot.svg/png
 *   certs     client certificates for the fleet's phones (spec 4.4)
 *   profiles  the static tree a server serves them: per-device encrypted
 *             profiles, binding profiles, firmware images
 *
 * Exit status: run 0 when every phone reached the scenario's goal, 1
 * otherwise or on error; certs/profiles 0 or 1; 2 on a usage error.
 */
#include "cli/cli.h"

#include "core/alloc.h"
#include "fleet/certs.h"
#include "fleet/fleet.h"
#include "fleet/report.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static void usage(FILE *f)
{
    size_t n;
    const pv_fleet_scenario *sc = pv_fleet_scenarios(&n);
    fprintf(f,
            "usage: provisor fleet run --scenario NAME --phones N --server URL [--server URL]...\n"
            "                          [--duration S] [--report DIR] [--json] [--ca F]\n"
            "                          [--certs DIR [--cert-pool K]] [--virtual] [options]\n"
            "       provisor fleet certs --count N --out DIR [--ca-cert F --ca-key F] [--rsa]\n"
            "                            [--seed S] [--mix M]\n"
            "       provisor fleet profiles --phones N --out DIR --server URL... [--seed S]\n"
            "                               [--mix M] [--firmware-size BYTES]\n\n"
            "Runs many emulated phones (provisor/agent.h) on one event loop against a\n"
            "provisioning server on loopback (or in a network namespace of the test's own),\n"
            "or against a modelled server on a virtual clock (--virtual). Every scenario\n"
            "stops itself: at its goal, at --duration, or at its maximum duration.\n\n"
            "scenarios:\n");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "  %-14s %s (default %llu s)\n", sc[i].name, sc[i].summary,
                (unsigned long long)sc[i].default_s);
    fprintf(f,
            "\nrun options:\n"
            "  --scenario NAME      one of the above (boot-storm = power-restore)\n"
            "  --phones N           fleet size (1..16777216)\n"
            "  --server URL         scheme://host:port of a server (http, https, tftp);\n"
            "                       repeat it to mix transports: phone i uses server i mod n\n"
            "  --duration S         stop after S seconds of scenario time\n"
            "  --report DIR         write report.txt, report.json, plot.svg (and plot.png\n"
            "                       when rsvg-convert is installed) into DIR\n"
            "  --json               print the JSON report instead of the text one\n"
            "  --ca F               server CA bundle (HTTPS); without it servers are not verified\n"
            "  --certs DIR          phones' client certificates (from 'fleet certs')\n"
            "  --cert-pool K        phones share the certificates of phones 0..K-1\n"
            "  --virtual            virtual clock and modelled server: no sockets\n"
            "  --mix M              families, e.g. spa:1,mpp:2,ata:1 (default mpp)\n"
            "  --seed S             fleet seed: MACs, keys, codes, random delays (default 1)\n"
            "  --period S           Resync_Periodic of steady and outage (default 60)\n"
            "  --random-delay U     Resync_Random_Delay units (default: the factory value)\n"
            "  --outage S           outage length (default 2 periods)\n"
            "  --wave S             retail binding wave length (default 60)\n"
            "  --fault verify|brick rollout-bad: the image fails verification, or the phone\n"
            "                       never comes back (default verify)\n"
            "  --bad-share P        rollout-bad: %% of phones the image hurts (default 30)\n"
            "  --max-in-flight N    requests in flight at most (default 1000)\n"
            "  --firmware-size B    firmware image bytes (default 65536)\n"
            "  --timeout-ms MS      a request's limit (default 60000)\n"
            "  --vworkers N         virtual server: service slots (default 2)\n"
            "  --vtls-us US         virtual server: cost of a TLS handshake (default 900)\n"
            "  --codes FILE         retail: phone i enters the code on line i (a provisioning\n"
            "                       server's codes); default: codes of 'fleet profiles'\n"
            "  --source-addresses on|off\n"
            "                       phone i connects from its own 127.A.B.C, so a server's\n"
            "                       per-address limits count phones (default on; off: all\n"
            "                       from the system's choice, 127.0.0.1)\n"
            "  --fetcher native|curl\n"
            "                       the HTTP(S) client the phones use: the fleet's own on the\n"
            "                       loop (default) or libcurl's (as `provisor phone`; costs\n"
            "                       ~4x the CPU per HTTPS resync)\n"
            "  --sip PORT           each phone's SIP user agent on its own 127.A.B.C:PORT: it\n"
            "                       registers its line and answers the server's NOTIFY (give\n"
            "                       the server SIP_Port_1_ = PORT); the push scenario needs it\n"
            "  --pushes N           push: NOTIFY-caused resyncs each phone waits for (default 1)\n\n"
            "certs options: --count N, --out DIR, --ca-cert F --ca-key F (default: a new CA\n"
            "  in DIR/ca.pem, ca.key), --rsa (RSA 2048; default EC P-256), --first I, --seed,\n"
            "  --mix (as for run: they decide the MACs). Writes DIR/<mac>.pem (key, then cert).\n\n"
            "Exit status: 0 every phone reached the goal (run) or success, 1 not or error,\n"
            "2 usage. See docs/fleet.md.\n");
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap); /* a message: a cut is acceptable */
    va_end(ap);
    pv_cli_errorf("fleet: %s; 'provisor fleet --help' shows the usage", what);
    return PV_EXIT_USAGE;
}

static bool parse_u64(const char *text, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || v > max)
        return false;
    *out = v;
    return true;
}

enum {
    O_SCENARIO = 256,
    O_PHONES,
    O_SERVER,
    O_DURATION,
    O_REPORT,
    O_JSON,
    O_CA,
    O_CERTS,
    O_CERT_POOL,
    O_VIRTUAL,
    O_MIX,
    O_SEED,
    O_PERIOD,
    O_RANDOM_DELAY,
    O_OUTAGE,
    O_WAVE,
    O_FAULT,
    O_BAD_SHARE,
    O_MAX_IN_FLIGHT,
    O_FIRMWARE_SIZE,
    O_TIMEOUT,
    O_VWORKERS,
    O_VTLS,
    O_COUNT,
    O_OUT,
    O_CA_CERT,
    O_CA_KEY,
    O_RSA,
    O_FIRST,
    O_CODES,
    O_SOURCE_ADDRESSES,
    O_FETCHER,
    O_SIP,
    O_PUSHES,
};

static const struct option options[] = {
    {"scenario", required_argument, NULL, O_SCENARIO},
    {"phones", required_argument, NULL, O_PHONES},
    {"server", required_argument, NULL, O_SERVER},
    {"duration", required_argument, NULL, O_DURATION},
    {"report", required_argument, NULL, O_REPORT},
    {"json", no_argument, NULL, O_JSON},
    {"ca", required_argument, NULL, O_CA},
    {"certs", required_argument, NULL, O_CERTS},
    {"cert-pool", required_argument, NULL, O_CERT_POOL},
    {"virtual", no_argument, NULL, O_VIRTUAL},
    {"mix", required_argument, NULL, O_MIX},
    {"seed", required_argument, NULL, O_SEED},
    {"period", required_argument, NULL, O_PERIOD},
    {"random-delay", required_argument, NULL, O_RANDOM_DELAY},
    {"outage", required_argument, NULL, O_OUTAGE},
    {"wave", required_argument, NULL, O_WAVE},
    {"fault", required_argument, NULL, O_FAULT},
    {"bad-share", required_argument, NULL, O_BAD_SHARE},
    {"max-in-flight", required_argument, NULL, O_MAX_IN_FLIGHT},
    {"firmware-size", required_argument, NULL, O_FIRMWARE_SIZE},
    {"timeout-ms", required_argument, NULL, O_TIMEOUT},
    {"vworkers", required_argument, NULL, O_VWORKERS},
    {"vtls-us", required_argument, NULL, O_VTLS},
    {"count", required_argument, NULL, O_COUNT},
    {"out", required_argument, NULL, O_OUT},
    {"ca-cert", required_argument, NULL, O_CA_CERT},
    {"ca-key", required_argument, NULL, O_CA_KEY},
    {"rsa", no_argument, NULL, O_RSA},
    {"first", required_argument, NULL, O_FIRST},
    {"codes", required_argument, NULL, O_CODES},
    {"source-addresses", required_argument, NULL, O_SOURCE_ADDRESSES},
    {"fetcher", required_argument, NULL, O_FETCHER},
    {"sip", required_argument, NULL, O_SIP},
    {"pushes", required_argument, NULL, O_PUSHES},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

typedef struct args {
    pv_fleet_config cfg;
    const char *report, *out, *ca_cert, *ca_key, *scenario, *codes;
    bool json, rsa;
    uint64_t count, first;
} args;

/* A numeric option: name for the message, the limit, where it goes. */
static int number(const char *name, const char *text, uint64_t max, uint64_t *out)
{
    if (!parse_u64(text, max, out)) {
        char what[256];
        snprintf(what, sizeof what, "--%s '%s': expected a whole number up to %llu", name, text,
                 (unsigned long long)max); /* a message: a cut is acceptable */
        return usage_error("%s", what);
    }
    return 0;
}

static int parse(int argc, char **argv, args *a)
{
    pv_fleet_config_default(&a->cfg);
    int c;
    uint64_t v;
    pv_error err;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        int rc = 0;
        switch (c) {
        case 'h':
            usage(stdout);
            exit(PV_EXIT_OK);
        case O_SCENARIO:
            a->scenario = optarg;
            break;
        case O_PHONES:
        case O_COUNT:
            rc = number(c == O_PHONES ? "phones" : "count", optarg, PV_FLEET_MAX_PHONES, &v);
            a->cfg.phones = (uint32_t)v;
            a->count = v;
            break;
        case O_SERVER:
            if (a->cfg.nservers == PV_FLEET_MAX_SERVERS)
                return usage_error("at most 8 --server URLs (%s is one too many)", optarg);
            a->cfg.servers[a->cfg.nservers++] = optarg;
            break;
        case O_DURATION:
            rc = number("duration", optarg, 86400 * 30, &a->cfg.plan.duration_s);
            break;
        case O_REPORT:
            a->report = optarg;
            break;
        case O_JSON:
            a->json = true;
            break;
        case O_CA:
            a->cfg.ca_file = optarg;
            break;
        case O_CERTS:
            a->cfg.certs_dir = optarg;
            break;
        case O_CERT_POOL:
            rc = number("cert-pool", optarg, PV_FLEET_MAX_PHONES, &v);
            a->cfg.cert_pool = (uint32_t)v;
            break;
        case O_VIRTUAL:
            a->cfg.virtual_clock = true;
            break;
        case O_MIX:
            if (pv_fleet_mix_parse(optarg, &a->cfg.mix, &err) != 0)
                return usage_error("%s", err.msg);
            break;
        case O_SEED:
            rc = number("seed", optarg, UINT64_MAX, &a->cfg.seed);
            break;
        case O_PERIOD:
            rc = number("period", optarg, 86400, &a->cfg.plan.period_s);
            break;
        case O_RANDOM_DELAY:
            rc = number("random-delay", optarg, 65535, &v);
            a->cfg.plan.random_delay = (int)v;
            break;
        case O_OUTAGE:
            rc = number("outage", optarg, 86400, &a->cfg.plan.outage_s);
            break;
        case O_WAVE:
            rc = number("wave", optarg, 86400, &a->cfg.plan.wave_s);
            break;
        case O_SIP:
            rc = number("sip", optarg, 65535, &v);
            a->cfg.sip_port = (uint16_t)v;
            break;
        case O_PUSHES:
            rc = number("pushes", optarg, 100, &v);
            a->cfg.plan.pushes = (uint32_t)v;
            break;
        case O_FAULT:
            if (strcmp(optarg, "verify") == 0)
                a->cfg.plan.fault = PV_FAULT_VERIFY;
            else if (strcmp(optarg, "brick") == 0)
                a->cfg.plan.fault = PV_FAULT_BRICK;
            else
                rc = usage_error("--fault '%s': verify or brick", optarg);
            break;
        case O_BAD_SHARE:
            rc = number("bad-share", optarg, 100, &v);
            a->cfg.plan.bad_share = (unsigned)v;
            break;
        case O_MAX_IN_FLIGHT:
            rc = number("max-in-flight", optarg, 1000000, &v);
            a->cfg.max_in_flight = (uint32_t)v;
            break;
        case O_FIRMWARE_SIZE:
            rc = number("firmware-size", optarg, (uint64_t)64 << 20, &v);
            a->cfg.firmware_size = (size_t)v;
            break;
        case O_TIMEOUT:
            rc = number("timeout-ms", optarg, 3600000, &v);
            a->cfg.timeout_ms = (unsigned)v;
            break;
        case O_VWORKERS:
            rc = number("vworkers", optarg, PV_VSERVER_MAX_WORKERS, &v);
            a->cfg.vmodel.workers = (unsigned)v;
            break;
        case O_VTLS:
            rc = number("vtls-us", optarg, 1000000, &v);
            a->cfg.vmodel.tls_us = (uint32_t)v;
            break;
        case O_OUT:
            a->out = optarg;
            break;
        case O_CA_CERT:
            a->ca_cert = optarg;
            break;
        case O_CA_KEY:
            a->ca_key = optarg;
            break;
        case O_RSA:
            a->rsa = true;
            break;
        case O_CODES:
            a->codes = optarg;
            break;
        case O_SOURCE_ADDRESSES:
            if (strcmp(optarg, "on") != 0 && strcmp(optarg, "off") != 0)
                return usage_error("--source-addresses '%s': expected on or off", optarg);
            a->cfg.source_addresses = strcmp(optarg, "on") == 0;
            break;
        case O_FETCHER:
            if (strcmp(optarg, "native") != 0 && strcmp(optarg, "curl") != 0)
                return usage_error("--fetcher '%s': expected native or curl", optarg);
            a->cfg.curl_fetcher = strcmp(optarg, "curl") == 0;
            break;
        case O_FIRST:
            rc = number("first", optarg, PV_FLEET_MAX_PHONES - 1, &a->first);
            break;
        default:
            return PV_EXIT_USAGE;
        }
        if (rc != 0)
            return rc;
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    return 0;
}

/* So that 1000 connections in flight never meet the default soft limit of 1024. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static int read_codes(args *a, pv_buf *buf, pv_error *err);
static int run_and_report(args *a, pv_fleet *f);

static int cmd_run(args *a)
{
    if (a->scenario == NULL)
        return usage_error("run needs --scenario NAME");
    a->cfg.scenario = pv_fleet_scenario_find(a->scenario);
    if (a->cfg.scenario == NULL)
        return usage_error("unknown scenario '%s'", a->scenario);
    if (a->cfg.phones == 0)
        return usage_error("run needs --phones N (at least 1)");
    if (a->cfg.nservers == 0)
        return usage_error("run needs --server URL");
    /* Never silent for minutes (issue 10): a live line on a terminal, else a line every 5 s. */
    a->cfg.progress = !a->cfg.virtual_clock;
    a->cfg.progress_lines = !isatty(2);
    if (a->cfg.progress)
        fprintf(stderr,
                "fleet: %u phones, scenario %s, against %s%s: progress on stderr, the report "
                "when the scenario stops\n",
                a->cfg.phones, a->cfg.scenario->name, a->cfg.servers[0],
                a->cfg.nservers > 1 ? " and more" : "");
    raise_fd_limit();
    pv_error err;
    pv_buf codes = {0};
    if (a->codes != NULL && read_codes(a, &codes, &err) != 0) {
        pv_cli_errorf("fleet: --codes %s: %s", a->codes, err.msg);
        pv_buf_free(&codes);
        return PV_EXIT_FAILURE;
    }
    pv_fleet *f = NULL;
    int rc = PV_EXIT_FAILURE;
    if (pv_fleet_new(&f, &a->cfg, &err) == 0)
        rc = run_and_report(a, f);
    else
        pv_cli_errorf("fleet: %s", err.msg);
    pv_fleet_free(f);
    free(a->cfg.codes);
    pv_buf_free(&codes);
    return rc;
}

/* One code per line, at least one per phone; the lines stay in buf. */
static int read_codes(args *a, pv_buf *buf, pv_error *err)
{
    int rc = pv_cli_read_file(a->codes, (size_t)64 << 20, buf, err);
    if (rc != 0)
        return rc;
    if (buf->len == 0)
        return pv_error_set(err, PV_EINVAL, "empty: one code per line is needed");
    a->cfg.codes = pv_reallocarray(NULL, a->cfg.phones, sizeof *a->cfg.codes);
    a->cfg.ncodes = 0;
    char *save = NULL;
    for (char *line = strtok_r(buf->data, "\r\n", &save);
         line != NULL && a->cfg.ncodes < a->cfg.phones; line = strtok_r(NULL, "\r\n", &save)) {
        if (strspn(line, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_") !=
                strlen(line) ||
            strlen(line) > 64)
            return pv_error_set(err, PV_ESYNTAX,
                                "line %u: a code is 1..64 letters, digits, '-' or '_'",
                                a->cfg.ncodes + 1);
        a->cfg.codes[a->cfg.ncodes++] = line;
    }
    if (a->cfg.ncodes < a->cfg.phones)
        return pv_error_set(err, PV_ERANGE, "%u codes for %u phones: one per phone is needed",
                            a->cfg.ncodes, a->cfg.phones);
    return 0;
}

static int run_and_report(args *a, pv_fleet *f)
{
    pv_error err;
    if (pv_fleet_run(f, &err) != 0) {
        pv_cli_errorf("fleet: %s", err.msg);
        return PV_EXIT_FAILURE;
    }
    pv_buf b = {0};
    if (a->json)
        pv_fleet_report_json(f, &b);
    else
        pv_fleet_report_text(f, &b);
    fwrite(b.data, 1, b.len, stdout);
    pv_buf_free(&b);
    int exit_code = pv_fleet_get_summary(f)->goal_all ? PV_EXIT_OK : PV_EXIT_FAILURE;
    if (a->report != NULL) {
        bool png = false;
        if (pv_fleet_report_write(f, a->report, &png, &err) != 0) {
            pv_cli_errorf("fleet: %s", err.msg);
            exit_code = PV_EXIT_FAILURE;
        } else if (!png) {
            fprintf(stderr, "provisor: fleet: plot.png not made (rsvg-convert missing or "
                            "failed: apt-get install librsvg2-bin); plot.svg is there\n");
        }
    }
    return exit_code;
}

static int cmd_certs(args *a)
{
    if (a->count == 0 || a->out == NULL)
        return usage_error("certs needs --count N and --out DIR");
    if ((a->ca_cert == NULL) != (a->ca_key == NULL))
        return usage_error("--ca-cert and --ca-key go together");
    pv_fleet_certs_options o = {.count = (uint32_t)a->count,
                                .first = (uint32_t)a->first,
                                .seed = a->cfg.seed,
                                .mix = a->cfg.mix,
                                .out_dir = a->out,
                                .ca_cert = a->ca_cert,
                                .ca_key = a->ca_key,
                                .rsa = a->rsa};
    pv_fleet_certs_result res;
    pv_error err;
    if (pv_fleet_certs_issue(&o, &res, &err) != 0) {
        pv_cli_errorf("fleet certs: %s (after %u certificates)", err.msg, res.issued);
        return PV_EXIT_FAILURE;
    }
    printf("issued %u %s client certificates in %.2f s (%.0f per second) into %s\n", res.issued,
           a->rsa ? "RSA 2048" : "EC P-256", res.seconds,
           res.seconds > 0 ? res.issued / res.seconds : 0.0, a->out);
    return PV_EXIT_OK;
}

/*
 * Generated test data, 200 000 files for a 100 000-phone fleet: written plainly, without the
 * fsync of pv_cli_write_file (which makes it a matter of minutes instead of seconds).
 */
static int write_under(const char *root, const char *rel, const pv_buf *b, pv_error *err)
{
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s", root, rel);
    if (n < 0 || (size_t)n >= sizeof path)
        return pv_error_set(err, PV_ETOOBIG, "--out %s: name too long", root);
    FILE *fp = fopen(path, "wb");
    if (fp == NULL)
        return pv_error_set(err, PV_EIO, "%s: %s", path, strerror(errno));
    bool ok = fwrite(b->data ? b->data : "", 1, b->len, fp) == b->len;
    if (fclose(fp) != 0 || !ok)
        return pv_error_set(err, PV_EIO, "%s: cannot write (%s)", path, strerror(errno));
    return 0;
}

static int make_dirs(const char *root, pv_error *err)
{
    static const char *const dirs[] = {"", "/fleet", "/fleet/fw", "/init"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        char path[4096];
        int n = snprintf(path, sizeof path, "%s%s", root, dirs[i]);
        if (n < 0 || (size_t)n >= sizeof path)
            return pv_error_set(err, PV_ETOOBIG, "--out %s: name too long", root);
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return pv_error_set(err, PV_EIO, "%s: %s", path, strerror(errno));
    }
    return 0;
}

static int cmd_profiles(args *a)
{
    if (a->cfg.phones == 0 || a->out == NULL || a->cfg.nservers == 0)
        return usage_error("profiles needs --phones N, --out DIR and --server URL");
    pv_error err;
    int rc = make_dirs(a->out, &err);
    pv_buf b = {0}, rel = {0};
    bool fw_done[4] = {false};
    for (uint32_t i = 0; rc == 0 && i < a->cfg.phones; i++) {
        pv_fleet_ident id;
        pv_fleet_ident_make(a->cfg.seed, i, &a->cfg.mix, &id);
        pv_buf_reset(&b);
        pv_buf_reset(&rel);
        rc = pv_fleet_profile_encrypted(&id, &b, &err);
        pv_buf_appendf(&rel, "fleet/%s.cfg", id.mac);
        if (rc == 0)
            rc = write_under(a->out, rel.data, &b, &err);
        pv_buf_reset(&b);
        pv_buf_reset(&rel);
        pv_fleet_bind_profile(&id, a->cfg.servers[i % a->cfg.nservers], &b);
        pv_buf_appendf(&rel, "init/%s", id.code);
        if (rc == 0)
            rc = write_under(a->out, rel.data, &b, &err);
        if (rc == 0 && !fw_done[id.family]) {
            fw_done[id.family] = true;
            pv_buf_reset(&b);
            pv_buf_reset(&rel);
            pv_fleet_firmware(id.family, a->cfg.firmware_size, &b);
            pv_fleet_firmware_path(id.family, &rel);
            rc = write_under(a->out, rel.data, &b, &err);
        }
    }
    pv_buf_free(&b);
    pv_buf_free(&rel);
    if (rc != 0) {
        pv_cli_errorf("fleet profiles: %s", err.msg);
        return PV_EXIT_FAILURE;
    }
    printf("wrote profiles, binding profiles and firmware for %u phones under %s\n", a->cfg.phones,
           a->out);
    return PV_EXIT_OK;
}

int pv_cmd_fleet(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? PV_EXIT_USAGE : PV_EXIT_OK;
    }
    const char *sub = argv[1];
    args a = {0};
    int rc = parse(argc - 1, argv + 1, &a);
    if (rc != 0)
        return rc;
    if (strcmp(sub, "run") == 0)
        return cmd_run(&a);
    if (strcmp(sub, "certs") == 0)
        return cmd_certs(&a);
    if (strcmp(sub, "profiles") == 0)
        return cmd_profiles(&a);
    return usage_error("unknown subcommand '%s' (run, certs, profiles)", sub);
}
