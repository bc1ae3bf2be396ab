/*
 * cmd_dhcp.c — `provisor dhcp-snippet --dnsmasq|--kea [--tftp-server IP]...
 * [--url URL]`: prints DHCP options 66, 150 and 160 (spec 10) for
 * in-house pre-provisioning (server/dhcp.h). Works offline: no server needed.
 */
#include "cli/cli.h"

#include "server/dhcp.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: provisor dhcp-snippet --dnsmasq|--kea [--tftp-server IP]... [--tftp-name NAME]\n"
        "                             [--url URL] [--server-ip IP]\n\n"
        "Prints the DHCP options that point factory-fresh phones at the provider (spec 10):\n"
        "  66   TFTP server name (the first --tftp-server unless --tftp-name)\n"
        "  150  TFTP server address list (Cisco), from every --tftp-server\n"
        "  159  provisioning server address, from --server-ip or the --url host\n"
        "  160  provisioning URL, from --url (e.g. http://prov.example.net/$PSN.xml)\n"
        "All are given only to clients whose vendor class (option 60) is a Cisco\n"
        "phone's: CP-..., Cisco SPA..., LINKSYS SPA..., CISCO ATA...\n\n"
        "  --dnsmasq            dnsmasq.conf lines (dhcp-option=...)\n"
        "  --kea                a {\"Dhcp4\": ...} object for kea-dhcp4.conf, with the option\n"
        "                       definitions 150 and 160 need\n"
        "  --tftp-server IP     IPv4 address (repeatable, up to 8)\n"
        "  --tftp-name NAME     option 66 text instead of the first address\n"
        "  --url URL            http://, https:// or tftp:// URL\n"
        "  --server-ip IP       option 159 (default: the URL's host when an IPv4 address)\n"
        "  -h, --help           this text\n\n"
        "Exit status: 0 success, 1 invalid value, 2 usage error.\n");
}

int pv_cmd_dhcp_snippet(int argc, char **argv)
{
    enum { OPT_DNSMASQ = 1000, OPT_KEA, OPT_TFTP, OPT_NAME, OPT_URL, OPT_SERVER };
    static const struct option opts[] = {
        {"dnsmasq", no_argument, NULL, OPT_DNSMASQ},
        {"kea", no_argument, NULL, OPT_KEA},
        {"tftp-server", required_argument, NULL, OPT_TFTP},
        {"tftp-name", required_argument, NULL, OPT_NAME},
        {"url", required_argument, NULL, OPT_URL},
        {"server-ip", required_argument, NULL, OPT_SERVER},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    pv_dhcp_options o = {0};
    int format = -1, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_DNSMASQ:
        case OPT_KEA:
            if (format >= 0 && format != (c == OPT_KEA ? PV_DHCP_KEA : PV_DHCP_DNSMASQ)) {
                pv_cli_errorf("dhcp-snippet: --dnsmasq or --kea, not both");
                return PV_EXIT_USAGE;
            }
            format = c == OPT_KEA ? PV_DHCP_KEA : PV_DHCP_DNSMASQ;
            break;
        case OPT_TFTP:
            if (o.n_tftp == PV_DHCP_MAX_SERVERS) {
                pv_cli_errorf("dhcp-snippet: at most %d --tftp-server", PV_DHCP_MAX_SERVERS);
                return PV_EXIT_USAGE;
            }
            o.tftp_servers[o.n_tftp++] = optarg;
            break;
        case OPT_NAME:
            o.tftp_name = optarg;
            break;
        case OPT_URL:
            o.url = optarg;
            break;
        case OPT_SERVER:
            o.server_ip = optarg;
            break;
        case 'h':
            usage(stdout);
            return PV_EXIT_OK;
        default:
            usage(stderr);
            return PV_EXIT_USAGE;
        }
    }
    if (format < 0 || optind != argc) {
        pv_cli_errorf("dhcp-snippet: say --dnsmasq or --kea (and no other arguments)");
        return PV_EXIT_USAGE;
    }
    pv_buf out = {0};
    pv_error err = {""};
    if (pv_dhcp_snippet((pv_dhcp_format)format, &o, &out, &err) != 0) {
        pv_cli_errorf("dhcp-snippet: %s", err.msg);
        return PV_EXIT_FAILURE;
    }
    fwrite(out.data, 1, out.len, stdout);
    pv_buf_free(&out);
    return PV_EXIT_OK;
}
