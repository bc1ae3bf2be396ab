/*
 * url.h — the URL at the end of a rule alternative (spec 1.1, 1.2).
 *
 * `[ scheme "://" ] [ server [ ":" port ] ] filepath`: the scheme defaults to
 * tftp; a URL without a server means "the server DHCP gave us" (option 66 or
 * per DHCP_Option_To_Use); the port defaults to 69, 80 or 443 by scheme; the
 * file path must be absolute and may carry a query (`/profile?Linksys`,
 * `/resyncs?`). `gds://` is the reserved MPP activation-code value. IPv6
 * literals are written in brackets, `http://[::1]:8080/p.xml`.
 *
 * The text is given macro-expanded. A parsed pv_url owns its strings
 * (pv_url_free); host is empty when dhcp_host is set.
 */
#ifndef PV_CORE_URL_H
#define PV_CORE_URL_H

#include "core/buf.h"
#include "core/error.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum { PV_SCHEME_TFTP, PV_SCHEME_HTTP, PV_SCHEME_HTTPS } pv_scheme;

typedef struct pv_url {
    pv_scheme scheme;
    bool scheme_given; /* written out, not defaulted */
    bool gds;          /* the reserved `gds://` value: nothing else is set */
    bool dhcp_host;    /* no server in the URL: use the one from DHCP */
    bool ipv6;         /* host is an IPv6 literal (stored without brackets) */
    char *host;        /* "" when dhcp_host */
    uint16_t port;     /* given or the scheme's default */
    bool port_given;
    char *path;  /* absolute, without the query */
    char *query; /* after '?', NULL when there is no '?' (may be "") */
} pv_url;

/*
 * Parses text (no surrounding white space). col_base is added to the 0-based
 * positions in messages, which name the 1-based column and what was expected.
 */
int pv_url_parse(pv_slice text, size_t col_base, pv_url *out, pv_error *err);
void pv_url_free(pv_url *u);

const char *pv_scheme_name(pv_scheme s);
uint16_t pv_scheme_default_port(pv_scheme s);

/* Writes scheme://host[:port]path[?query] (host "" when dhcp_host), appended. */
void pv_url_format(const pv_url *u, pv_buf *out);

#endif
