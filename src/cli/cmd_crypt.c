/* cmd_crypt.c — placeholder until the ciphers land (issue 2). */
#include "cli/cli.h"

int pv_cmd_encrypt(int argc, char **argv)
{
    pv_cli_errorf("encrypt: not built yet");
    return PV_EXIT_FAILURE;
}

int pv_cmd_decrypt(int argc, char **argv)
{
    pv_cli_errorf("decrypt: not built yet");
    return PV_EXIT_FAILURE;
}
