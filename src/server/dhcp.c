/* dhcp.c — DHCP options 66/150/160 for dnsmasq and Kea (spec 10); see dhcp.h. */
#include "server/dhcp.h"

#include <arpa/inet.h>
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

static void dnsmasq(const pv_dhcp_options *o, pv_buf *out)
{
    pv_buf_append_str(out, "# Provisor: DHCP options for in-house pre-provisioning (spec 10)\n");
    if (name66(o))
        pv_buf_appendf(out,
                       "# 66: TFTP server name, for rules without a host (/$PSN.xml)\n"
                       "dhcp-option=66,\"%s\"\n",
                       name66(o));
    if (o->n_tftp) {
        pv_buf_append_str(out, "# 150: Cisco TFTP server address list\ndhcp-option=150");
        for (size_t i = 0; i < o->n_tftp; i++)
            pv_buf_appendf(out, ",%s", o->tftp_servers[i]);
        pv_buf_append_char(out, '\n');
    }
    if (o->url)
        pv_buf_appendf(out, "# 160: provisioning URL\ndhcp-option=160,\"%s\"\n", o->url);
}

static void kea(const pv_dhcp_options *o, pv_buf *out)
{
    pv_buf_append_str(out, "{\n  \"Dhcp4\": {\n    \"option-def\": [\n");
    bool first = true;
    if (o->n_tftp) {
        pv_buf_append_str(out, "      { \"name\": \"cisco-tftp-servers\", \"code\": 150, "
                               "\"type\": \"ipv4-address\", \"array\": true, \"space\": "
                               "\"dhcp4\" }");
        first = false;
    }
    if (o->url)
        pv_buf_appendf(out,
                       "%s      { \"name\": \"provisioning-url\", \"code\": 160, "
                       "\"type\": \"string\", \"space\": \"dhcp4\" }",
                       first ? "" : ",\n");
    pv_buf_append_str(out, "\n    ],\n    \"option-data\": [\n");
    first = true;
    if (name66(o)) {
        pv_buf_appendf(out,
                       "      { \"name\": \"tftp-server-name\", \"code\": 66, \"data\": "
                       "\"%s\" }",
                       name66(o));
        first = false;
    }
    if (o->n_tftp) {
        pv_buf_appendf(out,
                       "%s      { \"name\": \"cisco-tftp-servers\", \"code\": 150, "
                       "\"data\": \"",
                       first ? "" : ",\n");
        for (size_t i = 0; i < o->n_tftp; i++)
            pv_buf_appendf(out, "%s%s", i ? ", " : "", o->tftp_servers[i]);
        pv_buf_append_str(out, "\" }");
        first = false;
    }
    if (o->url)
        pv_buf_appendf(out,
                       "%s      { \"name\": \"provisioning-url\", \"code\": 160, \"data\": "
                       "\"%s\" }",
                       first ? "" : ",\n", o->url);
    pv_buf_append_str(out, "\n    ]\n  }\n}\n");
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
