/*
 * device_id.h — what a request says about which phone sent it (DESIGN
 * decision 3): MAC addresses in their spellings, the User-Agent formats of
 * spec 8.1, and a MAC named in a requested path (`/$MA.xml`, `/spa$MA.cfg`,
 * `/Dj6Lmp23Q/000e08012345.cfg`).
 *
 * Pure parsing: no policy. The server decides what to believe (the verified
 * certificate first, then the path, then the User-Agent) and what to refuse.
 */
#ifndef PV_CORE_DEVICE_ID_H
#define PV_CORE_DEVICE_ID_H

#include "core/buf.h"
#include "core/error.h"

#include <stdbool.h>
#include <stdint.h>

/* A MAC address, canonical form: 12 lower-case hex digits ($MA, spec 2.2). */
typedef struct pv_mac {
    char hex[13];
} pv_mac;

/* Accepts 000e08abcdef, 000E08ABCDEF, 00:0e:08:ab:cd:ef, 00-0E-08-AB-CD-EF, 000e.08ab.cdef. */
int pv_mac_parse(pv_slice text, pv_mac *out, pv_error *err);
/* $MAU: upper-case hex; $MAC: lower-case, colon-separated (spec 2.2). buf >= 18 bytes. */
void pv_mac_format_upper(const pv_mac *mac, char buf[13]);
void pv_mac_format_colons(const pv_mac *mac, char buf[18]);

typedef enum {
    PV_FAMILY_UNKNOWN,
    PV_FAMILY_SPA, /* Cisco and Linksys SPA phones and ATAs */
    PV_FAMILY_MPP, /* multiplatform (3PCC) desk phones */
    PV_FAMILY_ATA, /* ATA191/192 MPP */
} pv_family;

/* What a User-Agent header says (spec 8.1). Fields are empty when absent. */
typedef struct pv_user_agent {
    pv_family family;
    char vendor[16];   /* "Cisco", "Linksys" */
    char model[32];    /* "CP-8841-3PCC", "ATA191", "SPA508G", "SPA-942" */
    char version[48];  /* "11.0", "11-1-0-MSR4", "7.4.4", "6.1.5(a)" */
    bool has_mac;
    pv_mac mac;        /* MPP: the parenthesised 12 hex digits; SPA: the optional first group */
    char serial[32];   /* ATA MPP and SPA: the parenthesised serial number */
} pv_user_agent;

/*
 * Parses the formats of spec 8.1:
 *   Cisco-CP-8841-3PCC/11.0 (00562b043615)            MPP
 *   Cisco/ATA191-MPP-11-1-0-MSR4 (FCH2443D9R4)        ATA MPP
 *   Cisco/SPA508G-7.4.4 (0002FDFF2103)(CBT141400UK)   Cisco SPA, MAC part optional
 *   Linksys/SPA-942-6.1.5(a) (88019FA42805)           Linksys SPA
 * Returns PV_EFORMAT for anything else (a browser, curl): not a phone.
 */
int pv_user_agent_parse(pv_slice header, pv_user_agent *out, pv_error *err);

/*
 * Finds a MAC address named by the last path component: the file name's stem
 * holds exactly one run of 12 hex digits, optionally after a short alphabetic
 * prefix ("spa", "cisco", "ata") — `/000e08abcdef.xml`, `/spa000E08ABCDEF.cfg`,
 * `/prov/cisco000e08abcdef.cfg`. Returns false when there is none or when it is
 * ambiguous.
 */
bool pv_mac_from_path(pv_slice path, pv_mac *out);

#endif
