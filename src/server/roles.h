/*
 * roles.h — who may do what in the admin API (issue 13, "scoped access").
 *
 * Four roles, held by API tokens (tokens.h) and operator logins:
 *   admin     everything, and the only one to manage tokens and logins;
 *   operator  the day's work: accounts, devices, parameters, codes, imports,
 *             actions, firmware — but no tokens, and no deleting an account
 *             that still has devices (the handler checks that part);
 *   viewer    reads everything an operator reads, changes nothing;
 *   customer  one account (the portal's logins, customer tokens): only the
 *             routes marked open to customers, and only on that account.
 * admin > operator > viewer is a ladder; customer stands beside it. The admin
 * API's route table (api.c) names each route's minimum role and whether a
 * customer may use it; docs/openapi.yaml states the same per operation
 * (x-provisor-role, x-provisor-customer), integration.api_openapi keeps the two
 * equal and integration.api_roles calls every route with every role.
 *
 * Owns nothing: plain values, no state.
 */
#ifndef PV_SERVER_ROLES_H
#define PV_SERVER_ROLES_H

#include <stdbool.h>

typedef enum {
    PV_ROLE_CUSTOMER = 0, /* beside the ladder, never "at least" anything */
    PV_ROLE_VIEWER = 1,
    PV_ROLE_OPERATOR = 2,
    PV_ROLE_ADMIN = 3,
} pv_role;

/* "admin", "operator", "viewer", "customer". */
const char *pv_role_name(pv_role role);
/* False for anything else (the names are lower case, exact). */
bool pv_role_parse(const char *name, pv_role *out);
/* True when have is on the ladder at or above need (a customer never is). */
bool pv_role_at_least(pv_role have, pv_role need);

#endif
