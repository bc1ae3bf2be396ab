/*
 * dhcp.h — DHCP snippets for in-house pre-provisioning (issue 4, "Bulk
 * distribution"; spec 10): the options that point factory-fresh phones at
 * the provider, in the configuration language of dnsmasq or of Kea.
 *
 *   66   TFTP server name (text): the server for rules with no host (`/$PSN.xml`)
 *   150  TFTP server address list (Cisco; IPv4 addresses)
 *   159  provisioning server address (text; DHCP_Option_To_Use reads it)
 *   160  provisioning URL (text)
 *
 * Every option is scoped to the phones' vendor classes (option 60: "CP-",
 * "Cisco SPA", "LINKSYS SPA", "CISCO ATA"), a dnsmasq tag or a Kea client
 * class, so the rest of the network is not pointed at us.
 *
 * dnsmasq knows none of 150 and 160 by name, so they are given by number; an
 * unquoted list of addresses is sent as addresses (150) and a quoted value as
 * text (66, 160). Kea needs option definitions for 150 and 160 in the dhcp4
 * space before option-data may use them; the snippet is a whole
 * {"Dhcp4": {...}} object to merge into kea-dhcp4.conf.
 *
 * Pure: text in, text out; the caller prints it.
 */
#ifndef PV_SERVER_DHCP_H
#define PV_SERVER_DHCP_H

#include "core/buf.h"
#include "core/error.h"

#include <stddef.h>

typedef enum { PV_DHCP_DNSMASQ, PV_DHCP_KEA } pv_dhcp_format;

#define PV_DHCP_MAX_SERVERS 8

typedef struct pv_dhcp_options {
    const char *tftp_servers[PV_DHCP_MAX_SERVERS]; /* IPv4 addresses: options 150 and 66 */
    size_t n_tftp;
    const char *tftp_name; /* option 66; NULL = the first TFTP server */
    const char *url;       /* option 160: http://, https:// or tftp:// URL; NULL = omit */
    const char *server_ip; /* option 159; NULL = the URL's host when an IPv4 literal */
} pv_dhcp_options;

/*
 * Appends the snippet to out. PV_EINVAL with a message naming the value when
 * an address is not IPv4, the URL has another scheme or holds a quote or a
 * control character, or nothing at all was asked for.
 */
int pv_dhcp_snippet(pv_dhcp_format format, const pv_dhcp_options *o, pv_buf *out, pv_error *err);

#endif
