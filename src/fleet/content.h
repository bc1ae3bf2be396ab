/*
 * content.h — who the phones of a fleet are, and what a server gives them.
 *
 * A fleet is reproducible from (seed, count, mix): phone i has a family
 * chosen by the mix weights, a MAC made of its family's OUI and i, a
 * per-device profile key and a retail binding code, both derived from the
 * seed with HMAC-SHA256. The same functions build the bytes a provisioning
 * server serves them — the per-device encrypted profile, the retail binding
 * profile (SEC-PRV-1: key in GPP_SA, permanent Profile_Rule; DESIGN 5) and
 * firmware images — so that `provisor fleet profiles` can write a static tree
 * for `provisor serve --root` or nginx, and the virtual server (--virtual)
 * answers with exactly the same content.
 *
 * Paths of that tree (relative to the server root):
 *   fleet/<mac>.cfg          the phone's profile, AES-256-CBC with its key
 *   init/<code>              its binding profile (plain XML, served over HTTPS)
 *   fleet/fw/<model>-<ver>.bin  firmware images of the firmware wave
 *
 * Ownership: pure functions; output buffers belong to the caller.
 */
#ifndef PV_FLEET_CONTENT_H
#define PV_FLEET_CONTENT_H

#include "core/buf.h"
#include "core/error.h"
#include "provisor/agent.h"

#include <stdbool.h>
#include <stdint.h>

/* Family weights of a fleet, e.g. "spa:1,mpp:2,ata:1" (default: mpp only). */
typedef struct pv_fleet_mix {
    unsigned weight[4]; /* indexed by pv_agent_family */
    unsigned total;
} pv_fleet_mix;

int pv_fleet_mix_parse(const char *text, pv_fleet_mix *out, pv_error *err);

typedef struct pv_fleet_ident {
    uint32_t index;
    pv_agent_family family;
    char mac[13];    /* lower-case hex: OUI of the family, then the index */
    char key[33];    /* profile key (32 hex digits: a passphrase for `--key`, spec 4.2) */
    char code[13];   /* retail binding code (12 hex digits; the index is recoverable) */
    char serial[12]; /* "FCH" + family + index in hex: the certificate's L (spec 4.4) */
} pv_fleet_ident;

/* Phones are numbered below this (24 bits of MAC). */
#define PV_FLEET_MAX_PHONES (1u << 24)

void pv_fleet_ident_make(uint64_t seed, uint32_t index, const pv_fleet_mix *mix,
                         pv_fleet_ident *out);
/* The index of the phone with this MAC or binding code, if it is one of ours. */
bool pv_fleet_ident_from_mac(const char *mac, uint32_t *index);
bool pv_fleet_ident_from_code(uint64_t seed, const char *code, uint32_t *index);

/* The family's reference model and the firmware version the firmware wave installs. */
const char *pv_fleet_model(pv_agent_family f);
const char *pv_fleet_new_swver(pv_agent_family f);

/* The phone's profile in plain XML (account and line parameters). */
void pv_fleet_profile_plain(const pv_fleet_ident *id, pv_buf *out);
/* The same, encrypted with its key (md5 on SPA/ATA, sha256 on MPP: DESIGN 7). */
int pv_fleet_profile_encrypted(const pv_fleet_ident *id, pv_buf *out, pv_error *err);
/* The binding answer: GPP_SA = key, Profile_Rule = [--key $SA] <base>/fleet/$MA.cfg. */
void pv_fleet_bind_profile(const pv_fleet_ident *id, const char *base_url, pv_buf *out);
/* The Profile_Rule of a provisioned phone fetching from base_url. */
void pv_fleet_profile_rule(const char *base_url, pv_buf *out);
/* A firmware image (`PVFW version= model= sha256=` line, then size bytes). */
void pv_fleet_firmware(pv_agent_family f, size_t size, pv_buf *out);
/* Its path under the root, "fleet/fw/<model>-<ver>.bin". */
void pv_fleet_firmware_path(pv_agent_family f, pv_buf *out);

#endif
