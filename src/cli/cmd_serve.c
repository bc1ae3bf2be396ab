/* cmd_serve.c — placeholder until the server lands (issue 3). */
#include "cli/cli.h"

int pv_cmd_serve(int argc, char **argv)
{
    pv_cli_errorf("serve: not built yet");
    return PV_EXIT_FAILURE;
}
