/* sd_notify.c — the sd_notify(3) datagram, written by hand; see sd_notify.h. */
#include "server/sd_notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int pv_sd_notify(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (path == NULL || path[0] == '\0')
        return 0;
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    size_t len = strlen(path);
    /* A path or "@abstract" (sd_notify(3)); other address kinds (vsock:) are not ours. */
    if ((path[0] != '/' && path[0] != '@') || len >= sizeof addr.sun_path)
        return -1;
    memcpy(addr.sun_path, path, len);
    if (path[0] == '@')
        addr.sun_path[0] = '\0'; /* the abstract namespace: no NUL terminator counted */
    socklen_t addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
                                     (path[0] == '@' ? 0 : 1));
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    ssize_t n;
    do
        n = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&addr, addr_len);
    while (n < 0 && errno == EINTR);
    close(fd);
    return n == (ssize_t)strlen(state) ? 1 : -1;
}

uint64_t pv_sd_watchdog_usec(void)
{
    const char *usec = getenv("WATCHDOG_USEC");
    if (usec == NULL || usec[0] < '1' || usec[0] > '9')
        return 0;
    const char *pid = getenv("WATCHDOG_PID");
    if (pid != NULL && pid[0] != '\0' && strtol(pid, NULL, 10) != (long)getpid())
        return 0; /* meant for another process of the service */
    char *end = NULL;
    unsigned long long v = strtoull(usec, &end, 10);
    return *end == '\0' ? (uint64_t)v : 0;
}
