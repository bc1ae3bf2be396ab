/*
 * cmd_datadir.c — commands that work on a data directory on this machine, with no server
 * running (issue 10, "the README tour works literally"):
 *
 *   provisor admin-token [--data-dir DIR]
 *       a new admin token for whoever lost the one the first run showed; the old one stops
 *       working at once (also in a running server, which reads the hash on each request)
 *   provisor phone cert --mac MAC [--model M] [--serial S] [--data-dir DIR] [--out F]
 *       a phone client certificate from DIR's demo manufacturer CA, for `provisor phone
 *       --cert F` (the server trusts that CA for phone certificates out of the box)
 *
 * Both need write access to the data directory (or its CA key): they are for its owner.
 */
#include "cli/cli.h"

#include "core/device_id.h"
#include "fleet/certs.h"
#include "server/config.h"
#include "server/datadir.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *default_data_dir(void)
{
    const char *env = getenv("PROVISOR_DATA");
    return env != NULL && env[0] != '\0' ? env : PV_CONFIG_DEFAULT_DATA_DIR;
}

static int usage_error(const char *cmd, const char *what)
{
    pv_cli_errorf("%s: %s; 'provisor %s --help' shows the usage", cmd, what, cmd);
    return PV_EXIT_USAGE;
}

int pv_cmd_admin_token(int argc, char **argv)
{
    static const struct option longs[] = {{"data-dir", required_argument, NULL, 'd'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    const char *dir = default_data_dir();
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "hd:", longs, NULL)) != -1) {
        if (c == 'd') {
            dir = optarg;
        } else if (c == 'h') {
            printf("usage: provisor admin-token [--data-dir DIR]\n\n"
                   "Makes a new admin token for the data directory DIR (default $PROVISOR_DATA,\n"
                   "else %s) and prints it once; only its SHA-256 is kept, in\n"
                   "DIR/%s. The previous admin token stops working at once, also in\n"
                   "a running server. For an operator who lost the token the first run showed.\n",
                   PV_CONFIG_DEFAULT_DATA_DIR, PV_DATADIR_ADMIN_TOKEN_HASH);
            return PV_EXIT_OK;
        } else {
            return usage_error("admin-token", "unknown option or missing value");
        }
    }
    if (optind < argc)
        return usage_error("admin-token", "unexpected argument");
    char token[65];
    pv_error err;
    if (pv_datadir_reset_admin_token(dir, token, &err) != 0) {
        pv_cli_errorf("admin-token: %s", err.msg);
        return PV_EXIT_FAILURE;
    }
    printf("%s\n", token);
    fprintf(stderr, "provisor: admin-token: new admin token for %s (the previous one no longer "
                    "works); it is shown this once\n",
            dir);
    return PV_EXIT_OK;
}

static void phone_cert_usage(void)
{
    printf("usage: provisor phone cert --mac MAC [--model M] [--serial S] [--data-dir DIR]\n"
           "                           [--out FILE]\n\n"
           "Issues a client certificate for one phone from the demo manufacturer CA of the\n"
           "data directory DIR (default $PROVISOR_DATA, else %s: %s),\n"
           "which 'provisor serve' trusts for phone certificates. The subject is a real\n"
           "phone's (spec 4.4): CN and ST = the MAC, OU = the model, L = the serial.\n"
           "FILE (default phone.pem, mode 0600) holds the key then the certificate: give it\n"
           "to 'provisor phone --cert FILE', with '--ca DIR/%s' to trust the server.\n\n"
           "  --mac MAC       the phone's MAC (any usual form)\n"
           "  --model M       the model, OU (default CP-8841-3PCC)\n"
           "  --serial S      the serial number, L (default FCH + the MAC's last 8 digits)\n",
           PV_CONFIG_DEFAULT_DATA_DIR, PV_DATADIR_PHONE_CA_CERT, PV_DATADIR_CA_CERT);
}

int pv_cli_phone_cert(int argc, char **argv)
{
    static const struct option longs[] = {
        {"mac", required_argument, NULL, 'a'},    {"model", required_argument, NULL, 'm'},
        {"serial", required_argument, NULL, 's'}, {"data-dir", required_argument, NULL, 'd'},
        {"out", required_argument, NULL, 'o'},    {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *mac_text = NULL, *dir = default_data_dir();
    pv_fleet_cert_one o = {.model = "CP-8841-3PCC", .out = "phone.pem"};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        switch (c) {
        case 'a':
            mac_text = optarg;
            break;
        case 'm':
            o.model = optarg;
            break;
        case 's':
            o.serial = optarg;
            break;
        case 'd':
            dir = optarg;
            break;
        case 'o':
            o.out = optarg;
            break;
        case 'h':
            phone_cert_usage();
            return PV_EXIT_OK;
        default:
            return usage_error("phone cert", "unknown option or missing value");
        }
    }
    if (optind < argc)
        return usage_error("phone cert", "unexpected argument");
    if (mac_text == NULL)
        return usage_error("phone cert", "--mac MAC is needed");
    pv_mac mac;
    pv_error err;
    if (pv_mac_parse(pv_slice_from(mac_text), &mac, &err) != 0)
        return usage_error("phone cert", err.msg);
    char serial[16], ca_cert[4096], ca_key[4096];
    if (o.serial == NULL) {
        snprintf(serial, sizeof serial, "FCH%s", mac.hex + 4);
        o.serial = serial;
    }
    int n1 = snprintf(ca_cert, sizeof ca_cert, "%s/%s", dir, PV_DATADIR_PHONE_CA_CERT);
    int n2 = snprintf(ca_key, sizeof ca_key, "%s/%s", dir, PV_DATADIR_PHONE_CA_KEY);
    if (n1 < 0 || n2 < 0 || (size_t)n1 >= sizeof ca_cert || (size_t)n2 >= sizeof ca_key)
        return usage_error("phone cert", "--data-dir: path too long");
    o.mac = mac.hex;
    o.ca_cert = ca_cert;
    o.ca_key = ca_key;
    if (pv_fleet_cert_issue_one(&o, &err) != 0) {
        pv_cli_errorf("phone cert: %s", err.msg);
        return PV_EXIT_FAILURE;
    }
    printf("%s: certificate for %s (%s, serial %s) from %s\n", o.out, mac.hex, o.model, o.serial,
           ca_cert);
    return PV_EXIT_OK;
}
