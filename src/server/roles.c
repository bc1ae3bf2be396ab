/* roles.c — role names and the ladder; see roles.h. */
#include "server/roles.h"

#include <string.h>

static const char *const names[] = {
    [PV_ROLE_CUSTOMER] = "customer",
    [PV_ROLE_VIEWER] = "viewer",
    [PV_ROLE_OPERATOR] = "operator",
    [PV_ROLE_ADMIN] = "admin",
};

const char *pv_role_name(pv_role role)
{
    return (unsigned)role < sizeof names / sizeof names[0] ? names[role] : "?";
}

bool pv_role_parse(const char *name, pv_role *out)
{
    for (unsigned i = 0; name != NULL && i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(name, names[i]) == 0) {
            *out = (pv_role)i;
            return true;
        }
    }
    return false;
}

bool pv_role_at_least(pv_role have, pv_role need)
{
    return have != PV_ROLE_CUSTOMER && have >= need;
}
