/*
 * router_config.h — where the router half of an ATA's XML profile goes:
 * `<router-configuration>` (spec 3.1; C-ATAPAR "Router Configuration
 * Parameters", SPA100-PG).
 *
 * The SPA100 series (SPA112, SPA122) and the ATA 191/192 keep their router,
 * time, TR-069, SNMP and web-management settings inside
 * `<flat-profile><router-configuration>`, under section headings
 * (`<Time_Setup><Time_Zone>`, `<DHCP_Server_Pool><Rule><Local_IP>`). A phone
 * reads the leaves as parameters (core/xml_profile.h); a server that writes
 * those parameters flat writes something these models do not read there.
 * This table says, for such a model, which parameters belong inside and under
 * which headings. It lists the names the guides' examples show (the corpus in
 * tests/data/realworld/ holds them) and four name families whose prefix only
 * router settings use (`WAN_`, `SNMP_`, `TR-069_`, `ACS_`); any other
 * parameter stays flat, as the voice side's do.
 */
#ifndef PV_CORE_ROUTER_CONFIG_H
#define PV_CORE_ROUTER_CONFIG_H

#include "core/buf.h"

#include <stdbool.h>

/* True for the models whose profile has a router part: SPA1nn and ATA19n (any suffix). */
bool pv_router_config_model(const char *model);

/*
 * The heading path of a router parameter inside <router-configuration>:
 * "" (directly inside), "Time_Setup", "DHCP_Server_Pool/Rule"; NULL when the
 * parameter is not a router parameter (it stays in <flat-profile>).
 */
const char *pv_router_config_section(pv_slice name);

#endif
