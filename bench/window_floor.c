/*
 * window_floor — the fastest a windowed TFTP read can go on this machine,
 * whatever the server: two processes on loopback play one window exchange
 * (RFC 7440) with nothing else to do. The sender answers each 4-byte ACK
 * with W datagrams of 4 + B bytes from memory in one UDP_SEGMENT send; the
 * receiver takes them with recvmmsg and sends the next ACK. No file, no
 * parsing, no timers: what is left is the kernel's UDP path and the wakeup of
 * each side by the other, which no TFTP server can avoid.
 *
 *   window_floor [-n windows] [-b blksize] [-w windowsize] [-s CPU] [-c CPU]
 *
 * -s and -c pin the sender and the receiver to a CPU: the same CPU for both,
 * or two CPUs, which shows what a wakeup across cores costs (on a virtual
 * machine, an exit to the hypervisor per wakeup). Prints one JSON line: the
 * microseconds per window round trip and the transfers per second of a
 * 50 MB file this floor allows. Loopback only; bounded by -n and a 60 s alarm.
 */
#include "net/tftp_sock.h"

#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_WINDOW 64
#define FILE_BYTES 50000000.0

static void pin(int cpu)
{
    if (cpu < 0)
        return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) {
        perror("sched_setaffinity");
        exit(1);
    }
}

static int udp_socket(struct sockaddr_in *bound)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int rcvbuf = 1 << 20;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) != 0 ||
        bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)bound, &len) != 0) {
        perror("socket");
        exit(1);
    }
    return fd;
}

/* The sender: one GSO send of the window per ACK, until an ACK of block 0. */
static void sender(int fd, const struct sockaddr_in *peer, unsigned blksize, unsigned window)
{
    size_t stride = 4 + (size_t)blksize;
    uint8_t *batch = calloc(window, stride);
    uint8_t ack[4];
    if (batch == NULL || connect(fd, (const struct sockaddr *)peer, sizeof *peer) != 0)
        exit(1);
    for (;;) {
        if (recv(fd, ack, sizeof ack, 0) != 4)
            continue;
        if (ack[2] == 0 && ack[3] == 0)
            exit(0);
        struct iovec iov = {batch, window * stride};
        if (pv__udp_send_segmented(fd, &iov, 1, (uint16_t)stride, 0) < 0) { /* as provisor */
            perror("sendmsg");
            exit(1);
        }
    }
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    unsigned long windows = 20000;
    unsigned blksize = 1428, window = 8;
    int sender_cpu = -1, receiver_cpu = -1, opt;
    while ((opt = getopt(argc, argv, "n:b:w:s:c:")) != -1) {
        switch (opt) {
        case 'n':
            windows = strtoul(optarg, NULL, 10);
            break;
        case 'b':
            blksize = (unsigned)atoi(optarg);
            break;
        case 'w':
            window = (unsigned)atoi(optarg);
            break;
        case 's':
            sender_cpu = atoi(optarg);
            break;
        case 'c':
            receiver_cpu = atoi(optarg);
            break;
        default:
            fprintf(stderr, "usage: window_floor [-n windows] [-b blksize] [-w windowsize] "
                            "[-s CPU] [-c CPU]\n");
            return 2;
        }
    }
    if (windows == 0 || windows > 1000000 || blksize < 8 || blksize > 8192 || window == 0 ||
        window > MAX_WINDOW || window * (4 + blksize) > 65000) {
        fprintf(stderr, "window_floor: 1 <= -n <= 1000000, 8 <= -b <= 8192, "
                        "1 <= -w <= 64, one window within 65000 bytes\n");
        return 2;
    }
    struct sockaddr_in sender_addr, receiver_addr;
    int sender_fd = udp_socket(&sender_addr);
    int receiver_fd = udp_socket(&receiver_addr);
    pid_t child = fork();
    if (child < 0)
        return 1;
    if (child == 0) {
        close(receiver_fd);
        alarm(60);
        pin(sender_cpu);
        sender(sender_fd, &receiver_addr, blksize, window);
    }
    close(sender_fd);
    alarm(60);
    pin(receiver_cpu);
    if (connect(receiver_fd, (struct sockaddr *)&sender_addr, sizeof sender_addr) != 0)
        return 1;
    static uint8_t bufs[MAX_WINDOW][8192 + 4];
    struct iovec iov[MAX_WINDOW];
    struct mmsghdr msgs[MAX_WINDOW];
    uint8_t ack[4] = {0, 4, 0, 1};
    double start = now_seconds();
    for (unsigned long i = 0; i < windows; i++) {
        if (send(receiver_fd, ack, sizeof ack, 0) != 4)
            return 1;
        for (unsigned got = 0; got < window;) {
            for (unsigned k = 0; k < window - got; k++) {
                iov[k] = (struct iovec){bufs[k], sizeof bufs[k]};
                msgs[k] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[k], .msg_iovlen = 1}};
            }
            int n = recvmmsg(receiver_fd, msgs, window - got, MSG_WAITFORONE, NULL);
            if (n < 0 && errno != EINTR)
                return 1;
            got += n > 0 ? (unsigned)n : 0;
        }
    }
    double elapsed = now_seconds() - start;
    ack[3] = 0;
    send(receiver_fd, ack, sizeof ack, 0); /* ACK 0: the sender ends */
    waitpid(child, NULL, 0);
    double per_window_us = elapsed / (double)windows * 1e6;
    double windows_per_file = FILE_BYTES / blksize / window;
    printf("{\"windows\":%lu,\"blksize\":%u,\"windowsize\":%u,\"sender_cpu\":%d,"
           "\"receiver_cpu\":%d,\"us_per_window\":%.2f,\"floor_transfers_per_second_50mb\":%.2f}\n",
           windows, blksize, window, sender_cpu, receiver_cpu, per_window_us,
           1e6 / (per_window_us * windows_per_file));
    return 0;
}
