/*
 * provisor/agent.h — the phone's side of provisioning, as an engine without I/O.
 *
 * A pv_agent is one SIP phone or ATA as the provisioning server sees it: a
 * parameter store over its family's factory defaults, the Profile_Rule /
 * Upgrade_Rule / Report_Rule machines, the resync, upgrade and report timers,
 * decryption, the provisioning states MFG-RESET .. SEC-PRV-2 and the status
 * indicator (spec sections 1-12 of the reference).
 *
 * The engine is sans-IO and clock-free: it never opens a socket or a file and
 * never reads a clock. The host (`provisor phone`, the fleet simulator, an
 * open phone firmware) drives it:
 *
 *     pv_agent_boot(a, now);
 *     for (;;) {
 *         pv_agent_action act;
 *         while (pv_agent_next_action(a, &act))
 *             perform(&act);   // FETCH/UPLOAD → later pv_agent_fetch_done()
 *         sleep_until(pv_agent_next_wakeup(a));
 *         pv_agent_tick(a, now());
 *     }
 *
 * Times are milliseconds since an epoch the host chooses (a virtual clock in
 * tests); the time of day, needed by Resync_At__HHmm_, is told with
 * pv_agent_set_time_of_day(). Randomness (Resync_Random_Delay, `base+rand`
 * schedules) comes from the seed given to pv_agent_new(), so a phone behaves
 * the same way on every run.
 *
 * Ownership: the host owns the pv_agent_defaults (shared, read-only, by every
 * agent of a family; free it after the last agent) and each pv_agent. Strings
 * in a pv_agent_action belong to the agent and stay valid until the next
 * pv_agent_next_action() call or pv_agent_free(). Functions return 0 or a
 * negative PV_E* code (provisor's error.h); pv_error carries a message.
 */
#ifndef PROVISOR_AGENT_H
#define PROVISOR_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pv_error pv_error; /* core/error.h: char msg[256] */

typedef struct pv_agent pv_agent;
typedef struct pv_agent_defaults pv_agent_defaults;

/* No wake-up wanted: pv_agent_next_wakeup() when nothing is scheduled. */
#define PV_AGENT_NEVER UINT64_MAX

/* The three device families of the reference. */
typedef enum {
    PV_AGENT_SPA = 1, /* SPA phones and ATAs (SPA504G) */
    PV_AGENT_MPP = 2, /* multiplatform / 3PCC desk phones (CP-8841-3PCC) */
    PV_AGENT_ATA = 3, /* ATA191/192 MPP (ATA191-MPP) */
} pv_agent_family;

const char *pv_agent_family_name(pv_agent_family f); /* "spa", "mpp", "ata" */
/* Parses "spa", "mpp", "ata" or a model name (SPA504G, CP-8841-3PCC, ATA191-MPP). */
int pv_agent_family_parse(const char *text, pv_agent_family *out);

/* Factory defaults of a family: build once, share between all its agents. */
pv_agent_defaults *pv_agent_defaults_new(pv_agent_family family);
void pv_agent_defaults_free(pv_agent_defaults *d);
/* Number of parameters a factory-fresh phone of the family has. */
size_t pv_agent_defaults_count(const pv_agent_defaults *d);

typedef struct pv_agent_identity {
    const char *mac;    /* required: 000e08aabbcc or 00:0e:08:aa:bb:cc */
    const char *model;  /* NULL: the family's model */
    const char *serial; /* NULL: derived from the MAC */
    const char *swver;  /* NULL: the family's factory load */
    const char *hwver;  /* NULL: "1.0.0" */
    bool client_cert;   /* a unique client certificate is installed ($CCERT) */
    /* spec 4.1: the key digest of "Salted__" files is modelled per firmware
     * generation, strictly (a file made with the other digest is corrupt, as
     * on the phone); true accepts either digest (`provisor phone
     * --any-key-digest`), for fleets that do not care which one was used. */
    bool any_key_digest;
} pv_agent_identity;

int pv_agent_new(pv_agent **out, const pv_agent_defaults *defaults, const pv_agent_identity *id,
                 uint64_t seed, pv_error *err);
void pv_agent_free(pv_agent *a);

/* ---- persistence: the host writes the bytes atomically ---- */

/* The whole persistent state (malloc'd; free() it). */
void pv_agent_save(const pv_agent *a, char **data, size_t *len);
/* Restores a saved state; call before pv_agent_boot. Refuses another phone's state. */
int pv_agent_load(pv_agent *a, const void *data, size_t len, pv_error *err);

/* ---- time ---- */

/* Power-up or reboot: volatile state is reset and the boot timers armed. */
void pv_agent_boot(pv_agent *a, uint64_t now);
/* The wall-clock time of day at `now`, in ms since midnight (Resync_At__HHmm_). */
void pv_agent_set_time_of_day(pv_agent *a, uint64_t now, uint32_t ms_of_day);
/* When pv_agent_tick() next has something to do, or PV_AGENT_NEVER. */
uint64_t pv_agent_next_wakeup(const pv_agent *a);
void pv_agent_tick(pv_agent *a, uint64_t now);

/* ---- work for the host ---- */

typedef enum {
    PV_AGENT_ACT_FETCH,   /* download a profile or firmware; answer with pv_agent_fetch_done */
    PV_AGENT_ACT_UPLOAD,  /* upload a report; answer with pv_agent_fetch_done */
    PV_AGENT_ACT_LOG,     /* a syslog line (spec 7.3) for Syslog_Server or stderr */
    PV_AGENT_ACT_PERSIST, /* the persistent state changed: pv_agent_save and write it */
    PV_AGENT_ACT_REBOOT,  /* restart the phone: persist first, then pv_agent_boot */
    PV_AGENT_ACT_RESOLVE, /* look host up in DNS (lookup says how); answer with
                           * pv_agent_resolve_done. Only for hosts that called
                           * pv_agent_set_host_resolves */
} pv_agent_action_kind;

typedef enum {
    PV_AGENT_LOOKUP_ADDRESS, /* A and AAAA records of host */
    PV_AGENT_LOOKUP_SRV,     /* SRV records of host (spec 1.1 --srv: _ciscoprov-https._tls.NAME) */
} pv_agent_lookup;

typedef enum {
    PV_AGENT_FOR_PROFILE,
    PV_AGENT_FOR_FIRMWARE,
    PV_AGENT_FOR_REPORT,
} pv_agent_purpose;

typedef struct pv_agent_action {
    pv_agent_action_kind kind;
    uint32_t id;              /* FETCH/UPLOAD: echo it in pv_agent_fetch_done */
    pv_agent_purpose purpose; /* FETCH/UPLOAD */
    const char *url;          /* scheme://host:port/path?query */
    const char *scheme;       /* "tftp", "http", "https" */
    const char *host; /* RESOLVE: the name to look up */
    /* FETCH/UPLOAD of a host that resolves: the numeric address the engine chose (spec 1.2:
     * tried address by address) — connect there, keep host in the URL (Host header, TLS name
     * check); NULL: an engine that leaves the lookup to the host */
    const char *address;
    pv_agent_lookup lookup; /* RESOLVE */
    uint16_t port;
    const char *path;             /* absolute, with the query */
    const char *method;           /* "GET", "POST", "PUT" (TFTP: GET = read, PUT = write) */
    const char *body;             /* POST/PUT body (--post, a report), else NULL */
    size_t body_len;              /* body bytes */
    const char *content_type;     /* of the body */
    const char *content_encoding; /* "aes128gcm" for an RFC 8188 report, else NULL */
    const char *uid, *pwd;        /* answer Basic/Digest challenges with these; NULL: none */
    const char *user_agent;       /* spec 8.1 */
    bool client_cert;             /* present the device certificate (HTTPS) */
    int level;                    /* LOG: syslog severity (3 error, 5 notice, 6 info) */
    const char *text;             /* LOG: the message */
} pv_agent_action;

/* Takes the next action; false when there is none. */
bool pv_agent_next_action(pv_agent *a, pv_agent_action *out);

/*
 * The outcome of a FETCH or UPLOAD. A transport failure (no answer, refused,
 * timed out, TLS failure, DNS) is error < 0 and status 0. TFTP answers are
 * mapped by the host: success 200, "file not found" 404, any other error 500.
 */
typedef struct pv_agent_response {
    int error;                    /* 0 or a negative PV_E* code (PV_ECONN, PV_ETIMEDOUT...) */
    int status;                   /* HTTP status */
    const char *location;         /* Location header, for 301/302 */
    const char *content_encoding; /* Content-Encoding header */
    const void *body;
    size_t body_len;
} pv_agent_response;

/* PV_ENOENT when id is not an outstanding action. */
int pv_agent_fetch_done(pv_agent *a, uint64_t now, uint32_t id, const pv_agent_response *r);

/*
 * Name resolution (spec 1.2, 2.2 $SERVIP, 1.1 --srv). A host that can look names up without
 * blocking (phone/phone.c: c-ares on its loop) says so once; from then on the engine asks it
 * with RESOLVE actions before it fetches from a name, chooses the address itself, fails over
 * address by address and, for --srv, target by target in RFC 2782 order, and $SERVIP is the
 * address it connects to. A host that does not resolve (the fleet, with numeric servers) gets
 * names in FETCH actions as before; --srv then fails ("needs a resolver").
 */
void pv_agent_set_host_resolves(pv_agent *a, bool yes);

typedef struct pv_agent_srv {
    const char *target; /* a host name; "." (service not offered) is dropped by the engine */
    uint16_t port, priority, weight;
} pv_agent_srv;

typedef struct pv_agent_resolution {
    int error;                       /* 0, or < 0: no answer, no such name or no records */
    const char *const *addresses;    /* ADDRESS: numeric addresses in the resolver's order */
    size_t naddresses;               /* the engine keeps the first PV_AGENT_MAX_ADDRESSES */
    const pv_agent_srv *srv;         /* SRV: the records as received */
    size_t nsrv;                     /* the engine keeps the first PV_AGENT_MAX_SRV */
} pv_agent_resolution;

#define PV_AGENT_MAX_ADDRESSES 8
#define PV_AGENT_MAX_SRV 16

/* PV_ENOENT when id is not an outstanding RESOLVE. */
int pv_agent_resolve_done(pv_agent *a, uint64_t now, uint32_t id, const pv_agent_resolution *r);

/* ---- what the phone sees around it ---- */

/* DHCP option 66, 150, 159 or 160 (spec 10); NULL or "" clears it. */
int pv_agent_set_dhcp_option(pv_agent *a, unsigned code, const char *value);
/* $IP and $EXTIP. */
void pv_agent_set_ip(pv_agent *a, const char *ip, const char *extip);
/* A call started or ended (spec 5.3: resync and upgrade wait while busy). */
void pv_agent_set_call(pv_agent *a, uint64_t now, bool active);
/* Line 1 or 2 registered or lost its registration ($REGTMR1/2). */
void pv_agent_set_registered(pv_agent *a, uint64_t now, unsigned line, bool registered);

/* ---- one-shot actions (the phone's web server, keypad, SIP NOTIFY) ---- */

/*
 * `/admin/resync?RULE`: a one-shot resync with RULE (`[--key K] URL`, not
 * stored); NULL runs Profile_Rule.._D now. Refused at once, nothing started:
 * PV_EACCES when Provision_Enable is No or the URL is outside
 * Restricted_Access_Domains, PV_EBUSY while another operation runs,
 * PV_ESYNTAX for a rule that does not parse, PV_ENOENT when the URL names no
 * server and DHCP gave none. What needs the network (the server's answer)
 * fails later, like any resync: $ERR, the indicator, the syslog message.
 */
int pv_agent_resync(pv_agent *a, uint64_t now, const char *rule, pv_error *err);
/* `/admin/upgrade?URL`: a one-shot upgrade (the URL must name its server: PV_EINVAL).
 * Refused at once like pv_agent_resync: PV_ESYNTAX, PV_EACCES (Upgrade_Enable No, or
 * outside Restricted_Access_Domains), PV_EBUSY. */
int pv_agent_upgrade(pv_agent *a, uint64_t now, const char *url, pv_error *err);
/*
 * The network came up: a DHCP lease was bound, or renewed with new options
 * (spec 5.1 "resync at network connect"). Runs the power-up resync logic —
 * Resync_On_Reset after a random share of Resync_Random_Delay, the MPP
 * trigger gate, Provision_Enable — not a one-shot resync. An earlier due
 * resync is kept.
 */
void pv_agent_network_up(pv_agent *a, uint64_t now);
/* Report_Rule now (SIP NOTIFY Event: report, or a request). */
int pv_agent_report(pv_agent *a, uint64_t now, pv_error *err);
/* Queues PERSIST then REBOOT. When Report_to_Server asks for a report at restart
 * (spec 7.1, multiplatform: "On Request", or a pending "On Local Change" report), its
 * UPLOADs come first and REBOOT follows their answers. */
void pv_agent_reboot(pv_agent *a, uint64_t now);
/*
 * The phone is being switched off: every timer and operation stops; when
 * Report_to_Server asks for it (as for a restart) the report's UPLOADs are
 * queued. Keep performing actions until pv_agent_shutdown_done() (bound the
 * wait: a phone losing power does not wait long).
 */
void pv_agent_shutdown(pv_agent *a, uint64_t now);
bool pv_agent_shutdown_done(const pv_agent *a);
/* Back to MFG-RESET: every parameter to its factory value; queues PERSIST, REBOOT. */
void pv_agent_factory_reset(pv_agent *a, uint64_t now);
/* The keypad/IVR code ****73738# then 1# (spec 12.2, SPA/ATA): a factory reset unless
 * Protect_IVR_FactoryReset is Yes (then PV_EACCES, nothing changes). */
int pv_agent_ivr_factory_reset(pv_agent *a, uint64_t now, pv_error *err);

/* ---- SIP NOTIFY (spec 5.5) ---- */

/* What a NOTIFY's Event asks for. */
typedef enum {
    PV_AGENT_SIP_RESYNC = 1, /* Event: resync, check-sync (Wazo) */
    PV_AGENT_SIP_REBOOT,     /* Event: reboot_now (cold) */
    PV_AGENT_SIP_RESTART,    /* Event: restart_now (warm) */
    PV_AGENT_SIP_REPORT,     /* Event: report */
} pv_agent_sip_event;

/* The event package of an Event header ("check-sync", parameters already cut);
 * PV_ENOENT for one the phone does not act on. */
int pv_agent_sip_event_parse(const char *event, pv_agent_sip_event *out);
/* Whether line n (1, 2) challenges a NOTIFY before acting (Auth_Resync-Reboot_n_). */
bool pv_agent_sip_auth_required(const pv_agent *a, unsigned line);
/*
 * An (authenticated, when required) NOTIFY arrived. A resync runs Profile_Rule
 * as a NOTIFY does on a real phone: Resync_Trigger_n is ignored (spec 5.4), and
 * it waits for idle like any resync (spec 5.3: not during a call, at most
 * Forced_Resync_Delay). A reboot or restart also waits for the call to end. A
 * report uploads now. Refused with PV_EACCES, nothing queued: resync while
 * Resync_From_SIP or Provision_Enable is No; PV_EBUSY while restarting.
 */
int pv_agent_sip_notify(pv_agent *a, uint64_t now, pv_agent_sip_event ev, pv_error *err);
/* Whether line n is registered (what pv_agent_set_registered last said). */
bool pv_agent_registered(const pv_agent *a, unsigned line);

/* ---- parameters and access (spec 3.1 `ua`, spec 9) ---- */

typedef enum { PV_AGENT_ADMIN, PV_AGENT_USER } pv_agent_role;

/*
 * The value of name as role sees it (valid until the next change).
 * PV_ENOENT for an unknown name, a secret (GPP_SA..SD, IKM), or, for the
 * user, a parameter with ua="na".
 */
int pv_agent_get(const pv_agent *a, pv_agent_role role, const char *name, const char **value);
/* A local change (web, keypad). User: PV_EACCES unless ua="rw"; secrets: PV_EACCES. */
int pv_agent_set(pv_agent *a, uint64_t now, pv_agent_role role, const char *name, const char *value,
                 pv_error *err);
/* A web login: Admin_Passwd (Admin_Password on MPP) or User_Password; empty = none. */
bool pv_agent_check_password(const pv_agent *a, pv_agent_role role, const char *password);
/* POST /admin/config.xml: a profile applied whole or not at all (admin only). */
int pv_agent_apply_config(pv_agent *a, uint64_t now, pv_agent_role role, const void *data,
                          size_t len, pv_error *err);
/* cfg.xml for role: secrets left out, passwords as `<Name/>`, user sees no "na". */
int pv_agent_export_config(const pv_agent *a, pv_agent_role role, char **data, size_t *len,
                           pv_error *err);
/* status.xml (spec 3.4): identity, provisioning state, indicator, last results. */
void pv_agent_status_xml(const pv_agent *a, uint64_t now, char **data, size_t *len);

/* ---- status ---- */

typedef enum {
    PV_AGENT_MFG_RESET, /* factory defaults */
    PV_AGENT_SP_CUST,   /* a provider Profile_Rule */
    PV_AGENT_SEC_PRV_1, /* a key delivered (GPP_SA..SD or a --key rule) */
    PV_AGENT_SEC_PRV_2, /* fetched an encrypted profile with it */
} pv_agent_prov_state;

pv_agent_prov_state pv_agent_get_prov_state(const pv_agent *a);
const char *pv_agent_prov_state_name(pv_agent_prov_state s); /* "MFG-RESET" ... */

typedef enum {
    PV_AGENT_LED_NORMAL,     /* last resync fine (or none yet) */
    PV_AGENT_LED_SLOW_BLINK, /* server unreachable: 1.0 s on, 1.0 s off */
    PV_AGENT_LED_FAST_BLINK, /* file missing or corrupt: 0.2 on, 0.2 off, 0.2 on, 1.4 off */
} pv_agent_led;

pv_agent_led pv_agent_get_led(const pv_agent *a);
const char *pv_agent_led_name(pv_agent_led led); /* "normal", "slow-blink", "fast-blink" */
/* The on/off durations in ms (on first), repeated; returns how many (0 for steady). */
size_t pv_agent_led_pattern(pv_agent_led led, const uint16_t **ms);

const char *pv_agent_swver(const pv_agent *a);      /* the running load */
const char *pv_agent_model(const pv_agent *a);      /* $PN */
const char *pv_agent_mac(const pv_agent *a);        /* $MA */
const char *pv_agent_last_error(const pv_agent *a); /* $ERR of the last resync or upgrade */
/* The User-Agent header the phone sends (spec 8.1, HTTP_User_Agent_Name). */
void pv_agent_user_agent(const pv_agent *a, char *buf, size_t size);
/* Heap bytes this agent holds, its struct included (not the shared defaults). */
size_t pv_agent_memory(const pv_agent *a);

#endif
