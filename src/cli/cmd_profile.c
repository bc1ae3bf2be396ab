/* cmd_profile.c — placeholder until the profile formats land (issue 2). */
#include "cli/cli.h"

int pv_cmd_profile(int argc, char **argv)
{
    pv_cli_errorf("profile: not built yet");
    return PV_EXIT_FAILURE;
}
