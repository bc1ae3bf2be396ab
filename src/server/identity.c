/* identity.c — certificate, path and User-Agent witnesses; see identity.h. */
#include "server/identity.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static void copy_field(char *dst, size_t size, const char *src)
{
    int n = snprintf(dst, size, "%s", src != NULL ? src : "");
    if (n < 0 || (size_t)n >= size)
        dst[0] = '\0'; /* a truncated serial would name another phone: keep none */
}

bool pv_identity_mac_in(const char *text, pv_mac *out)
{
    /* First a whole-string parse: "00:0e:08:ab:cd:ef", "000e.08ab.cdef". */
    if (text == NULL || text[0] == '\0')
        return false;
    if (pv_mac_parse(pv_slice_from(text), out, NULL) == 0)
        return true;
    /* Then exactly one run of 12 hex digits ("SEP000E08ABCDEF"). */
    int found = 0;
    for (size_t i = 0; text[i] != '\0';) {
        size_t j = i;
        while (isxdigit((unsigned char)text[j]))
            j++;
        if (j - i == 12) {
            found++;
            if (pv_mac_parse(pv_slice_make(text + i, 12), out, NULL) != 0)
                return false;
        }
        i = j > i ? j : i + 1;
    }
    return found == 1;
}

/* spec 4.4: S= (ST) holds the MAC; else a CN or SAN entry that names one. The transports hand
 * over the subject uninterpreted (net/handler.h): this is where a MAC is decided. */
static bool cert_mac(const pv_peer_identity *cert, pv_mac *out)
{
    const char *st = pv_peer_identity_attr(cert, "ST");
    if (st[0] != '\0')
        return pv_identity_mac_in(st, out);
    if (pv_identity_mac_in(pv_peer_identity_attr(cert, "CN"), out))
        return true;
    /* SAN: comma-separated entries; the first that names a MAC. */
    char san[sizeof cert->san];
    memcpy(san, cert->san, sizeof san);
    san[sizeof san - 1] = '\0';
    char *save = NULL;
    for (char *tok = strtok_r(san, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        const char *colon = strchr(tok, ':'); /* "DNS:..." / "URI:..." prefixes */
        if (colon != NULL && colon - tok <= 3 && pv_identity_mac_in(colon + 1, out))
            return true;
        if (pv_identity_mac_in(tok, out))
            return true;
    }
    return false;
}

int pv_identify(const pv_peer_identity *cert, pv_slice path, pv_slice user_agent, pv_ident *out,
                pv_error *err)
{
    memset(out, 0, sizeof *out);
    pv_user_agent ua;
    bool have_ua = user_agent.len > 0 && pv_user_agent_parse(user_agent, &ua, NULL) == 0;
    out->path_has_mac = pv_mac_from_path(path, &out->path_mac);
    out->ua_has_mac = have_ua && ua.has_mac;
    if (out->ua_has_mac)
        out->ua_mac = ua.mac;
    if (have_ua) {
        copy_field(out->serial, sizeof out->serial, ua.serial);
        copy_field(out->model, sizeof out->model, ua.model);
        copy_field(out->swver, sizeof out->swver, ua.version);
    }
    if (cert != NULL) {
        out->cert_verified = true;
        copy_field(out->fingerprint, sizeof out->fingerprint, cert->fingerprint);
        out->cert_has_mac = cert_mac(cert, &out->cert_mac);
        const char *serial = pv_peer_identity_attr(cert, "L"); /* spec 4.4 */
        const char *product = pv_peer_identity_attr(cert, "OU");
        if (serial[0] != '\0')
            copy_field(out->serial, sizeof out->serial, serial);
        if (product[0] != '\0')
            copy_field(out->model, sizeof out->model, product);
    }
    if (out->cert_has_mac) {
        /* DESIGN 3: the certificate must agree with every weaker witness. */
        if (out->path_has_mac && strcmp(out->path_mac.hex, out->cert_mac.hex) != 0)
            return pv_error_set(err, PV_EACCES,
                                "certificate of %s asks for the path of %s: refused",
                                out->cert_mac.hex, out->path_mac.hex);
        if (out->ua_has_mac && strcmp(out->ua_mac.hex, out->cert_mac.hex) != 0)
            return pv_error_set(err, PV_EACCES,
                                "certificate of %s comes with the User-Agent of %s: refused",
                                out->cert_mac.hex, out->ua_mac.hex);
        out->source = PV_ID_CERT;
        out->mac = out->cert_mac;
    } else if (out->path_has_mac) {
        out->source = PV_ID_PATH;
        out->mac = out->path_mac;
    } else if (out->ua_has_mac) {
        out->source = PV_ID_UA;
        out->mac = out->ua_mac;
    }
    return 0;
}

int pv_identity_admit(const pv_ident *id, const char *mac, bool require_cert,
                      const char *stored_fingerprint, pv_route_kind route, pv_error *err)
{
    bool has_fp = stored_fingerprint != NULL && stored_fingerprint[0] != '\0';
    bool names_it = id->cert_has_mac && strcmp(id->cert_mac.hex, mac) == 0;
    /* A stored fingerprint binds the MAC to one certificate on every route,
     * required or not: another certificate naming it is refused. */
    if (has_fp && names_it && strcasecmp(id->fingerprint, stored_fingerprint) != 0)
        return pv_error_set(err, PV_EACCES,
                            "device %s: certificate fingerprint differs from the pinned one", mac);
    if (route == PV_ROUTE_SHARED || !require_cert)
        return 0;
    if (!id->cert_verified)
        return pv_error_set(err, PV_EACCES,
                            "device %s requires a client certificate and none was verified", mac);
    if (!names_it)
        return pv_error_set(err, PV_EACCES, "device %s requires its own certificate", mac);
    return 0;
}

int pv_identity_check_device(const pv_ident *id, const char *mac, bool require_cert,
                             const char *stored_fingerprint, pv_error *err)
{
    return pv_identity_admit(id, mac, require_cert, stored_fingerprint, PV_ROUTE_DEVICE, err);
}
