/*
 * agent_int.h — the map of the phone engine (private to src/agent).
 *
 * One struct pv_agent per phone. What it holds is split by lifetime:
 *
 *   persistent  the parameter overlay (only what differs from the shared
 *               family defaults), the provisioning state, the two firmware
 *               slots, the last upgrade URL and the report baseline — what
 *               state.c serializes;
 *   volatile    timers, counters, the operation in flight and the queue of
 *               actions for the host — reset by pv_agent_boot().
 *
 * At most one operation (a resync, an upgrade or a report upload) runs at a
 * time, like on a real phone; it lives on the heap only while it runs, so an
 * idle phone costs its struct plus its overlay (a fleet targets ≤ 16 KB).
 *
 * Modules: defaults.c (factory values), agent_store.c (parameters and access),
 * vars.c (macro values), timers.c (random numbers, schedules, time of day),
 * fetch.c (building requests, the spec 8.3 status table), resolve.c (names to
 * addresses and SRV targets, with failover), resync.c,
 * upgrade.c, report.c (the machines), state.c (bytes), agent.c (the glue and
 * the public entry points).
 */
#ifndef PV_AGENT_INT_H
#define PV_AGENT_INT_H

#include "provisor/agent.h"

#include "core/buf.h"
#include "core/error.h"
#include "core/param.h"
#include "core/rule.h"
#include "core/salted.h"
#include "core/url.h"

#include <stdbool.h>
#include <stdint.h>

struct pv_agent_defaults {
    pv_agent_family family;
    pv_params params;           /* factory values and ua */
    const char *model, *swver;  /* the family's reference model and load */
    uint32_t random_delay_unit; /* seconds per Resync_Random_Delay unit (DESIGN) */
    pv_md md;                   /* digest of "Salted__" keys for the factory load (DESIGN 7) */
    bool triggers_gate;         /* MPP: triggers gate resyncs; SPA/ATA: they fire them */
    /* spec 7.3: the names of the resync log templates differ per family */
    const char *log_request, *log_success, *log_failure;
};

typedef enum { PV__OP_RESYNC = 1, PV__OP_UPGRADE, PV__OP_REPORT } pv__op_kind;

/* The request in flight: where it goes and how to retry it (spec 8.3). */
typedef struct pv__fetch {
    uint32_t id; /* the action id awaited; 0 = none */
    pv_agent_purpose purpose;
    pv_scheme scheme;
    char *host;
    uint16_t port;
    char *path; /* with the query */
    char *key, *uid, *pwd;
    char alias;            /* GPP letter of --alias, or 0 */
    pv_buf body;           /* --post body or the report */
    const char *method;    /* static string */
    const char *encoding;  /* report: "aes128gcm" or NULL */
    uint8_t redirects;     /* 301/302 followed so far */
    uint8_t auth_retries;  /* 401/407 retries so far */
    bool with_credentials; /* uid/pwd offered (after a challenge) */
    /* name resolution, when the host resolves (pv_agent_set_host_resolves) */
    bool srv;                /* --srv: the host is a domain whose SRV records name servers */
    bool srv_done;           /* ... and they were looked up into targets */
    bool resolved;           /* addrs hold host's addresses (or host is numeric) */
    bool lookup_failed;      /* the last failure was DNS, not a connection */
    bool lookup_pending;     /* id is a RESOLVE's */
    char *addrs[PV_AGENT_MAX_ADDRESSES]; /* spec 1.2: tried in turn */
    uint8_t naddrs, cur_addr;            /* addrs[cur_addr] is the one in use */
    struct {
        char *target;
        uint16_t port;
    } targets[PV_AGENT_MAX_SRV];          /* RFC 2782 order */
    uint8_t ntargets, next_target;
    const char *request_log; /* template parameter to log once the address is known */
} pv__fetch;

typedef struct pv__op {
    pv__op_kind kind;
    int prvst;        /* resync: $PRVST of this attempt */
    int rule;         /* resync: index of the Profile_Rule being run (0..3) */
    char *oneshot;    /* resync/upgrade: the one-shot rule or URL */
    bool retry;       /* upgrade: a retry after failure ($UPGST 2) */
    char version[64]; /* upgrade: the load expected from the URL, "" if unknown */
    size_t loop_alt;  /* upgrade: the conditional alternative that chose it, 0 = none */
    /* upgrade of an MPP `.loads` manifest: the files it lists, fetched one by one */
    char **files;
    size_t nfiles, next_file;
    uint64_t files_size;
    char manifest_sha256[65];
    pv__fetch f;
    /* report: the targets and which one is uploading */
    pv_rule_result report;
    size_t report_next;
    bool report_delta_ok;
} pv__op;

/* A queued action and the strings it owns. */
typedef struct pv__action {
    struct pv__action *next;
    pv_agent_action act;
    char *url, *host, *path, *uid, *pwd, *text, *address;
    pv_buf body;
} pv__action;

typedef struct pv__slot {
    char version[64]; /* "" = empty */
    char sha256[65];
    uint64_t size;
} pv__slot;

typedef enum { PV__BOOT_POWER = 0, PV__BOOT_REBOOT, PV__BOOT_UPGRADE } pv__boot_reason;

struct pv_agent {
    const pv_agent_defaults *defs;
    /* identity (fixed) */
    char mac[13], model[32], psn[32], serial[32], factory_swver[64], hwver[16];
    bool client_cert;
    bool any_key_digest; /* identity: accept md5 and sha256 keys (spec 4.1 switch) */
    uint64_t rng; /* splitmix64 state, from the host's seed */

    /* ---- persistent ---- */
    pv_params own;       /* differences from defs->params */
    pv_params *baseline; /* what the last --delta report said (NULL: defaults) */
    pv_agent_prov_state prov_state;
    pv__slot slot[2];
    uint8_t active; /* the slot we run from */
    pv__boot_reason boot_reason;
    char *last_upgrade_url; /* spec 6: one attempt per effective URL */
    char *upgerr;           /* $UPGERR */

    /* ---- volatile ---- */
    uint64_t boot_time;
    int64_t tod_offset; /* ms of day at time 0 */
    bool tod_known;
    char *ip, *extip;
    char *dhcp[4]; /* options 66, 150, 159, 160 */
    bool call_active;
    bool regd[2];
    uint64_t reg_lost[2];
    bool rebooting; /* a REBOOT is queued: nothing more until pv_agent_boot */
    bool reboot_after_call; /* a new load is switched in: reboot when the call ends (spec 6) */
    /* a restart or shutdown waits for its report (spec 7.1): what follows it */
    enum { PV__AFTER_NONE = 0, PV__AFTER_REBOOT, PV__AFTER_OFF } after_report;

    uint64_t resync_due; /* PV_AGENT_NEVER when none */
    int resync_prvst;
    uint64_t upgrade_due;   /* retry timer */
    uint64_t upgrade_check; /* evaluate Upgrade_Rule (after a resync); NEVER = no */
    uint64_t report_due;
    uint64_t trigger_due; /* SPA/ATA: next Resync_Trigger evaluation */
    bool resync_forced;   /* the due resync came by SIP NOTIFY: triggers ignored (spec 5.4) */
    uint64_t reboot_due;  /* a NOTIFY reboot_now/restart_now waiting for idle (spec 5.3) */

    uint32_t resync_failures, periodic_count, upgrade_failures;
    uint64_t last_resync, last_upgrade; /* attempt times; 0 = none since boot */
    int prvst, upgst;
    pv_agent_led led;
    char *err; /* $ERR */

    pv__op *op;
    uint32_t next_id;
    pv__action *queue, *queue_tail, *taken;
    bool host_resolves; /* pv_agent_set_host_resolves */
};

/* ---- defaults.c ---- */
bool pv__param_is_secret(const char *name);
bool pv__param_is_password(const char *name);

/* ---- agent_store.c ---- */
/* The effective value of name ("" when the parameter has no value), or NULL. */
const char *pv__agent_get(const pv_agent *a, const char *name);
/* True when the parameter is Yes (case-insensitive), 1, Enable or True. */
bool pv__get_bool(const pv_agent *a, const char *name);
/* An integer parameter, def when absent or not a number. */
long pv__get_long(const pv_agent *a, const char *name, long def);
pv_ua pv__get_ua(const pv_agent *a, const char *name);
/* Applies one parameter the way a profile does; true when something changed. */
bool pv__apply_param(pv_agent *a, const pv_param *p);
/* Applies a set whole; returns how many parameters changed. */
size_t pv__apply_params(pv_agent *a, const pv_params *set);
/* Sets a value (access unchanged); true when it changed. */
bool pv__set_value(pv_agent *a, const char *name, const char *value);
/* The provisioning state implied by the current parameters (never downgrades). */
void pv__update_prov_state(pv_agent *a);
/* Appends the flat profile (spec 3.4): secrets out; passwords as <Name/>; delta: only
 * what differs from the baseline. */
int pv__export(const pv_agent *a, pv_agent_role role, bool delta, pv_buf *out, pv_error *err);

/* Parses a decoded profile: XML (aliases from GPP_<alias_gpp>) or the text form. */
int pv__parse_profile(pv_slice plain, char alias_gpp, const pv_agent *a, pv_params *out,
                      pv_error *err);

/* ---- vars.c ---- */
/* Expands tmpl with the phone's macro values at now (spec 2). */
void pv__expand(const pv_agent *a, uint64_t now, const char *tmpl, pv_buf *out);
pv_macro_env pv__macro_env(const pv_agent *a, uint64_t now, void *scratch);
/* Scratch space pv__macro_env needs: */
typedef struct pv__vars_ctx {
    const pv_agent *a;
    uint64_t now;
    const char *version; /* $VERSION, set only for HTTP_User_Agent_Name; else NULL */
} pv__vars_ctx;

/* The key digest of "Salted__" files for the running load (spec 4.1). */
pv_md pv__key_md(const pv_agent *a);

/* ---- timers.c ---- */
uint32_t pv__rand32(pv_agent *a);
/* A delay in ms from a schedule parameter (spec 5.2); false when disabled. */
bool pv__schedule_ms(pv_agent *a, const char *param, uint64_t attempt, uint64_t *ms);
/* Parses Resync_At__HHmm_ (0000–2400); false when empty or invalid (spec 5.1). */
bool pv__hhmm(const char *text, uint32_t *minutes);
/* The next due time of the daily resync after now, with its random spread. */
uint64_t pv__resync_at_next(pv_agent *a, uint64_t now, uint32_t minutes);
/* Schedules the next resync after a success (Resync_At or Resync_Periodic). */
void pv__schedule_after_success(pv_agent *a, uint64_t now);
/* Schedules the retry after a failure (Resync_Error_Retry_Delay). */
void pv__schedule_after_failure(pv_agent *a, uint64_t now);
/* Arms the trigger evaluation timer if Resync_Trigger_1/2 are set (SPA/ATA). */
void pv__arm_triggers(pv_agent *a, uint64_t now);
/* Any Resync_Trigger_n true? *set tells whether any is set at all. */
bool pv__triggers_true(pv_agent *a, uint64_t now, bool *set);
/* The idle rule (spec 5.3, DESIGN): may a resync or upgrade due at `due` start now? */
bool pv__idle_allows(const pv_agent *a, uint64_t now, uint64_t due, uint64_t *wait_until);

/* ---- notify.c ---- */
/* A NOTIFY's reboot waiting for idle: starts it when the idle rule allows; true if it did. */
bool pv__notify_reboot_due(pv_agent *a, uint64_t now);

/* ---- agent.c ---- */
pv__action *pv__queue(pv_agent *a, pv_agent_action_kind kind);
void pv__log(pv_agent *a, uint64_t now, int level, const char *template_param);
void pv__persist(pv_agent *a);
void pv__set_err(pv_agent *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pv__op_free(pv_agent *a);
/* Starts whatever is due once no operation runs. */
void pv__run(pv_agent *a, uint64_t now);

/* ---- fetch.c ---- */
typedef enum {
    PV__FETCH_AGAIN, /* a new request was queued (redirect, credentials) */
    PV__FETCH_OK,    /* 2xx: the body is the answer */
    PV__FETCH_FNF,   /* 404: class B, subject to Resync_Fails_On_FNF */
    PV__FETCH_FAIL,  /* class C: connection error or another status */
} pv__fetch_result;

/* Resolves a rule's URL (DHCP server, Transport_Protocol), checks
 * Restricted_Access_Domains and fills f. */
int pv__fetch_prepare(pv_agent *a, pv__fetch *f, const pv_url *url, bool factory_rule,
                      pv_error *err);
void pv__fetch_take_opts(pv__fetch *f, const pv_rule_options *o);
/* Points f at file in the directory of its current path (a manifest's sibling, spec 6). */
void pv__fetch_sibling(pv__fetch *f, const char *file);
/* Queues the FETCH/UPLOAD action for f and remembers its id. */
void pv__fetch_send(pv_agent *a, uint64_t now, pv__fetch *f);
/* The spec 8.3 table; sets $ERR for failures. */
pv__fetch_result pv__fetch_answer(pv_agent *a, uint64_t now, pv__fetch *f,
                                  const pv_agent_response *r);
void pv__fetch_free(pv__fetch *f);

/* ---- resolve.c ---- */
/* True when f can be sent now (its address chosen, or the host resolves names itself);
 * false when a RESOLVE was queued instead. */
bool pv__fetch_route(pv_agent *a, pv__fetch *f);
/* After a connection failure: sends f to the next address, else the next SRV target
 * (spec 1.2, RFC 2782); false when none is left. */
bool pv__fetch_failover(pv_agent *a, uint64_t now, pv__fetch *f);
/* Takes the host's answer to f's RESOLVE; false when f cannot go on (f->lookup_failed). */
bool pv__fetch_resolved(pv_agent *a, uint64_t now, pv__fetch *f, const pv_agent_resolution *r);
void pv__fetch_forget_addresses(pv__fetch *f);
/* The address f connects to, or NULL when the host resolves its names itself. */
const char *pv__fetch_address(const pv__fetch *f);

/* ---- resync.c ---- */
int pv__resync_start(pv_agent *a, uint64_t now, int prvst, const char *oneshot, pv_error *err);
void pv__resync_answer(pv_agent *a, uint64_t now, const pv_agent_response *r);

/* ---- upgrade.c ---- */
/* retry: started by the Upgrade_Error_Retry_Delay timer. Returns PV_ENOENT when
 * nothing was started (no URL, already attempted, disabled). */
int pv__upgrade_start(pv_agent *a, uint64_t now, bool retry, const char *oneshot, pv_error *err);
void pv__upgrade_answer(pv_agent *a, uint64_t now, const pv_agent_response *r);

/* ---- report.c ---- */
int pv__report_start(pv_agent *a, uint64_t now, pv_error *err);
void pv__report_answer(pv_agent *a, uint64_t now, const pv_agent_response *r);
/* Arms the report timer per Report_to_Server; local: after a local change. */
void pv__report_arm(pv_agent *a, uint64_t now, bool local_change);
/* Starts the report of a restart or shutdown when Report_to_Server asks for one; `then`
 * (PV__AFTER_REBOOT, PV__AFTER_OFF) happens when it ends. False: no report started. */
bool pv__report_at_restart(pv_agent *a, uint64_t now, int then);

#endif
