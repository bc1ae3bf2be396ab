/*
 * phone.h — one emulated phone: the I/O host around the sans-IO engine
 * (provisor/agent.h), as `provisor phone` runs it.
 *
 * A pv_phone owns a pv_agent and everything the engine leaves to its host:
 * a libuv timer armed from pv_agent_next_wakeup(); the FETCH and UPLOAD
 * actions performed with the loop's fetcher (net/fetch.h); RESOLVE with
 * c-ares on the same loop (net/resolve.h); PERSIST as an
 * atomic write of the state file (temporary file, fsync, rename, fsync of the
 * directory — a power cut at any point leaves the old or the new state, never
 * a mix); REBOOT (in-flight transfers are dropped, the engine boots again);
 * LOG as a syslog datagram to Syslog_Server (spec 7.3) or a line on stderr
 * (phone/phone_syslog.h: a host name is looked up without blocking the loop).
 * It optionally runs the phone's web server (phone/webui.h, spec 9).
 *
 * The state directory holds: `identity` (model and MAC, written once),
 * `state` (pv_agent_save bytes), `dhcp` (the last lease, written by
 * `provisor phone dhcp-hook`), and while the phone runs `web` (its web
 * server's address), `sip` (its SIP address) and `pid`.
 *
 * Clock: real time, or a virtual clock that runs `factor` times faster and
 * can be advanced by a jump (pv_phone_advance, `/admin/clock?advance=S`), so
 * tests run days of schedules in seconds. The engine's times are this
 * clock's milliseconds since the Unix epoch.
 *
 * Ownership: the caller owns the loop and the pv_phone until close's
 * callback; the phone owns its agent, fetcher, timer, socket and server.
 */
#ifndef PV_PHONE_PHONE_H
#define PV_PHONE_PHONE_H

#include "phone/phone_syslog.h" /* pv_phone_syslog_format */
#include "core/error.h"
#include "provisor/agent.h"

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

typedef struct pv_phone pv_phone;

#define PV_PHONE_MAX_DHCP 8

typedef struct pv_phone_options {
    const char *model;       /* a model or family; NULL: the state's, else CP-8841-3PCC */
    const char *mac;         /* NULL: the one the state directory remembers */
    const char *state_dir;   /* required; created if missing */
    const char *web_address; /* "127.0.0.1:8088"; NULL: no web server */
    const char *sip_address; /* "127.0.0.1:5060" or a host (port SIP_Port_1_); NULL: no SIP
                              * user agent (phone/phone_sip.h) */
    const char *cert_file;   /* device certificate and key (spec 4.4); NULL: none ($CCERT 0) */
    const char *key_file;
    const char *ca_file; /* server CA bundle; NULL: the system's */
    const char *ip;      /* $IP; NULL: 127.0.0.1 */
    /* DNS servers the phone asks ("127.0.0.1:5353,..."), as DHCP option 6 or Primary_DNS
     * would give them; NULL: the system's (/etc/resolv.conf, /etc/hosts) */
    const char *dns_servers;
    struct {
        unsigned code;
        const char *value;
    } dhcp[PV_PHONE_MAX_DHCP]; /* options 66, 150, 159, 160 given on the command line */
    size_t dhcp_count;
    bool virtual_clock;
    double clock_factor; /* virtual: how many times faster than real time (default 1) */
    uint64_t seed;       /* 0: derived from the MAC */
    bool no_verify_host; /* HTTPS: skip the server name check (tests with IP certificates) */
    bool any_key_digest; /* accept md5 and sha256 "Salted__" keys (spec 4.1; default strict) */
} pv_phone_options;

int pv_phone_new(uv_loop_t *loop, const pv_phone_options *o, pv_phone **out, pv_error *err);
/* Powers the phone up: pv_agent_boot and the first actions. */
void pv_phone_start(pv_phone *p);
/* Stops everything; the state on disk is current. done may be NULL. */
void pv_phone_close(pv_phone *p, void (*done)(void *data), void *data);
/* Switches the phone off as a person would: the report Report_to_Server asks for at
 * shutdown is uploaded first (spec 7.1), for at most timeout_ms, then pv_phone_close. */
void pv_phone_shutdown(pv_phone *p, unsigned timeout_ms, void (*done)(void *data), void *data);

pv_agent *pv_phone_agent(pv_phone *p);
/* The phone's clock (ms since the Unix epoch, virtual or real). */
uint64_t pv_phone_now(const pv_phone *p);
bool pv_phone_clock_is_virtual(const pv_phone *p);
/* Virtual clock: jumps forward ms; PV_ENOTSUP on a real clock. */
int pv_phone_advance(pv_phone *p, uint64_t ms);
/* After a direct call into the agent (web, keypad): perform what it queued and re-arm. */
void pv_phone_kick(pv_phone *p);
/* Re-reads `dhcp` from the state directory; when it changed and holds a lease, the
 * network came up (spec 5.1 "resync at network connect"): pv_agent_network_up. */
int pv_phone_reload_dhcp(pv_phone *p, pv_error *err);
/* The SIP user agent's bound address ("127.0.0.1:5060"), or NULL. */
const char *pv_phone_sip_bound(const pv_phone *p);
/* The web server's bound address ("127.0.0.1:8088"), or NULL. */
const char *pv_phone_web_address(const pv_phone *p);

/* The outcome of the last finished resync as a short text ("ok", $ERR...). */
const char *pv_phone_last_result(const pv_phone *p);

/* ---- helpers shared with the command line ---- */

/* Writes data to dir/name atomically (temp + fsync + rename + fsync dir). */
int pv_phone_write_file(const char *dir, const char *name, const void *data, size_t len,
                        pv_error *err);
/* Reads dir/name whole (at most max bytes) into a NUL-terminated buffer. */
int pv_phone_read_file(const char *dir, const char *name, size_t max, char **data, size_t *len,
                       pv_error *err);

#endif
