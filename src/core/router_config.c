/* router_config.c — the router parameters' sections; see router_config.h. */
#include "core/router_config.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* C-ATAPAR, SPA100-PG: the examples' names and their headings. */
static const struct {
    const char *name, *section;
} named[] = {
    {"Web_Login_Admin_Name", ""},
    {"Web_Login_Guest_Name", ""},
    {"Bonjour_Enable", ""},
    {"Reset_Button_Enable", ""},
    {"Host_Name", "Internet_Option"},
    {"Domain_Name", "Internet_Option"},
    {"Time_Server_Mode", "Time_Setup"},
    {"Time_Server", "Time_Setup"},
    {"Time_Zone", "Time_Setup"},
    {"DHCP_Server", "DHCP_Server_Pool/Rule"},
    {"Local_IP", "DHCP_Server_Pool/Rule"},
    {"Subnet_Mask", "DHCP_Server_Pool/Rule"},
    {"Admin_Access", "Web_Management"},
};

/* Name families only the router side uses. */
static const struct {
    const char *prefix, *section;
} prefixed[] = {
    {"WAN_", "WAN_Interface"},
    {"SNMP_", "SNMP"},
    {"TR-069_", "TR-069"},
    {"ACS_", "TR-069"},
    {"Web_Utility_Access", "Web_Management"},
};

bool pv_router_config_model(const char *model)
{
    if (model == NULL)
        return false;
    /* SPA112, SPA122 (SPA100 series); ATA191, ATA192, ATA191-MPP (spec 3.1, C-ATAPAR) */
    if (strncasecmp(model, "SPA1", 4) == 0)
        return isdigit((unsigned char)model[4]) && isdigit((unsigned char)model[5]) &&
               !isdigit((unsigned char)model[6]);
    if (strncasecmp(model, "ATA19", 5) == 0)
        return isdigit((unsigned char)model[5]) && !isdigit((unsigned char)model[6]);
    return false;
}

const char *pv_router_config_section(pv_slice name)
{
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
        if (pv_slice_eq_cstr(name, named[i].name))
            return named[i].section;
    for (size_t i = 0; i < sizeof prefixed / sizeof prefixed[0]; i++)
        if (pv_slice_starts_with(name, prefixed[i].prefix))
            return prefixed[i].section;
    return NULL;
}
