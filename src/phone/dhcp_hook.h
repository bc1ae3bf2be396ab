/*
 * dhcp_hook.h — what a DHCP client learned, as the phone uses it (spec 10).
 *
 * `provisor phone dhcp-hook` is a busybox udhcpc script: udhcpc runs it with
 * the event (bound, renew, deconfig, leasefail, nak) as its argument and the
 * lease in the environment: `ip`, `router`, `siaddr` (BOOTP next server),
 * `tftp` (option 66 — a name busybox knows), and every option it has no name
 * for as `optNNN` with the value in hex (`opt150`, `opt159`, `opt160`, or
 * `opt66` on builds without the name). This module turns that environment
 * into a pv_dhcp_lease, stores a lease as a small text file in the phone's
 * state directory (`66=...` lines) and hands options 66, 150, 159 and 160 to
 * the engine, which uses them in the order of DHCP_Option_To_Use.
 *
 * Pure: no files, no sockets; bounded input (values over 255 bytes, as DHCP
 * allows no more, are refused with a message).
 */
#ifndef PV_PHONE_DHCP_HOOK_H
#define PV_PHONE_DHCP_HOOK_H

#include "core/buf.h"
#include "core/error.h"
#include "provisor/agent.h"

#define PV_DHCP_OPTIONS 4 /* 66, 150, 159, 160 */

typedef struct pv_dhcp_lease {
    char ip[64];
    char value[PV_DHCP_OPTIONS][256]; /* "" = not offered */
} pv_dhcp_lease;

/* Reads a udhcpc environment ("name=value" strings, NULL-terminated). */
int pv_dhcp_lease_from_env(char *const *envp, pv_dhcp_lease *out, pv_error *err);
/* The lease file: "ip=...\n66=...\n150=...\n" (absent options left out). */
void pv_dhcp_lease_format(const pv_dhcp_lease *l, pv_buf *out);
int pv_dhcp_lease_parse(const char *text, pv_dhcp_lease *out, pv_error *err);
/* Sets $IP and options 66/150/159/160 (absent ones cleared). */
void pv_dhcp_lease_apply(const pv_dhcp_lease *l, pv_agent *a);

#endif
