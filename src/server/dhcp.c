/* dhcp.c — DHCP options 66/150/159/160 for dnsmasq and Kea (spec 10); see dhcp.h. */
#include "server/dhcp.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Text that can sit inside double quotes in both languages unescaped. */
static int check_text(const char *what, const char *s, pv_error *err)
{
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
            return pv_error_set(err, PV_EINVAL,
                                "%s '%.200s': character %zu cannot go into a DHCP option", what, s,
                                (size_t)(p - s) + 1);
    }
    if (strlen(s) > 255) /* one DHCP option holds at most 255 bytes (RFC 2132 §2) */
        return pv_error_set(err, PV_EINVAL, "%s is longer than the 255 bytes of a DHCP option",
                            what);
    return 0;
}

static int check(const pv_dhcp_options *o, pv_error *err)
{
    if (o->n_tftp == 0 && o->url == NULL)
        return pv_error_set(err, PV_EINVAL,
                            "nothing to configure: give --tftp-server IP and/or --url URL");
    for (size_t i = 0; i < o->n_tftp; i++) {
        struct in_addr a;
        if (inet_pton(AF_INET, o->tftp_servers[i], &a) != 1)
            return pv_error_set(err, PV_EINVAL,
                                "--tftp-server '%.60s': option 150 holds IPv4 addresses "
                                "(e.g. 192.0.2.10)",
                                o->tftp_servers[i]);
    }
    if (o->tftp_name && check_text("--tftp-name", o->tftp_name, err) != 0)
        return PV_EINVAL;
    struct in_addr a159;
    if (o->server_ip && inet_pton(AF_INET, o->server_ip, &a159) != 1)
        return pv_error_set(err, PV_EINVAL,
                            "--server-ip '%.60s': option 159 is the server's IPv4 address",
                            o->server_ip);
    if (o->url) {
        if (strncmp(o->url, "http://", 7) != 0 && strncmp(o->url, "https://", 8) != 0 &&
            strncmp(o->url, "tftp://", 7) != 0)
            return pv_error_set(err, PV_EINVAL,
                                "--url '%.200s': want an http://, https:// or tftp:// URL", o->url);
        if (check_text("--url", o->url, err) != 0)
            return PV_EINVAL;
    }
    return 0;
}

static const char *name66(const pv_dhcp_options *o)
{
    return o->tftp_name ? o->tftp_name : o->n_tftp ? o->tftp_servers[0] : NULL;
}

/* Option 159: the server's address — given, or the URL's host when it is an
 * IPv4 literal (spec 10: "provisioning server IP"). Written into ip. */
static const char *server159(const pv_dhcp_options *o, char ip[INET_ADDRSTRLEN])
{
    if (o->server_ip != NULL)
        return o->server_ip;
    const char *host = o->url ? strstr(o->url, "://") : NULL;
    if (host == NULL)
        return NULL;
    host += 3;
    size_t n = strcspn(host, ":/");
    struct in_addr a;
    if (n == 0 || n >= INET_ADDRSTRLEN)
        return NULL;
    memcpy(ip, host, n);
    ip[n] = '\0';
    return inet_pton(AF_INET, ip, &a) == 1 ? ip : NULL;
}

/*
 * spec 8.2, 10: phones send a vendor class (option 60) — multiplatform
 * "CP-7841-3PCC", SPA "Cisco SPA504G" or "LINKSYS SPA-942", ATA 19x
 * "CISCO ATA191-MPP" — so the options go only to them, not to every PC of
 * the network (a PC given option 66/160 would do nothing, but other
 * phones' vendors read 66 and 160 too).
 */
static const char *const vendor_classes[] = {"CP-", "Cisco SPA", "LINKSYS SPA", "CISCO ATA"};
#define N_CLASSES (sizeof vendor_classes / sizeof vendor_classes[0])

static void dnsmasq(const pv_dhcp_options *o, pv_buf *out)
{
    char ip[INET_ADDRSTRLEN];
    pv_buf_append_str(out, "# Provisor: DHCP options for in-house pre-provisioning (spec 10)\n"
                           "# only for clients whose vendor class (option 60) is a Cisco phone's\n");
    for (size_t i = 0; i < N_CLASSES; i++)
        pv_buf_appendf(out, "dhcp-vendorclass=set:provisor-phone,%s\n", vendor_classes[i]);
    if (name66(o))
        pv_buf_appendf(out,
                       "# 66: TFTP server name, for rules without a host (/$PSN.xml)\n"
                       "dhcp-option=tag:provisor-phone,66,\"%s\"\n",
                       name66(o));
    if (o->n_tftp) {
        pv_buf_append_str(out, "# 150: Cisco TFTP server address list\n"
                               "dhcp-option=tag:provisor-phone,150");
        for (size_t i = 0; i < o->n_tftp; i++)
            pv_buf_appendf(out, ",%s", o->tftp_servers[i]);
        pv_buf_append_char(out, '\n');
    }
    if (server159(o, ip))
        pv_buf_appendf(out,
                       "# 159: provisioning server address\n"
                       "dhcp-option=tag:provisor-phone,159,\"%s\"\n",
                       server159(o, ip));
    if (o->url)
        pv_buf_appendf(out,
                       "# 160: provisioning URL\ndhcp-option=tag:provisor-phone,160,\"%s\"\n",
                       o->url);
}

/* One `{ "name": ..., "code": N, "data": "..." }` of option-data. */
static void kea_data(pv_buf *out, bool *first, const char *name, int code, const char *data)
{
    pv_buf_appendf(out, "%s          { \"name\": \"%s\", \"code\": %d, \"data\": \"%s\" }",
                   *first ? "" : ",\n", name, code, data);
    *first = false;
}

static void kea(const pv_dhcp_options *o, pv_buf *out)
{
    char ip[INET_ADDRSTRLEN];
    const char *s159 = server159(o, ip);
    pv_buf_append_str(out, "{\n  \"Dhcp4\": {\n    \"option-def\": [\n");
    bool first = true;
    static const struct {
        const char *def;
    } defs[] = {{"{ \"name\": \"cisco-tftp-servers\", \"code\": 150, \"type\": "
                 "\"ipv4-address\", \"array\": true, \"space\": \"dhcp4\" }"},
                {"{ \"name\": \"provisioning-server\", \"code\": 159, \"type\": \"string\", "
                 "\"space\": \"dhcp4\" }"},
                {"{ \"name\": \"provisioning-url\", \"code\": 160, \"type\": \"string\", "
                 "\"space\": \"dhcp4\" }"}};
    bool want[3] = {o->n_tftp > 0, s159 != NULL, o->url != NULL};
    for (size_t i = 0; i < 3; i++) {
        if (!want[i])
            continue;
        pv_buf_appendf(out, "%s      %s", first ? "" : ",\n", defs[i].def);
        first = false;
    }
    /* spec 8.2, 10: a client class of the phones' vendor classes (option 60) */
    pv_buf_append_str(out, "\n    ],\n    \"client-classes\": [\n      {\n"
                           "        \"name\": \"provisor-phone\",\n        \"test\": \"");
    for (size_t i = 0; i < N_CLASSES; i++)
        pv_buf_appendf(out, "%ssubstring(option[60].text,0,%zu) == '%s'", i ? " or " : "",
                       strlen(vendor_classes[i]), vendor_classes[i]);
    pv_buf_append_str(out, "\",\n        \"option-data\": [\n");
    first = true;
    if (name66(o))
        kea_data(out, &first, "tftp-server-name", 66, name66(o));
    if (o->n_tftp) {
        pv_buf list = {0};
        for (size_t i = 0; i < o->n_tftp; i++)
            pv_buf_appendf(&list, "%s%s", i ? ", " : "", o->tftp_servers[i]);
        kea_data(out, &first, "cisco-tftp-servers", 150, list.data);
        pv_buf_free(&list);
    }
    if (s159)
        kea_data(out, &first, "provisioning-server", 159, s159);
    if (o->url)
        kea_data(out, &first, "provisioning-url", 160, o->url);
    pv_buf_append_str(out, "\n        ]\n      }\n    ]\n  }\n}\n");
}

int pv_dhcp_snippet(pv_dhcp_format format, const pv_dhcp_options *o, pv_buf *out, pv_error *err)
{
    int rc = check(o, err);
    if (rc != 0)
        return rc;
    if (format == PV_DHCP_KEA)
        kea(o, out);
    else
        dnsmasq(o, out);
    return 0;
}
