/* sockaddr.c — socket addresses as text; see sockaddr.h. */
#include "net/sockaddr.h"

#include <arpa/inet.h>
#include <assert.h>
#include <stdio.h>

bool pv_sockaddr_host(const struct sockaddr *sa, char *out, size_t size)
{
    assert(out != NULL && size > 0);
    char host[INET6_ADDRSTRLEN];
    const char *ok = NULL;
    if (sa != NULL && sa->sa_family == AF_INET)
        ok = inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, host, sizeof host);
    else if (sa != NULL && sa->sa_family == AF_INET6)
        ok = inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, host, sizeof host);
    if (ok == NULL)
        return false;
    int n = snprintf(out, size, "%s", host);
    return n >= 0 && (size_t)n < size;
}

const char *pv_sockaddr_text(const struct sockaddr *sa, char *out, size_t size)
{
    assert(out != NULL && size > 0);
    char host[INET6_ADDRSTRLEN];
    int n = -1;
    if (pv_sockaddr_host(sa, host, sizeof host)) {
        if (sa->sa_family == AF_INET6)
            n = snprintf(out, size, "[%s]:%u", host,
                         ntohs(((const struct sockaddr_in6 *)sa)->sin6_port));
        else
            n = snprintf(out, size, "%s:%u", host, ntohs(((const struct sockaddr_in *)sa)->sin_port));
    }
    if (n < 0 || (size_t)n >= size)
        snprintf(out, size, "-"); /* unknown, or a buffer too small for the whole address */
    return out;
}
