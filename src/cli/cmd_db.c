/* cmd_db.c — placeholder until the store lands (issue 4). */
#include "cli/cli.h"

int pv_cmd_db(int argc, char **argv)
{
    pv_cli_errorf("db: not built yet");
    return PV_EXIT_FAILURE;
}
