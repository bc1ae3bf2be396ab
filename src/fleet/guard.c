/*
 * guard.c — the loopback guard (see guard.h).
 */
#include "fleet/guard.h"

#include "net/sockaddr.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

static bool sockaddr_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127; /* 127.0.0.0/8 */
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a))
            return true;
        /* ::ffff:127.x.y.z is IPv4 loopback too */
        return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
    }
    return false;
}

bool pv_fleet_guard_is_loopback(const char *address)
{
    char host[64];
    size_t n = strlen(address);
    if (n >= 2 && address[0] == '[' && address[n - 1] == ']') {
        address++;
        n -= 2;
    }
    if (n == 0 || n >= sizeof host)
        return false;
    memcpy(host, address, n);
    host[n] = '\0';
    struct sockaddr_in in4 = {.sin_family = AF_INET};
    struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
    if (inet_pton(AF_INET, host, &in4.sin_addr) == 1)
        return sockaddr_loopback((struct sockaddr *)&in4);
    if (inet_pton(AF_INET6, host, &in6.sin6_addr) == 1)
        return sockaddr_loopback((struct sockaddr *)&in6);
    return false;
}

bool pv_fleet_guard_private_netns(void)
{
    struct stat self, init;
    if (stat("/proc/self/ns/net", &self) != 0 || stat("/proc/1/ns/net", &init) != 0)
        return false; /* cannot tell: assume the host's namespace */
    return self.st_ino != init.st_ino || self.st_dev != init.st_dev;
}

/* Splits scheme://host[:port]/... into host (brackets removed). */
static int url_host(const char *url, char *host, size_t size, pv_error *err)
{
    const char *p = strstr(url, "://");
    if (p == NULL)
        return pv_error_set(err, PV_ESYNTAX, "server '%s': expected scheme://host[:port]", url);
    p += 3;
    size_t n;
    if (*p == '[') {
        const char *close = strchr(p, ']');
        if (close == NULL)
            return pv_error_set(err, PV_ESYNTAX, "server '%s': unclosed '[' in the host", url);
        p++;
        n = (size_t)(close - p);
    } else {
        n = strcspn(p, ":/?");
    }
    if (n == 0 || n >= size)
        return pv_error_set(err, PV_ESYNTAX, "server '%s': no host", url);
    memcpy(host, p, n);
    host[n] = '\0';
    return 0;
}

int pv_fleet_guard_url(const char *url, pv_error *err)
{
    char host[256];
    int rc = url_host(url, host, sizeof host, err);
    if (rc != 0)
        return rc;
    if (pv_fleet_guard_private_netns())
        return 0; /* a test's own namespace reaches only what the test wired */
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    int gai = getaddrinfo(host, NULL, &hints, &res);
    if (gai != 0)
        return pv_error_set(err, PV_EACCES, "server '%s': cannot resolve '%s' (%s)", url, host,
                            gai_strerror(gai));
    rc = 0;
    for (struct addrinfo *ai = res; ai != NULL && rc == 0; ai = ai->ai_next) {
        if (!sockaddr_loopback(ai->ai_addr)) {
            char text[PV_SOCKADDR_TEXT_MAX] = "?";
            (void)pv_sockaddr_host(ai->ai_addr, text, sizeof text);
            rc = pv_error_set(err, PV_EACCES,
                              "server '%s': %s resolves to %s, which is not loopback; a fleet "
                              "sends load only to 127.0.0.0/8, ::1, or inside a network "
                              "namespace of its own (unshare -n, ip netns exec)",
                              url, host, text);
        }
    }
    freeaddrinfo(res);
    return rc;
}
