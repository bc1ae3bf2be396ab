/*
 * cmd_phone.c — `provisor phone`: run one emulated phone (phone/phone.h), or
 * talk to one: `call start|end`, `factory-reset`, `status`, `resync [URL]`,
 * and `dhcp-hook`, the busybox udhcpc script (phone/dhcp_hook.h).
 *
 * A running phone is found through its state directory (the `web` file holds
 * its web server's address, `pid` its process) or with --web ADDR:PORT. With
 * no phone running, `factory-reset` and `status` work on the state directory
 * itself.
 */
#include "cli/cli.h"

#include "phone/dhcp_hook.h"
#include "phone/phone.h"
#include "phone/tui.h"
#include "core/alloc.h"
#include "core/log.h"
#include "net/fetch.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

extern char **environ;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: provisor phone [--model M] [--mac MAC] [--state-dir DIR] [--web ADDR:PORT]\n"
            "                      [--cert F --key F] [--ca F] [--dhcp-option N=VALUE]...\n"
            "                      [--ip IP] [--clock real|virtual[:FACTOR]] [--seed N] [--tui]\n"
            "                      [--sip ADDR[:PORT]] [--dns ADDR[:PORT],...]\n"
            "       provisor phone call start|end       [--state-dir DIR | --web ADDR:PORT]\n"
            "       provisor phone factory-reset [--ivr] [--state-dir DIR | --web ADDR:PORT]\n"
            "       provisor phone status               [--state-dir DIR | --web ADDR:PORT]\n"
            "       provisor phone resync [RULE]        [--state-dir DIR | --web ADDR:PORT]\n"
            "       provisor phone dhcp-hook EVENT      [--state-dir DIR]\n"
            "       provisor phone cert --mac MAC [--model M] [--serial S] [--out FILE]\n"
            "                           [--data-dir DIR]\n\n"
            "Runs one emulated SIP phone that provisions like an SPA or multiplatform phone:\n"
            "resync and upgrade timers, Profile_Rule, decryption, its own web server\n"
            "(/admin/resync?URL, /admin/status.xml, ...). State survives restarts in DIR.\n\n"
            "  --model M            SPA504G, CP-8841-3PCC (default), ATA191-MPP, or spa|mpp|ata\n"
            "  --mac MAC            the phone's MAC (needed the first time for a DIR)\n"
            "  --state-dir DIR      where the phone keeps its state (default ./phone-state)\n"
            "  --web ADDR:PORT      run the phone's web server there (e.g. 127.0.0.1:8088)\n"
            "  --sip ADDR[:PORT]    run the SIP user agent there (port: SIP_Port_1_, 5060): its\n"
            "                       lines register with Proxy_n_ and obey NOTIFY (spec 5.5)\n"
            "  --cert F, --key F    the device certificate and key presented over HTTPS\n"
            "                       (one file with both is fine: 'provisor phone cert' makes\n"
            "                       one from the data directory's demo manufacturer CA)\n"
            "  --ca F               CA bundle the phone trusts for HTTPS servers (for\n"
            "                       'provisor serve': DATA/tls/ca.pem)\n"
            "  --no-verify-name     do not check the server name against its certificate\n"
            "  --any-key-digest     accept encrypted profiles whose key was derived with md5\n"
            "                       or sha256; by default only the digest of the running\n"
            "                       firmware generation (md5: SPA, ATA, MPP < 11.3)\n"
            "  --dhcp-option N=V    DHCP option 66, 150, 159 or 160 (spec 10); repeatable\n"
            "  --ip IP              the phone's address ($IP), default 127.0.0.1\n"
            "  --dns ADDR[:PORT],.. DNS servers the phone asks (as DHCP option 6 gives them);\n"
            "                       default: the system's. Names are looked up by the phone\n"
            "                       ($SERVIP, --srv in Profile_Rule: spec 1.1, 2.2)\n"
            "  --clock C            real (default), or virtual[:FACTOR]: time runs FACTOR times\n"
            "                       faster and /admin/clock?advance=SECONDS jumps ahead\n"
            "  --seed N             random seed (default: from the MAC)\n"
            "  --tui                show the phone's screen and keys on this terminal\n"
            "  --user U, --password P  credentials for call/factory-reset/status/resync\n"
            "  --ivr                factory-reset as the keypad code ****73738# 1# does: refused\n"
            "                       when Protect_IVR_FactoryReset is Yes (spec 12.2)\n"
            "  -h, --help           this help\n\n"
            "dhcp-hook: use 'provisor phone dhcp-hook' as udhcpc's script (udhcpc -s); it\n"
            "reads the lease from the environment ($ip, $tftp, $siaddr, $opt150, $opt159,\n"
            "$opt160), stores it in DIR (or $PROVISOR_PHONE_DIR) and tells a running phone.\n");
}

static int usage_error(const char *what)
{
    pv_cli_errorf("phone: %s; 'provisor phone --help' shows the usage", what);
    return PV_EXIT_USAGE;
}

typedef struct args {
    pv_phone_options o;
    const char *user, *password;
    bool tui, ivr;
} args;

enum { OPT_NO_VERIFY = 1000, OPT_USER, OPT_PASSWORD, OPT_IVR, OPT_SIP, OPT_ANY_DIGEST, OPT_DNS };

static int parse(int argc, char **argv, args *a)
{
    static const struct option longs[] = {{"model", required_argument, NULL, 'm'},
                                          {"mac", required_argument, NULL, 'a'},
                                          {"state-dir", required_argument, NULL, 'd'},
                                          {"web", required_argument, NULL, 'w'},
                                          {"cert", required_argument, NULL, 'c'},
                                          {"key", required_argument, NULL, 'k'},
                                          {"ca", required_argument, NULL, 'C'},
                                          {"dhcp-option", required_argument, NULL, 'o'},
                                          {"ip", required_argument, NULL, 'i'},
                                          {"clock", required_argument, NULL, 't'},
                                          {"seed", required_argument, NULL, 's'},
                                          {"tui", no_argument, NULL, 'T'},
                                          {"no-verify-name", no_argument, NULL, OPT_NO_VERIFY},
                                          {"user", required_argument, NULL, OPT_USER},
                                          {"password", required_argument, NULL, OPT_PASSWORD},
                                          {"ivr", no_argument, NULL, OPT_IVR},
                                          {"sip", required_argument, NULL, OPT_SIP},
                                          {"any-key-digest", no_argument, NULL, OPT_ANY_DIGEST},
                                          {"dns", required_argument, NULL, OPT_DNS},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    pv_phone_options *o = &a->o;
    o->state_dir = "phone-state";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        switch (c) {
        case 'm':
            o->model = optarg;
            break;
        case 'a':
            o->mac = optarg;
            break;
        case 'd':
            o->state_dir = optarg;
            break;
        case 'w':
            o->web_address = optarg;
            break;
        case OPT_SIP:
            o->sip_address = optarg;
            break;
        case 'c':
            o->cert_file = optarg;
            break;
        case 'k':
            o->key_file = optarg;
            break;
        case 'C':
            o->ca_file = optarg;
            break;
        case 'i':
            o->ip = optarg;
            break;
        case 'T':
            a->tui = true;
            break;
        case OPT_NO_VERIFY:
            o->no_verify_host = true;
            break;
        case OPT_USER:
            a->user = optarg;
            break;
        case OPT_PASSWORD:
            a->password = optarg;
            break;
        case OPT_IVR:
            a->ivr = true;
            break;
        case OPT_ANY_DIGEST:
            o->any_key_digest = true;
            break;
        case OPT_DNS:
            o->dns_servers = optarg;
            break;
        case 's':
            o->seed = strtoull(optarg, NULL, 0);
            break;
        case 'o': {
            char *end;
            unsigned long code = strtoul(optarg, &end, 10);
            if (*end != '=' || o->dhcp_count == PV_PHONE_MAX_DHCP)
                return usage_error("--dhcp-option wants N=VALUE (66, 150, 159 or 160)");
            o->dhcp[o->dhcp_count].code = (unsigned)code;
            o->dhcp[o->dhcp_count].value = end + 1;
            o->dhcp_count++;
            break;
        }
        case 't':
            if (strcmp(optarg, "real") == 0)
                break;
            if (strncmp(optarg, "virtual", 7) != 0 || (optarg[7] != '\0' && optarg[7] != ':'))
                return usage_error("--clock wants real or virtual[:FACTOR]");
            o->virtual_clock = true;
            o->clock_factor = optarg[7] == ':' ? strtod(optarg + 8, NULL) : 1.0;
            if (!(o->clock_factor > 0 && o->clock_factor <= 1e6))
                return usage_error("--clock virtual:FACTOR wants a factor in (0, 1000000]");
            break;
        case 'h':
            usage(stdout);
            return -1;
        default:
            return usage_error("unknown option");
        }
    }
    if (o->cert_file != NULL && o->key_file == NULL)
        o->key_file = o->cert_file;
    return 0;
}

/* ---- running a phone ---- */

typedef struct run_ctx {
    uv_loop_t loop;
    pv_phone *phone;
    pv_tui *tui;
    uv_signal_t sig[3];
    bool started, stopping;
} run_ctx;

static void stop(run_ctx *r)
{
    if (r->stopping)
        return;
    r->stopping = true;
    if (r->tui != NULL)
        pv_tui_close(r->tui);
    for (int i = 0; i < 3; i++)
        uv_close((uv_handle_t *)&r->sig[i], NULL);
    if (r->started) /* switched off: the shutdown report first (spec 7.1), 5 s at most */
        pv_phone_shutdown(r->phone, 5000, NULL, NULL);
    else
        pv_phone_close(r->phone, NULL, NULL);
}

static void on_signal(uv_signal_t *h, int signum)
{
    run_ctx *r = h->data;
    if (signum == SIGHUP) { /* dhcp-hook wrote a new lease */
        pv_error err;
        if (pv_phone_reload_dhcp(r->phone, &err) != 0)
            pv_logf(PV_LOG_WARN, "phone.dhcp", "error=\"%s\"", err.msg);
        return;
    }
    stop(r);
}

static void tui_quit(void *data)
{
    stop(data);
}

static int run(args *a)
{
    run_ctx r = {0};
    uv_loop_init(&r.loop);
    pv_error err;
    if (pv_phone_new(&r.loop, &a->o, &r.phone, &err) != 0) {
        pv_cli_errorf("phone: %s", err.msg);
        uv_run(&r.loop, UV_RUN_DEFAULT);
        uv_loop_close(&r.loop);
        return PV_EXIT_FAILURE;
    }
    const int sigs[3] = {SIGINT, SIGTERM, SIGHUP};
    for (int i = 0; i < 3; i++) {
        uv_signal_init(&r.loop, &r.sig[i]);
        r.sig[i].data = &r;
        uv_signal_start(&r.sig[i], on_signal, sigs[i]);
    }
    if (a->tui) {
        pv_log_set_level(PV_LOG_ERROR); /* the screen is the output now */
        if (pv_tui_new(&r.loop, r.phone, 0, 1, tui_quit, &r, &r.tui, &err) != 0) {
            pv_cli_errorf("phone: %s", err.msg);
            stop(&r);
        }
    }
    if (!r.stopping) {
        const char *web = pv_phone_web_address(r.phone);
        if (web != NULL && !a->tui)
            printf("phone %s web http://%s/\n", pv_agent_mac(pv_phone_agent(r.phone)), web);
        const char *sip = pv_phone_sip_bound(r.phone);
        if (sip != NULL && !a->tui)
            printf("phone %s sip udp %s\n", pv_agent_mac(pv_phone_agent(r.phone)), sip);
        fflush(stdout);
        pv_phone_start(r.phone);
        r.started = true;
    }
    uv_run(&r.loop, UV_RUN_DEFAULT);
    uv_loop_close(&r.loop);
    return PV_EXIT_OK;
}

/* ---- talking to a running phone ---- */

typedef struct answer {
    bool done;
    int error, status;
    pv_buf body;
    char text[256];
} answer;

static void on_answer(pv_fetch *f, const pv_fetch_result *r, void *data)
{
    answer *ans = data;
    ans->done = true;
    ans->error = r->error;
    ans->status = r->status;
    snprintf(ans->text, sizeof ans->text, "%s", r->error_text);
    pv_buf_append(&ans->body, r->body, r->body_len);
}

/* GET http://WEB/PATH, logged in with HTTP Basic (not xpassword: a URL ends up in logs). */
static int ask(const args *a, const char *web, const char *path, answer *ans)
{
    pv_buf url = {0};
    pv_buf_appendf(&url, "http://%s%s", web, path);
    pv_buf_append_char(&url, '\0');
    uv_loop_t loop;
    uv_loop_init(&loop);
    pv_fetcher *f;
    pv_error err;
    int rc = pv_fetcher_new(&loop, NULL, &f, &err);
    if (rc == 0) {
        pv_fetch_request req = {.url = url.data, .user_agent = "provisor-phone-cli"};
        if (a->password != NULL) {
            req.uid = a->user ? a->user : "admin";
            req.pwd = a->password;
            req.auth_scheme = "Basic"; /* at once: the phone sends no challenge header */
        }
        rc = pv_fetch_start(f, &req, on_answer, ans, NULL, &err);
        while (rc == 0 && !ans->done)
            uv_run(&loop, UV_RUN_ONCE);
        pv_fetcher_close(f, NULL, NULL);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    pv_buf_free(&url);
    if (rc != 0) {
        pv_cli_errorf("phone: %s", err.msg);
        return PV_EXIT_FAILURE;
    }
    if (ans->error < 0) {
        pv_cli_errorf("phone: no answer from the phone at %s: %s", web, ans->text);
        return PV_EXIT_FAILURE;
    }
    fwrite(ans->body.data ? ans->body.data : "", 1, ans->body.len,
           ans->status == 200 ? stdout : stderr);
    return ans->status == 200 ? PV_EXIT_OK : PV_EXIT_FAILURE;
}

/* The running phone's web address, from --web or DIR/web; NULL when none runs. */
static char *running_web(const args *a)
{
    if (a->o.web_address != NULL)
        return pv_strdup(a->o.web_address);
    char *text;
    size_t len;
    if (pv_phone_read_file(a->o.state_dir, "web", 256, &text, &len, NULL) != 0)
        return NULL;
    return text;
}

static int remote(const args *a, const char *path)
{
    char *web = running_web(a);
    if (web == NULL) {
        pv_cli_errorf("phone: no phone is running with state in %s (no web file); start it with "
                      "--web, or give --web ADDR:PORT",
                      a->o.state_dir);
        return PV_EXIT_FAILURE;
    }
    answer ans = {0};
    int rc = ask(a, web, path, &ans);
    pv_buf_free(&ans.body);
    free(web);
    return rc;
}

/* No phone running: act on the state directory itself. */
static int offline(args *a, bool reset)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    pv_error err;
    pv_phone *p;
    a->o.web_address = NULL;
    int rc = pv_phone_new(&loop, &a->o, &p, &err);
    if (rc == 0) {
        pv_agent *ag = pv_phone_agent(p);
        if (reset && a->ivr) /* the keypad code: Protect_IVR_FactoryReset may refuse it */
            rc = pv_agent_ivr_factory_reset(ag, pv_phone_now(p), &err);
        else if (reset)
            pv_agent_factory_reset(ag, pv_phone_now(p));
        if (reset && rc == 0) {
            pv_agent_action act; /* only the PERSIST matters: the phone is off */
            while (pv_agent_next_action(ag, &act)) {
                if (act.kind == PV_AGENT_ACT_PERSIST) {
                    char *data;
                    size_t len;
                    pv_agent_save(ag, &data, &len);
                    rc = pv_phone_write_file(a->o.state_dir, "state", data, len, &err);
                    free(data);
                }
            }
            if (rc == 0)
                printf("factory reset: %s is back in MFG-RESET\n", pv_agent_mac(ag));
        } else if (!reset) {
            char *xml;
            size_t len;
            pv_agent_status_xml(ag, pv_phone_now(p), &xml, &len);
            fwrite(xml, 1, len, stdout);
            free(xml);
        }
        pv_phone_close(p, NULL, NULL);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    if (rc != 0) {
        pv_cli_errorf("phone: %s", err.msg);
        return PV_EXIT_FAILURE;
    }
    return PV_EXIT_OK;
}

/* ---- dhcp-hook ---- */

static int dhcp_hook(args *a, const char *event)
{
    const char *dir = getenv("PROVISOR_PHONE_DIR");
    if (dir != NULL && strcmp(a->o.state_dir, "phone-state") == 0)
        a->o.state_dir = dir;
    pv_error err;
    pv_dhcp_lease lease;
    if (strcmp(event, "bound") == 0 || strcmp(event, "renew") == 0) {
        if (pv_dhcp_lease_from_env(environ, &lease, &err) != 0) {
            pv_cli_errorf("phone dhcp-hook: %s", err.msg);
            return PV_EXIT_FAILURE;
        }
    } else if (strcmp(event, "deconfig") == 0) {
        memset(&lease, 0, sizeof lease); /* the lease is gone */
    } else {
        return PV_EXIT_OK; /* leasefail, nak: nothing learned */
    }
    pv_buf text = {0};
    pv_dhcp_lease_format(&lease, &text);
    int rc =
        pv_phone_write_file(a->o.state_dir, "dhcp", text.data ? text.data : "", text.len, &err);
    pv_buf_free(&text);
    if (rc != 0) {
        pv_cli_errorf("phone dhcp-hook: %s", err.msg);
        return PV_EXIT_FAILURE;
    }
    char *pid;
    size_t len;
    if (pv_phone_read_file(a->o.state_dir, "pid", 64, &pid, &len, NULL) == 0) {
        long n = strtol(pid, NULL, 10);
        if (n > 0 && kill((pid_t)n, SIGHUP) != 0 && errno != ESRCH)
            pv_cli_errorf("phone dhcp-hook: cannot signal phone %ld: %s", n, strerror(errno));
        free(pid);
    }
    return PV_EXIT_OK;
}

int pv_cmd_phone(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "cert") == 0)
        return pv_cli_phone_cert(argc - 1, argv + 1);
    args a = {0};
    const char *sub = argc > 1 && argv[1][0] != '-' ? argv[1] : NULL;
    int shift = sub != NULL;
    int rc = parse(argc - shift, argv + shift, &a);
    if (rc != 0)
        return rc < 0 ? PV_EXIT_OK : rc;
    int rest = argc - shift - optind;
    char **more = argv + shift + optind;
    if (sub == NULL) {
        if (rest > 0)
            return usage_error("unexpected argument");
        return run(&a);
    }
    if (strcmp(sub, "call") == 0) {
        if (rest != 1 || (strcmp(more[0], "start") != 0 && strcmp(more[0], "end") != 0))
            return usage_error("call wants start or end");
        return remote(&a, strcmp(more[0], "start") == 0 ? "/admin/call?start" : "/admin/call?end");
    }
    if (strcmp(sub, "factory-reset") == 0 || strcmp(sub, "status") == 0) {
        bool reset = sub[0] == 'f';
        char *web = running_web(&a);
        if (web == NULL)
            return offline(&a, reset);
        free(web);
        return remote(&a, !reset  ? "/admin/status.xml"
                          : a.ivr ? "/admin/factory-reset?ivr"
                                  : "/admin/factory-reset");
    }
    if (strcmp(sub, "resync") == 0) {
        pv_buf path = {0};
        pv_buf_append_str(&path, "/admin/resync");
        if (rest == 1) {
            pv_buf_append_char(&path, '?');
            for (const char *c = more[0]; *c; c++) /* "--key K URL": spaces as %20 */
                *c == ' ' ? pv_buf_append_str(&path, "%20") : pv_buf_append_char(&path, *c);
        }
        pv_buf_append_char(&path, '\0');
        rc = remote(&a, path.data);
        pv_buf_free(&path);
        return rc;
    }
    if (strcmp(sub, "dhcp-hook") == 0) {
        if (rest != 1)
            return usage_error("dhcp-hook wants the udhcpc event (bound, renew, deconfig...)");
        return dhcp_hook(&a, more[0]);
    }
    return usage_error("unknown subcommand");
}
