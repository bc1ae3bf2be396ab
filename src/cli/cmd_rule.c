/* cmd_rule.c — placeholder until the rule formats land (issue 2). */
#include "cli/cli.h"

int pv_cmd_rule(int argc, char **argv)
{
    pv_cli_errorf("rule: not built yet");
    return PV_EXIT_FAILURE;
}
