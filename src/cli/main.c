/*
 * main.c — `provisor`, git-style: the first argument names a subcommand from
 * the table below, which gets the rest. No logic lives here (DESIGN "Layers").
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

static const pv_cli_command commands[] = {
    {"serve", "run the provisioning server (TFTP, HTTP, HTTPS, admin)", pv_cmd_serve},
    {"db", "migrate, check and back up the provisioning store", pv_cmd_db},
    {"profile", "check, convert and compare configuration profiles", pv_cmd_profile},
    {"rule", "evaluate a Profile_Rule, Upgrade_Rule or Report_Rule", pv_cmd_rule},
    {"encrypt", "encrypt a profile (OpenSSL enc format or RFC 8188)", pv_cmd_encrypt},
    {"decrypt", "decrypt a profile or report", pv_cmd_decrypt},
    {"phone", "run an emulated phone, or talk to a running one", pv_cmd_phone},
    {"fleet", "simulate many phones against a server; certificates; storm benchmark", pv_cmd_fleet},
    {"account", "accounts and their settings (admin API)", pv_cmd_account},
    {"device", "devices, bulk import, render, report (admin API)", pv_cmd_device},
    {"code", "retail binding codes (admin API)", pv_cmd_code},
    {"customer", "customer logins of the portal (admin API)", pv_cmd_customer},
    {"user", "operator logins with a role: admin, operator, viewer (admin API)", pv_cmd_user},
    {"params", "layered parameter sets (admin API)", pv_cmd_params},
    {"firmware", "firmware images (admin API)", pv_cmd_firmware},
    {"plan", "firmware upgrade plans (admin API)", pv_cmd_plan},
    {"rollout", "staged firmware rollouts that halt themselves (admin API)", pv_cmd_rollout},
    {"report", "reports uploaded by phones (admin API)", pv_cmd_report},
    {"audit", "the audit log (admin API)", pv_cmd_audit},
    {"job", "device action jobs and their outcomes (admin API)", pv_cmd_job},
    {"token", "admin API bearer tokens (admin API)", pv_cmd_token},
    {"admin-token", "a new admin token for a data directory (the old one stops working)",
     pv_cmd_admin_token},
    {"dhcp-snippet", "DHCP options 66/150/160 for dnsmasq or Kea", pv_cmd_dhcp_snippet},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: provisor <command> [options] [args]\n\n"
                 "Provisor provisions SIP phones: server, phone agent and fleet simulator.\n\n"
                 "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-13s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'provisor <command> --help' describes each command.\n"
                 "'provisor --version' prints the version.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return PV_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "help") == 0) {
        usage(stdout);
        return PV_EXIT_OK;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("provisor %s\n", PV_VERSION);
        return PV_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(commands[i].name, name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    }
    pv_cli_errorf("unknown command '%s'; 'provisor --help' lists the commands", name);
    return PV_EXIT_USAGE;
}
