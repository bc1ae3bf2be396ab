/*
 * defaults.c — factory defaults of the three families (spec 1.3, 5.1, 6, 7, 9,
 * 10, 12) and which parameters are secret.
 *
 * One table, one row per parameter, one column per family: a fleet builds a
 * pv_agent_defaults per family once and every phone of it reads it, so a
 * phone stores only what its profiles changed (store.c).
 */
#include "agent/agent_int.h"

#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A column value of NULL means "same as SPA"; ABSENT means "no such parameter". */
#define ABSENT ((const char *)1)

typedef struct row {
    const char *name;
    pv_ua ua;
    const char *spa, *mpp, *ata;
} row;

/* spec 7.3 templates */
#define REQ_MSG "$PN $MAC -- Requesting resync $SCHEME://$SERVIP:$PORT$PATH"
#define OK_MSG "$PN $MAC -- Successful resync $SCHEME://$SERVIP:$PORT$PATH"
#define FAIL_MSG "$PN $MAC -- Resync failed: $ERR"

static const row rows[] = {
    /* spec 5.1: resync */
    {"Provision_Enable", PV_UA_NA, "Yes", NULL, NULL},
    {"Resync_On_Reset", PV_UA_NA, "Yes", NULL, NULL},
    {"Resync_Random_Delay", PV_UA_NA, "2", NULL, NULL},
    {"Resync_At__HHmm_", PV_UA_NA, "", NULL, NULL},
    {"Resync_At_Random_Delay", PV_UA_NA, "600", NULL, NULL},
    {"Resync_Periodic", PV_UA_NA, "3600", NULL, NULL},
    {"Resync_Error_Retry_Delay", PV_UA_NA, "3600",
     "60,120,240,480,960,1920,3840,7680,15360,30720,61440,86400", NULL},
    {"Forced_Resync_Delay", PV_UA_NA, "14400", NULL, NULL},
    {"Resync_From_SIP", PV_UA_NA, "Yes", NULL, NULL},
    {"Resync_After_Upgrade_Attempt", PV_UA_NA, "Yes", NULL, NULL},
    {"Resync_Trigger_1", PV_UA_NA, "", NULL, NULL},
    {"Resync_Trigger_2", PV_UA_NA, "", NULL, NULL},
    {"Resync_Fails_On_FNF", PV_UA_NA, "Yes", NULL, NULL},
    {"Profile_Authentication_Type", PV_UA_NA, ABSENT, "Basic Http Authentication", ABSENT},
    /* spec 1.3: factory Profile_Rule per family */
    {"Profile_Rule", PV_UA_NA, "/spa$PSN.cfg", "/$PSN.xml", "/ata$PSN.cfg"},
    {"Profile_Rule_B", PV_UA_NA, "", NULL, NULL},
    {"Profile_Rule_C", PV_UA_NA, "", NULL, NULL},
    {"Profile_Rule_D", PV_UA_NA, "", NULL, NULL},
    /* spec 10 */
    {"DHCP_Option_To_Use", PV_UA_NA, "66,160,159,150", "66,160,159,150,60,43,125", NULL},
    {"Transport_Protocol", PV_UA_NA, "none", ABSENT, "https"},
    {"User_Configurable_Resync", PV_UA_NA, "Yes", NULL, NULL},
    {"Custom_CA_Rule", PV_UA_NA, "", NULL, NULL},
    {"HTTPS_Name_Validate", PV_UA_NA, ABSENT, ABSENT, "Yes"},
    {"HTTP_User_Agent_Name", PV_UA_NA, ABSENT, "", ABSENT},
    /* spec 7.3: syslog templates (MPP names vs SPA/ATA names) */
    {"Syslog_Server", PV_UA_NA, "", NULL, NULL},
    {"Debug_Server", PV_UA_NA, "", NULL, NULL},
    {"Debug_Level", PV_UA_NA, "0", NULL, NULL},
    {"Log_Request_Msg", PV_UA_NA, ABSENT, REQ_MSG, ABSENT},
    {"Log_Success_Msg", PV_UA_NA, ABSENT, OK_MSG, ABSENT},
    {"Log_Failure_Msg", PV_UA_NA, ABSENT, FAIL_MSG, ABSENT},
    {"Log_Resync_Request_Msg", PV_UA_NA, REQ_MSG, ABSENT, REQ_MSG},
    {"Log_Resync_Success_Msg", PV_UA_NA, OK_MSG " -- $ERR", ABSENT, OK_MSG " -- $ERR"},
    {"Log_Resync_Failure_Msg", PV_UA_NA, FAIL_MSG, ABSENT, FAIL_MSG},
    {"Log_Upgrade_Request_Msg", PV_UA_NA,
     "$PN $MAC -- Requesting upgrade $SCHEME://$SERVIP:$PORT$PATH", NULL, NULL},
    {"Log_Upgrade_Success_Msg", PV_UA_NA,
     "$PN $MAC -- Successful upgrade $SCHEME://$SERVIP:$PORT$PATH -- $ERR", NULL, NULL},
    {"Log_Upgrade_Failure_Msg", PV_UA_NA, "$PN $MAC -- Upgrade failed: $ERR", NULL, NULL},
    /* spec 6 */
    {"Upgrade_Enable", PV_UA_NA, "Yes", NULL, NULL},
    {"Upgrade_Error_Retry_Delay", PV_UA_NA, "3600", NULL, NULL},
    {"Downgrade_Rev_Limit", PV_UA_NA, "", NULL, NULL},
    {"Upgrade_Rule", PV_UA_NA, "", NULL, NULL},
    /* spec 7.1 (names as printed, note the case) */
    {"Report_Rule", PV_UA_NA, "", NULL, NULL},
    {"HTTP_Report_Method", PV_UA_NA, "POST", NULL, NULL},
    {"Report_to_Server", PV_UA_NA, "On Request", NULL, NULL},
    {"periodic_upload_to_server", PV_UA_NA, "3600", NULL, NULL},
    {"Upload_Delay_On_Local_Change", PV_UA_NA, "60", NULL, NULL},
    /* spec 9: accounts and the web server */
    {"Admin_Passwd", PV_UA_NA, "", ABSENT, NULL},
    {"Admin_Password", PV_UA_NA, ABSENT, "", ABSENT},
    {"User_Password", PV_UA_NA, "", NULL, NULL},
    {"IVR_Admin_Password", PV_UA_NA, ABSENT, ABSENT, ""},
    /* spec 12.2: the IVR factory reset ****73738# unless disabled (SPA and ATA guides) */
    {"Protect_IVR_FactoryReset", PV_UA_NA, "No", ABSENT, NULL},
    {"Enable_Web_Server", PV_UA_NA, "Yes", NULL, NULL},
    {"Enable_Web_Admin_Access", PV_UA_NA, "Yes", NULL, NULL},
    {"Enable_Direct_Action_Url", PV_UA_NA, ABSENT, "Yes", ABSENT},
    {"Web_Server_Port", PV_UA_NA, "80", NULL, NULL},
    {"Restricted_Access_Domains", PV_UA_NA, "", NULL, NULL},
    {"Phone-UI-User-Mode", PV_UA_NA, ABSENT, "No", ABSENT},
    /* spec 4.3: settable by profile only, never shown */
    {"IKM_HTTP_Encrypt_Content", PV_UA_NA, ABSENT, "", ABSENT},
    /* a few user-facing ones, so that access filtering has something to show */
    {"Station_Name", PV_UA_RW, "", NULL, ABSENT},
    {"Line_Enable_1_", PV_UA_RO, "Yes", NULL, NULL},
    {"Display_Name_1_", PV_UA_RW, "", NULL, NULL},
    {"User_ID_1_", PV_UA_RO, "", NULL, NULL},
    {"Password_1_", PV_UA_NA, "", NULL, NULL},
    {"Proxy_1_", PV_UA_RO, "", NULL, NULL},
    /* the line's SIP user agent (phone/phone_sip): registration and NOTIFY (spec 5.5) */
    {"Outbound_Proxy_1_", PV_UA_NA, "", NULL, NULL},
    {"Register_Expires_1_", PV_UA_NA, "3600", NULL, NULL},
    {"SIP_Port_1_", PV_UA_NA, "5060", NULL, NULL},
    {"Auth_Resync-Reboot_1_", PV_UA_NA, "Yes", NULL, NULL},
    {"Line_Enable_2_", PV_UA_RO, "Yes", ABSENT, NULL},
    {"User_ID_2_", PV_UA_RO, "", ABSENT, NULL},
    {"Password_2_", PV_UA_NA, "", ABSENT, NULL},
    {"Proxy_2_", PV_UA_RO, "", ABSENT, NULL},
    {"Outbound_Proxy_2_", PV_UA_NA, "", ABSENT, NULL},
    {"Register_Expires_2_", PV_UA_NA, "3600", ABSENT, NULL},
    {"SIP_Port_2_", PV_UA_NA, "5061", ABSENT, NULL},
    {"Auth_Resync-Reboot_2_", PV_UA_NA, "Yes", ABSENT, NULL},
};

/* spec 12.1: GPP_A..GPP_P are ordinary, GPP_SA..GPP_SD secret registers. */
static void add_gpp(pv_params *p)
{
    char name[8];
    for (char c = 'A'; c <= 'P'; c++) {
        memcpy(name, "GPP_", 4);
        name[4] = c;
        name[5] = '\0';
        pv_params_set_str(p, name, "", PV_UA_NA);
    }
    for (char c = 'A'; c <= 'D'; c++) {
        memcpy(name, "GPP_S", 5);
        name[5] = c;
        name[6] = '\0';
        pv_params_set_str(p, name, "", PV_UA_NA);
    }
}

pv_agent_defaults *pv_agent_defaults_new(pv_agent_family family)
{
    if (family < PV_AGENT_SPA || family > PV_AGENT_ATA)
        return NULL;
    pv_agent_defaults *d = pv_calloc(1, sizeof *d);
    d->family = family;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const row *r = &rows[i];
        const char *v = family == PV_AGENT_MPP ? r->mpp : family == PV_AGENT_ATA ? r->ata : r->spa;
        if (v == NULL)
            v = r->spa;
        if (v == ABSENT)
            continue;
        pv_params_set_str(&d->params, r->name, v, r->ua);
    }
    add_gpp(&d->params);
    pv_params_compact(&d->params);
    switch (family) {
    case PV_AGENT_SPA:
        d->model = "SPA504G";
        d->swver = "7.6.2";
        d->random_delay_unit = 20; /* DESIGN: 20 s units on SPA/ATA */
        d->md = PV_MD_MD5;         /* DESIGN decision 7 */
        break;
    case PV_AGENT_MPP:
        d->model = "CP-8841-3PCC";
        d->swver = "sip88xx.11-3-1MPP-678";
        d->random_delay_unit = 1; /* DESIGN: 1 s units on multiplatform phones */
        d->md = PV_MD_SHA256;
        d->triggers_gate = true; /* spec 5.4 */
        break;
    case PV_AGENT_ATA:
        d->model = "ATA191-MPP";
        d->swver = "11-1-0MPP-19";
        d->random_delay_unit = 20;
        d->md = PV_MD_MD5;
        break;
    }
    bool mpp = family == PV_AGENT_MPP;
    d->log_request = mpp ? "Log_Request_Msg" : "Log_Resync_Request_Msg";
    d->log_success = mpp ? "Log_Success_Msg" : "Log_Resync_Success_Msg";
    d->log_failure = mpp ? "Log_Failure_Msg" : "Log_Resync_Failure_Msg";
    return d;
}

void pv_agent_defaults_free(pv_agent_defaults *d)
{
    if (d == NULL)
        return;
    pv_params_free(&d->params);
    free(d);
}

size_t pv_agent_defaults_count(const pv_agent_defaults *d)
{
    return pv_params_count(&d->params);
}

const char *pv_agent_family_name(pv_agent_family f)
{
    switch (f) {
    case PV_AGENT_SPA:
        return "spa";
    case PV_AGENT_MPP:
        return "mpp";
    case PV_AGENT_ATA:
        return "ata";
    }
    return "?";
}

int pv_agent_family_parse(const char *text, pv_agent_family *out)
{
    if (text == NULL)
        return PV_EINVAL;
    if (strcasecmp(text, "spa") == 0 || strncasecmp(text, "SPA", 3) == 0)
        *out = PV_AGENT_SPA;
    else if (strcasecmp(text, "mpp") == 0 || strncasecmp(text, "CP-", 3) == 0)
        *out = PV_AGENT_MPP;
    else if (strcasecmp(text, "ata") == 0 || strncasecmp(text, "ATA19", 5) == 0)
        *out = PV_AGENT_ATA;
    else
        return PV_EINVAL;
    return 0;
}

/* spec 12.1, 4.3: never shown on the web, in cfg.xml or in reports. */
bool pv__param_is_secret(const char *name)
{
    if (strcmp(name, "IKM_HTTP_Encrypt_Content") == 0)
        return true;
    return strncmp(name, "GPP_S", 5) == 0 && name[5] >= 'A' && name[5] <= 'D' && name[6] == '\0';
}

/* spec 9, 3.4: cfg.xml hides passwords (Admin_Passwd, Password_1_, ACS_Password...). */
bool pv__param_is_password(const char *name)
{
    return strstr(name, "Password") != NULL || strstr(name, "Passwd") != NULL ||
           strstr(name, "password") != NULL;
}
