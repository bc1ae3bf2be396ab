/*
 * content.c — fleet identities and the bytes served to them (see content.h).
 */
#include "fleet/content.h"

#include "core/alloc.h"
#include "core/sniff.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Organisationally unique identifiers used for our emulated phones, per family. */
static const char *const oui[4] = {NULL, "000e08", "00562b", "0c1167"};

int pv_fleet_mix_parse(const char *text, pv_fleet_mix *out, pv_error *err)
{
    memset(out, 0, sizeof *out);
    const char *p = text;
    while (*p != '\0') {
        size_t n = strcspn(p, ",");
        char item[32];
        if (n == 0 || n >= sizeof item)
            return pv_error_set(err, PV_ESYNTAX, "mix '%s': expected FAMILY[:WEIGHT],...", text);
        memcpy(item, p, n);
        item[n] = '\0';
        unsigned weight = 1;
        char *colon = strchr(item, ':');
        if (colon != NULL) {
            *colon = '\0';
            char *end;
            unsigned long w = strtoul(colon + 1, &end, 10);
            if (*end != '\0' || end == colon + 1 || w > 1000)
                return pv_error_set(err, PV_ESYNTAX,
                                    "mix '%s': weight of '%s' must be a number 0..1000", text,
                                    item);
            weight = (unsigned)w;
        }
        pv_agent_family f;
        if (pv_agent_family_parse(item, &f) != 0)
            return pv_error_set(err, PV_ESYNTAX,
                                "mix '%s': unknown family '%s' (expected spa, mpp or ata)", text,
                                item);
        out->weight[f] += weight;
        out->total += weight;
        p += n;
        if (*p == ',')
            p++;
    }
    if (out->total == 0)
        return pv_error_set(err, PV_EINVAL, "mix '%s': no family with a weight above 0", text);
    return 0;
}

static void hmac_hex(uint64_t seed, const char *label, const char *mac, char *out, size_t digits)
{
    unsigned char key[8], md[EVP_MAX_MD_SIZE];
    for (int i = 0; i < 8; i++)
        key[i] = (unsigned char)(seed >> (8 * i));
    char msg[64];
    int n = snprintf(msg, sizeof msg, "provisor-fleet %s %s", label, mac);
    unsigned mdlen = 0;
    HMAC(EVP_sha256(), key, sizeof key, (const unsigned char *)msg, (size_t)n, md, &mdlen);
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < digits; i++)
        out[i] = hex[(md[i / 2] >> (i % 2 ? 0 : 4)) & 15];
    out[digits] = '\0';
}

/* The code carries the index masked by the seed (6 digits) and 6 digits of check. */
static uint32_t code_mask(uint64_t seed)
{
    char m[7];
    hmac_hex(seed, "code-mask", "", m, 6);
    return (uint32_t)strtoul(m, NULL, 16);
}

static void make_code(uint64_t seed, uint32_t index, const char *mac, char out[13])
{
    snprintf(out, 13, "%06x", (index ^ code_mask(seed)) & 0xffffffu);
    hmac_hex(seed, "code", mac, out + 6, 6);
}

void pv_fleet_ident_make(uint64_t seed, uint32_t index, const pv_fleet_mix *mix,
                         pv_fleet_ident *out)
{
    memset(out, 0, sizeof *out);
    out->index = index;
    /* families interleave by weight, so every prefix of the fleet has the mix */
    unsigned r = mix && mix->total ? index % mix->total : 0;
    out->family = PV_AGENT_MPP;
    if (mix && mix->total) {
        for (int f = 1; f <= 3; f++) {
            if (r < mix->weight[f]) {
                out->family = (pv_agent_family)f;
                break;
            }
            r -= mix->weight[f];
        }
    }
    snprintf(out->mac, sizeof out->mac, "%s%06x", oui[out->family], index & 0xffffffu);
    snprintf(out->serial, sizeof out->serial, "FCH%02X%06X", (unsigned)out->family,
             index & 0xffffffu);
    hmac_hex(seed, "key", out->mac, out->key, 32);
    make_code(seed, index, out->mac, out->code);
}

bool pv_fleet_ident_from_mac(const char *mac, uint32_t *index)
{
    if (strlen(mac) != 12 || strspn(mac, "0123456789abcdef") != 12)
        return false;
    for (int f = 1; f <= 3; f++) {
        if (strncmp(mac, oui[f], 6) == 0) {
            *index = (uint32_t)strtoul(mac + 6, NULL, 16);
            return true;
        }
    }
    return false;
}

bool pv_fleet_ident_from_code(uint64_t seed, const char *code, uint32_t *index)
{
    if (strlen(code) != 12 || strspn(code, "0123456789abcdef") != 12)
        return false;
    char head[7];
    memcpy(head, code, 6);
    head[6] = '\0';
    uint32_t i = ((uint32_t)strtoul(head, NULL, 16) ^ code_mask(seed)) & 0xffffffu;
    /* the check digits depend on the MAC, so the family does not matter: try each OUI */
    for (int f = 1; f <= 3; f++) {
        char mac[13], want[13];
        snprintf(mac, sizeof mac, "%s%06x", oui[f], i);
        make_code(seed, i, mac, want);
        if (strcmp(want, code) == 0) {
            *index = i;
            return true;
        }
    }
    return false;
}

const char *pv_fleet_model(pv_agent_family f)
{
    switch (f) {
    case PV_AGENT_SPA:
        return "SPA504G";
    case PV_AGENT_ATA:
        return "ATA191-MPP";
    default:
        return "CP-8841-3PCC";
    }
}

const char *pv_fleet_new_swver(pv_agent_family f)
{
    switch (f) {
    case PV_AGENT_SPA:
        return "7.6.3";
    case PV_AGENT_ATA:
        return "11-1-1MPP-20";
    default:
        return "sip88xx.11-3-2MPP-100";
    }
}

void pv_fleet_profile_plain(const pv_fleet_ident *id, pv_buf *out)
{
    /* a typical provider profile: one line's account, a few features (spec 3.1) */
    pv_buf_appendf(out,
                   "<flat-profile>\n"
                   "  <Display_Name_1_ ua=\"na\">Fleet %u</Display_Name_1_>\n"
                   "  <User_ID_1_ ua=\"na\">%u</User_ID_1_>\n"
                   "  <Auth_ID_1_ ua=\"na\">%s</Auth_ID_1_>\n"
                   "  <Password_1_ ua=\"na\">%.16s</Password_1_>\n"
                   "  <Proxy_1_ ua=\"na\">sip.fleet.invalid</Proxy_1_>\n"
                   "  <Register_Expires_1_ ua=\"na\">3600</Register_Expires_1_>\n"
                   "  <Time_Zone ua=\"rw\">GMT+01:00</Time_Zone>\n"
                   "  <Primary_NTP_Server ua=\"na\">ntp.fleet.invalid</Primary_NTP_Server>\n"
                   "</flat-profile>\n",
                   id->index, 100000000u + id->index, id->mac, id->key + 16);
}

int pv_fleet_profile_encrypted(const pv_fleet_ident *id, pv_buf *out, pv_error *err)
{
    pv_buf plain = {0};
    pv_fleet_profile_plain(id, &plain);
    pv_slice key = pv_slice_from(id->key);
    pv_encode_opts opts = {.md = id->family == PV_AGENT_MPP ? PV_MD_SHA256 : PV_MD_MD5};
    const char *encoding = NULL;
    int rc = pv_profile_encode(pv_buf_slice(&plain), &key, NULL, &opts, out, &encoding, err);
    pv_buf_free(&plain);
    return rc;
}

void pv_fleet_profile_rule(const char *base_url, pv_buf *out)
{
    pv_buf_appendf(out, "[--key $SA] %s/fleet/$MA.cfg", base_url);
}

void pv_fleet_bind_profile(const pv_fleet_ident *id, const char *base_url, pv_buf *out)
{
    pv_buf_appendf(out, "<flat-profile>\n  <GPP_SA>%s</GPP_SA>\n  <Profile_Rule>", id->key);
    pv_fleet_profile_rule(base_url, out);
    pv_buf_append_str(out, "</Profile_Rule>\n</flat-profile>\n");
}

void pv_fleet_firmware_path(pv_agent_family f, pv_buf *out)
{
    pv_buf_appendf(out, "fleet/fw/%s-%s.bin", pv_fleet_model(f), pv_fleet_new_swver(f));
}

void pv_fleet_firmware(pv_agent_family f, size_t size, pv_buf *out)
{
    pv_buf payload = {0};
    pv_buf_reserve(&payload, size);
    uint32_t x = 0x9e3779b9u ^ (uint32_t)f; /* any bytes will do; these repeat per family */
    for (size_t i = 0; i < size; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        payload.data[i] = (char)(x & 0xff);
    }
    payload.len = size;
    payload.data[size] = '\0';
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    EVP_Digest(payload.data, size, md, &n, EVP_sha256(), NULL);
    char hex[65];
    pv_hex_encode(md, 32, hex);
    pv_buf_appendf(out, "PVFW version=%s model=%s sha256=%s\n", pv_fleet_new_swver(f),
                   pv_fleet_model(f), hex);
    pv_buf_append(out, payload.data, payload.len);
    pv_buf_free(&payload);
}
