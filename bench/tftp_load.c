/*
 * tftp_load — a TFTP load generator for bench/: keeps C concurrent read
 * transfers of one file running against a server for D seconds (or N
 * transfers), and prints transfers per second, bytes per second and latency
 * percentiles as one JSON line. Loopback only: it refuses any other target.
 *
 *   tftp_load -p PORT -f FILE [-c 200] [-d 10] [-n max] [-b blksize] [-w windowsize]
 *
 * An epoll(7) loop over one UDP socket per slot, woken only for the slots
 * that have something to read: the client must cost far less than the
 * servers it measures, since it shares the machine's cores with them
 * (RFC 1350, 2347, 2348, 7440).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

enum { OP_RRQ = 1, OP_DATA = 3, OP_ACK = 4, OP_ERROR = 5, OP_OACK = 6 };

typedef struct slot {
    int fd;
    struct sockaddr_in server_tid; /* the transfer's port, learnt from the first answer */
    int have_tid;
    unsigned expected_block; /* next DATA block wanted, modulo 65536 */
    size_t blksize;
    unsigned window;
    double started, last_activity;
    uint64_t bytes;
} slot;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct sockaddr_in target;
static const char *file_name;
static unsigned opt_blksize, opt_windowsize;
/* Receive batch: up to RX_BATCH datagrams per recvmmsg. */
#define RX_BATCH 16
static unsigned char rx_buf[RX_BATCH][65536];
static struct sockaddr_in rx_from[RX_BATCH];
static struct iovec rx_iov[RX_BATCH];
static struct mmsghdr rx_msg[RX_BATCH];
static double *latencies;
static size_t latency_count, latency_cap;
static uint64_t completed, failed, total_bytes, max_transfers;

static void send_rrq(slot *s)
{
    char pkt[600];
    size_t len = 0;
    pkt[len++] = 0;
    pkt[len++] = OP_RRQ;
    len += (size_t)snprintf(pkt + len, sizeof pkt - len, "%s", file_name) + 1;
    len += (size_t)snprintf(pkt + len, sizeof pkt - len, "octet") + 1;
    if (opt_blksize) {
        len += (size_t)snprintf(pkt + len, sizeof pkt - len, "blksize") + 1;
        len += (size_t)snprintf(pkt + len, sizeof pkt - len, "%u", opt_blksize) + 1;
    }
    if (opt_windowsize) {
        len += (size_t)snprintf(pkt + len, sizeof pkt - len, "windowsize") + 1;
        len += (size_t)snprintf(pkt + len, sizeof pkt - len, "%u", opt_windowsize) + 1;
    }
    s->have_tid = 0;
    s->expected_block = 1;
    s->blksize = 512;
    s->window = 1;
    s->bytes = 0;
    s->started = s->last_activity = now_seconds();
    sendto(s->fd, pkt, len, 0, (struct sockaddr *)&target, sizeof target);
}

static void send_ack(slot *s, unsigned block)
{
    unsigned char ack[4] = {0, OP_ACK, (unsigned char)(block >> 8), (unsigned char)block};
    sendto(s->fd, ack, 4, 0, (struct sockaddr *)&s->server_tid, sizeof s->server_tid);
}

static void finish(slot *s, int ok)
{
    if (ok) {
        completed++;
        total_bytes += s->bytes;
        if (latency_count == latency_cap) {
            latency_cap = latency_cap ? latency_cap * 2 : 4096;
            latencies = realloc(latencies, latency_cap * sizeof *latencies);
            if (latencies == NULL)
                abort();
        }
        latencies[latency_count++] = now_seconds() - s->started;
    } else {
        failed++;
    }
}

/* Parses an OACK's options into the slot. */
static void apply_oack(slot *s, const unsigned char *p, size_t n)
{
    size_t i = 2;
    while (i < n) {
        const char *name = (const char *)p + i;
        size_t name_len = strnlen(name, n - i);
        i += name_len + 1;
        if (i >= n)
            break;
        const char *value = (const char *)p + i;
        i += strnlen(value, n - i) + 1;
        if (strcasecmp(name, "blksize") == 0)
            s->blksize = (size_t)atoi(value);
        else if (strcasecmp(name, "windowsize") == 0)
            s->window = (unsigned)atoi(value);
    }
}

/* Returns 1 when the transfer ended (well or badly). */
static int on_packet(slot *s, const unsigned char *p, size_t n, struct sockaddr_in *from)
{
    if (n < 4)
        return 0;
    if (!s->have_tid) {
        s->server_tid = *from;
        s->have_tid = 1;
    } else if (from->sin_port != s->server_tid.sin_port) {
        return 0; /* RFC 1350 §4: a stray TID; a real client answers ERROR 5 */
    }
    s->last_activity = now_seconds();
    unsigned op = (unsigned)(p[0] << 8 | p[1]);
    if (op == OP_ERROR) {
        finish(s, 0);
        return 1;
    }
    if (op == OP_OACK) {
        apply_oack(s, p, n);
        send_ack(s, 0);
        return 0;
    }
    if (op != OP_DATA)
        return 0;
    unsigned block = (unsigned)(p[2] << 8 | p[3]);
    if (block != (s->expected_block & 0xffff)) {
        /* Out of order or repeated: ask again from the last good block. */
        send_ack(s, (s->expected_block - 1) & 0xffff);
        return 0;
    }
    size_t payload = n - 4;
    s->bytes += payload;
    int last = payload < s->blksize;
    if (last || s->window <= 1 || s->expected_block % s->window == 0)
        send_ack(s, block);
    s->expected_block++;
    if (last) {
        finish(s, 1);
        return 1;
    }
    return 0;
}

/* A fresh socket for slot i, watched by ep: the next transfer gets a fresh TID. */
static int open_slot(int ep, slot *s, unsigned i)
{
    s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0) {
        perror("socket");
        return -1;
    }
    int rcvbuf = 1 << 20;
    setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
    return epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev);
}

/* A transfer ended: start the next one in its slot, or retire the slot when stopping. */
static void next_transfer(int ep, slot *s, unsigned i, int *stopping, unsigned *active)
{
    if (max_transfers && completed + failed >= max_transfers)
        *stopping = 1;
    close(s->fd); /* also leaves the epoll set */
    s->fd = -1;
    if (*stopping) {
        (*active)--;
        return;
    }
    if (open_slot(ep, s, i) == 0)
        send_rrq(s);
    else
        (*active)--;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double percentile(double p)
{
    if (latency_count == 0)
        return 0;
    size_t i = (size_t)(p * (double)(latency_count - 1));
    return latencies[i] * 1000;
}

int main(int argc, char **argv)
{
    unsigned concurrency = 200, port = 0;
    double duration = 10;
    const char *host = "127.0.0.1";
    int c;
    while ((c = getopt(argc, argv, "h:p:f:c:d:n:b:w:")) != -1) {
        switch (c) {
        case 'h':
            host = optarg;
            break;
        case 'p':
            port = (unsigned)atoi(optarg);
            break;
        case 'f':
            file_name = optarg;
            break;
        case 'c':
            concurrency = (unsigned)atoi(optarg);
            break;
        case 'd':
            duration = atof(optarg);
            break;
        case 'n':
            max_transfers = strtoull(optarg, NULL, 10);
            break;
        case 'b':
            opt_blksize = (unsigned)atoi(optarg);
            break;
        case 'w':
            opt_windowsize = (unsigned)atoi(optarg);
            break;
        default:
            fprintf(stderr,
                    "usage: tftp_load -p PORT -f FILE [-c N] [-d S] [-n N] [-b B] [-w W]\n");
            return 2;
        }
    }
    memset(&target, 0, sizeof target);
    target.sin_family = AF_INET;
    target.sin_port = htons((uint16_t)port);
    if (port == 0 || file_name == NULL || inet_pton(AF_INET, host, &target.sin_addr) != 1 ||
        (ntohl(target.sin_addr.s_addr) >> 24) != 127 || concurrency == 0 || duration <= 0 ||
        duration > 600) {
        fprintf(stderr, "tftp_load: need -p PORT -f FILE, a 127.0.0.0/8 host, 0 < -d <= 600\n");
        return 2;
    }
    slot *slots = calloc(concurrency, sizeof *slots);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (slots == NULL || ep < 0)
        return 1;
    for (unsigned i = 0; i < concurrency; i++) {
        if (open_slot(ep, &slots[i], i) != 0)
            return 1;
        send_rrq(&slots[i]);
    }
    double start = now_seconds(), end = start + duration, last_sweep = start;
    struct epoll_event events[256];
    int stopping = 0;
    unsigned active = concurrency;
    while (active > 0) {
        double t = now_seconds();
        if (t >= end + 5)
            break; /* hard stop: never run past the bound */
        if (t >= end || (max_transfers && completed + failed >= max_transfers))
            stopping = 1;
        int ready = epoll_wait(ep, events, 256, 100);
        if (ready < 0 && errno != EINTR)
            break;
        for (int e = 0; e < ready; e++) {
            slot *s = &slots[events[e].data.u32];
            if (s->fd < 0)
                continue;
            int ended = 0;
            /* Lockstep transfers have one packet per wakeup, and epoll is level-triggered:
             * reading on until EAGAIN would only add a failing recvfrom per packet. A
             * window arrives as a burst: recvmmsg takes it with one call, so that the
             * client's share of the two cores stays small beside the server it measures. */
            unsigned want = s->window > 1 ? RX_BATCH : 1;
            for (int round = 0; round < 64 && !ended; round++) {
                for (unsigned k = 0; k < want; k++) {
                    rx_iov[k] = (struct iovec){rx_buf[k], sizeof rx_buf[k]};
                    rx_msg[k] = (struct mmsghdr){.msg_hdr = {.msg_name = &rx_from[k],
                                                             .msg_namelen = sizeof rx_from[k],
                                                             .msg_iov = &rx_iov[k],
                                                             .msg_iovlen = 1}};
                }
                int got = recvmmsg(s->fd, rx_msg, want, MSG_DONTWAIT, NULL);
                if (got <= 0)
                    break;
                for (int k = 0; k < got && !ended; k++)
                    ended = on_packet(s, rx_buf[k], rx_msg[k].msg_len, &rx_from[k]);
                if ((unsigned)got < want)
                    break;
            }
            if (ended)
                next_transfer(ep, s, events[e].data.u32, &stopping, &active);
        }
        /* A transfer silent for 2 s is lost: it counts as a failure. */
        t = now_seconds();
        if (t - last_sweep >= 0.25) {
            last_sweep = t;
            for (unsigned i = 0; i < concurrency; i++) {
                if (slots[i].fd >= 0 && t - slots[i].last_activity > 2.0) {
                    finish(&slots[i], 0);
                    next_transfer(ep, &slots[i], i, &stopping, &active);
                }
            }
        }
    }
    double elapsed = now_seconds() - start;
    qsort(latencies, latency_count, sizeof *latencies, cmp_double);
    printf("{\"transfers\":%llu,\"failed\":%llu,\"seconds\":%.3f,\"transfers_per_second\":%.1f,"
           "\"bytes_per_second\":%.0f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"concurrency\":%u}\n",
           (unsigned long long)completed, (unsigned long long)failed, elapsed,
           (double)completed / elapsed, (double)total_bytes / elapsed, percentile(0.5),
           percentile(0.99), concurrency);
    return 0;
}
