/*
 * Tests for net/tftp_server against real peers on loopback: atftp, tftp-hpa
 * and curl as subprocesses, and a raw UDP socket for what no polite client
 * sends. The server runs on its own uv loop in a thread, serving a temporary
 * directory through the static file handler (net/fileserver).
 */
/* Covers src/net/tftp_server.c, tftp_transfer.c, tftp_send.c (the read side's windows),
 * tftp_body.c and tftp_sock.c. */
#include "pv_test.h"

#include "core/alloc.h"
#include "core/log.h"
#include "net/fileserver.h"
#include "net/metrics.h"
#include "net/tftp_packet.h"
#include "net/tftp_server.h"
#include "net/tftp_transfer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#define BIG (50 * 1000 * 1000)

static char root[64], uploads[64], work[64];
static pv_fileserver fs;
static uv_loop_t loop;
static uv_async_t wake;
static pthread_t thread;
static pv_tftp_server *server4, *server6, *server_any;
static int port4, port6, port_any, fds_before;
static bool closed_done;

/* ---- running code on the server's loop ------------------------------------ */

static void (*loop_fn)(void *);
static void *loop_arg;
static sem_t loop_sem;

static void on_wake(uv_async_t *a)
{
    if (loop_fn) {
        loop_fn(loop_arg);
        loop_fn = NULL;
        sem_post(&loop_sem);
    }
}

static void on_loop(void (*fn)(void *), void *arg)
{
    loop_arg = arg; /* before fn: a wakeup already on its way may run fn at once */
    loop_fn = fn;
    uv_async_send(&wake);
    /* A loop that does not run fn within a minute is stuck: say so rather than hang. */
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 60;
    while (sem_timedwait(&loop_sem, &deadline) != 0) {
        if (errno != EINTR) {
            fprintf(stderr, "the server's loop did not run a call within 60 s\n");
            abort();
        }
    }
}

static void *loop_thread(void *arg)
{
    uv_run(&loop, UV_RUN_DEFAULT);
    return NULL;
}

/* ---- captured log lines ---------------------------------------------------- */

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static pv_buf logs;

static void capture_log(pv_log_level level, const char *line, size_t len, void *data)
{
    pthread_mutex_lock(&log_mu);
    pv_buf_append(&logs, line, len);
    pv_buf_append_char(&logs, '\n');
    pthread_mutex_unlock(&log_mu);
}

static bool line_has_all(const char *line, const char *first, va_list ap)
{
    for (const char *n = first; n; n = va_arg(ap, const char *)) {
        if (strstr(line, n) == NULL)
            return false;
    }
    return true;
}

/* True if one captured line now contains every needle (NULL-terminated list). */
static bool logged_va(const char *first, va_list ap)
{
    pthread_mutex_lock(&log_mu);
    char *text = pv_strdup(logs.data ? logs.data : "");
    pthread_mutex_unlock(&log_mu);
    bool found = false;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line && !found;
         line = strtok_r(NULL, "\n", &save)) {
        va_list each;
        va_copy(each, ap);
        found = line_has_all(line, first, each);
        va_end(each);
    }
    free(text);
    return found;
}

/* True once one captured line contains every needle (NULL-terminated list).
 * Waits up to 30 s: a peer may be told before the transfer's line is written, and a busy
 * machine may take a while to write it. */
static bool logged(const char *first, ...)
{
    for (int attempt = 0; attempt < 1500; attempt++) {
        va_list ap;
        va_start(ap, first);
        bool found = logged_va(first, ap);
        va_end(ap);
        if (found)
            return true;
        usleep(20000);
    }
    return false;
}

/* True if a line is already there: for asserting that something was never logged, once the
 * caller has waited for what would have logged it (a negative wait of 30 s would only slow
 * the suite, and on a busy machine push it past its time limit). */
static bool logged_already(const char *first, ...)
{
    va_list ap;
    va_start(ap, first);
    bool found = logged_va(first, ap);
    va_end(ap);
    return found;
}

/* ---- files ----------------------------------------------------------------- */

static void make_file(const char *dir, const char *name, size_t size)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    uint32_t x = 2463534242u ^ (uint32_t)size;
    char chunk[65536];
    for (size_t done = 0; done < size;) {
        for (size_t i = 0; i < sizeof chunk; i++) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5; /* xorshift: incompressible */
            chunk[i] = (char)x;
        }
        size_t n = size - done < sizeof chunk ? size - done : sizeof chunk;
        fwrite(chunk, 1, n, f);
        done += n;
    }
    fclose(f);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    pv_buf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        pv_buf_append(&b, chunk, n);
    fclose(f);
    return pv_buf_take(&b, len);
}

static void assert_same_file(const char *a, const char *b)
{
    size_t la = 0, lb = 0;
    char *x = slurp(a, &la), *y = slurp(b, &lb);
    assert_non_null(x);
    assert_non_null(y);
    assert_int_equal(la, lb);
    assert_true(memcmp(x, y, la) == 0);
    free(x);
    free(y);
}

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

/* ---- fixture --------------------------------------------------------------- */

static void on_closed(void *data)
{
    closed_done = true;
}

static void close_servers(void *arg)
{
    pv_tftp_server_close(server4, 2000, on_closed, NULL);
    pv_tftp_server_close(server6, 0, NULL, NULL);
    pv_tftp_server_close(server_any, 0, NULL, NULL);
    uv_close((uv_handle_t *)&wake, NULL);
}

static pv_tftp_limits test_limits(void)
{
    pv_tftp_limits lim;
    pv_tftp_limits_default(&lim);
    lim.timeout_ms = 200;
    lim.max_retries = 3;
    lim.requests_per_second = 1000;
    lim.max_upload_bytes = 100000;
    return lim;
}

static int count_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 4096; fd++)
        n += fcntl(fd, F_GETFD) != -1;
    return n;
}

static int setup(void **state)
{
    /* libuv opens a process-wide pipe with its first loop: count after it. */
    uv_loop_t first;
    uv_loop_init(&first);
    uv_loop_close(&first);
    fds_before = count_fds();
    snprintf(root, sizeof root, "/tmp/pv-tftp-XXXXXX");
    snprintf(uploads, sizeof uploads, "/tmp/pv-tftpup-XXXXXX");
    snprintf(work, sizeof work, "/tmp/pv-tftpw-XXXXXX");
    if (!mkdtemp(root) || !mkdtemp(uploads) || !mkdtemp(work))
        return -1;
    const size_t sizes[] = {0, 511, 512, 513, 5000};
    for (size_t i = 0; i < 5; i++) {
        char name[32];
        snprintf(name, sizeof name, "f%zu", sizes[i]);
        make_file(root, name, sizes[i]);
    }
    make_file(root, "big", BIG);
    char p[256];
    snprintf(p, sizeof p, "%s/text.txt", root);
    FILE *f = fopen(p, "wb");
    fputs("line1\nbare\rcr\n", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/out", root);
    symlink("/etc/passwd", p);
    pv_log_set_sink(capture_log, NULL);
    if (pv_fileserver_init(&fs, root, uploads, NULL) != 0)
        return -1;
    fs.wall_clock = pv_test_clock;
    uv_loop_init(&loop);
    uv_async_init(&loop, &wake, on_wake);
    sem_init(&loop_sem, 0, 0);
    pv_tftp_limits lim = test_limits();
    pv_error err;
    pv_tftp_server_options o4 = {.address = "127.0.0.1:0", .handler = &fs.handler, .limits = &lim};
    pv_tftp_server_options o6 = {.address = "[::1]:0", .handler = &fs.handler, .limits = &lim};
    pv_tftp_server_options oany = {.address = ":0", .handler = &fs.handler, .limits = &lim};
    if (pv_tftp_server_new(&loop, &o4, &server4, &err) != 0 ||
        pv_tftp_server_new(&loop, &o6, &server6, &err) != 0 ||
        pv_tftp_server_new(&loop, &oany, &server_any, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    port4 = atoi(strrchr(pv_tftp_server_address(server4), ':') + 1);
    port6 = atoi(strrchr(pv_tftp_server_address(server6), ':') + 1);
    port_any = atoi(strrchr(pv_tftp_server_address(server_any), ':') + 1);
    return pthread_create(&thread, NULL, loop_thread, NULL);
}

static int teardown(void **state)
{
    on_loop(close_servers, NULL);
    /* The loop ends when the servers' last handle is closed. If one stays open, say which
     * (a hang to the suite's time limit would say nothing) and fail. */
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 60;
    if (pthread_timedjoin_np(thread, NULL, &deadline) != 0) {
        fprintf(stderr, "the loop did not end within 60 s of closing the servers; still open:\n");
        uv_print_all_handles(&loop, stderr);
        return -1;
    }
    int rc = closed_done ? 0 : -1;
    uv_loop_close(&loop);
    pv_fileserver_free(&fs);
    pv_log_set_sink(NULL, NULL);
    pv_buf_free(&logs);
    run("rm -rf '%s' '%s' '%s'", root, uploads, work);
    if (count_fds() != fds_before) {
        fprintf(stderr, "descriptor leak: %d open before, %d after\n", fds_before, count_fds());
        rc = -1;
    }
    return rc;
}

/* ---- raw UDP client ----------------------------------------------------------- */

static int raw_socket(int family)
{
    int s = socket(family, SOCK_DGRAM, 0);
    assert_true(s >= 0);
    return s;
}

static struct sockaddr_in server_addr(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port4)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    return a;
}

static void raw_send_to(int s, const struct sockaddr_in *to, const void *data, size_t len)
{
    assert_int_equal(sendto(s, data, len, 0, (const struct sockaddr *)to, sizeof *to),
                     (ssize_t)len);
}

static void raw_send(int s, const void *data, size_t len)
{
    struct sockaddr_in a = server_addr();
    raw_send_to(s, &a, data, len);
}

/* Receives one datagram within ms; its length, or -1 on silence. */
static ssize_t raw_recv(int s, uint8_t *buf, size_t cap, int ms, struct sockaddr_in *from)
{
    struct pollfd p = {.fd = s, .events = POLLIN};
    if (poll(&p, 1, ms) <= 0)
        return -1;
    socklen_t fl = sizeof *from;
    return recvfrom(s, buf, cap, 0, (struct sockaddr *)from, &fl);
}

static void raw_request(int s, pv_tftp_opcode op, const char *file, const char *mode,
                        const pv_tftp_option *opts, size_t n)
{
    pv_buf b = {0};
    pv_tftp_build_request(&b, op, pv_slice_from(file), pv_slice_from(mode), opts, n);
    raw_send(s, b.data, b.len);
    pv_buf_free(&b);
}

static void raw_ack(int s, const struct sockaddr_in *to, uint16_t block)
{
    uint8_t a[4];
    pv_tftp_put_header(a, PV_TFTP_ACK, block);
    raw_send_to(s, to, a, 4);
}

/* Expects an ERROR with this code whose message contains text. */
static void expect_error(int s, uint16_t code, const char *text)
{
    uint8_t buf[1024];
    struct sockaddr_in from;
    ssize_t n = raw_recv(s, buf, sizeof buf, 2000, &from);
    assert_true(n > 0);
    pv_tftp_packet pkt;
    assert_int_equal(pv_tftp_parse(buf, (size_t)n, &pkt, NULL), 0);
    assert_int_equal(pkt.opcode, PV_TFTP_ERROR);
    char *msg = pv_slice_dup(pkt.error_message);
    if (pkt.error_code != code || strstr(msg, text) == NULL)
        fail_msg("ERROR %u '%s', expected %u '%s'", pkt.error_code, msg, code, text);
    free(msg);
}

/* Proves the server still serves: a whole lockstep RRQ of f513. */
static void expect_still_serving(void)
{
    int s = raw_socket(AF_INET);
    raw_request(s, PV_TFTP_RRQ, "f513", "octet", NULL, 0);
    uint8_t buf[1024];
    struct sockaddr_in from;
    size_t total = 0;
    for (uint16_t want = 1;; want++) {
        ssize_t n = raw_recv(s, buf, sizeof buf, 2000, &from);
        assert_true(n >= 4);
        assert_int_equal(buf[1], PV_TFTP_DATA);
        assert_int_equal((buf[2] << 8) | buf[3], want);
        total += (size_t)n - 4;
        raw_ack(s, &from, want);
        if (n < 4 + 512)
            break;
    }
    assert_int_equal(total, 513);
    close(s);
}

/* ---- real peers ---------------------------------------------------------------- */

static void got(const char *name)
{
    char a[256], b[256];
    snprintf(a, sizeof a, "%s/%s", root, name);
    snprintf(b, sizeof b, "%s/%s", work, name);
    assert_same_file(a, b);
    unlink(b);
}

static void atftp_gets_files(void **state)
{
    const char *names[] = {"f0", "f511", "f512", "f513"};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(run("cd %s && timeout 20 atftp -g -r %s -l %s 127.0.0.1 %d 2>/dev/null",
                             work, names[i], names[i], port4),
                         0);
        got(names[i]);
        assert_int_equal(run("cd %s && timeout 20 atftp --option 'blksize 1428' --option 'tsize 0' "
                             "--option 'timeout 2' --option 'windowsize 8' -g -r %s -l %s "
                             "127.0.0.1 %d 2>/dev/null",
                             work, names[i], names[i], port4),
                         0);
        got(names[i]);
    }
    assert_true(logged("event=tftp.transfer", "method=RRQ", "path=f513", "status=200", "bytes=513",
                       "blksize=1428", "windowsize=8", "retransmits=0", "duration=", NULL));
}

static void atftp_gets_50mb_with_windows(void **state)
{
    assert_int_equal(run("cd %s && timeout 30 atftp --option 'blksize 1428' --option 'tsize 0' "
                         "--option 'timeout 2' --option 'windowsize 8' -g -r big -l big "
                         "127.0.0.1 %d 2>/dev/null",
                         work, port4),
                     0);
    got("big");
    assert_true(logged("path=big", "status=200", "bytes=50000000", NULL));
}

static void set_gso(void *arg)
{
    server4->no_gso = arg == NULL;
}

/* A window goes out as one batch: one UDP_SEGMENT send, or one sendmmsg where the kernel
 * refuses segmentation offload; from the file and from the small-file cache alike. */
static void windows_go_out_in_batches(void **state)
{
    pv_test_clock_advance(2); /* the files settle: the second round comes from the small-file cache */
    const char *names[] = {"f0", "f511", "f512", "f513", "f5000"};
    for (int gso = 0; gso < 2; gso++) {
        on_loop(set_gso, gso ? "on" : NULL);
        for (size_t i = 0; i < 5; i++) {
            assert_int_equal(run("cd %s && timeout 20 atftp --option 'blksize 512' --option "
                                 "'windowsize 8' -g -r %s -l %s 127.0.0.1 %d 2>/dev/null",
                                 work, names[i], names[i], port4),
                             0);
            got(names[i]);
        }
    }
    bool ok = logged("path=f5000", "status=200", "bytes=5000", "blksize=512", "windowsize=8",
                     "retransmits=0", NULL);
    if (!ok)
        fprintf(stderr, "%s", logs.data);
    assert_true(ok);
}

static void tftp_hpa_gets_files_and_rolls_over(void **state)
{
    const char *names[] = {"f0", "f511", "f512", "f513"};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(
            run("cd %s && timeout 20 tftp 127.0.0.1 %d -m binary -c get %s", work, port4, names[i]),
            0);
        got(names[i]);
    }
    /* 50 MB in 512-byte blocks: 97657 blocks, the block number wraps past 65535. */
    assert_int_equal(run("cd %s && timeout 40 tftp 127.0.0.1 %d -m binary -c get big", work, port4),
                     0);
    got("big");
    assert_true(logged("path=big", "status=200", "blksize=512", "bytes=50000000", NULL));
    /* IPv6 */
    assert_int_equal(run("cd %s && timeout 20 tftp -6 ::1 %d -m binary -c get f513", work, port6),
                     0);
    got("f513");
}

static void curl_gets_files(void **state)
{
    const char *names[] = {"f0", "f511", "f512", "f513"};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(run("cd %s && timeout 20 curl -sf -o %s tftp://127.0.0.1:%d/%s", work,
                             names[i], port4, names[i]),
                         0);
        got(names[i]);
        assert_int_equal(run("cd %s && timeout 20 curl -sf --tftp-blksize 1024 -o %s "
                             "'tftp://[::1]:%d/%s'",
                             work, names[i], port6, names[i]),
                         0);
        got(names[i]);
    }
    assert_int_equal(run("cd %s && timeout 30 curl -sf --tftp-blksize 8192 -o big "
                         "tftp://127.0.0.1:%d/big",
                         work, port4),
                     0);
    got("big");
    /* A wildcard listener answers from the address the request came to
     * (IP_PKTINFO), or curl would not accept the reply. */
    assert_int_equal(
        run("cd %s && timeout 20 curl -sf -o f513 tftp://127.0.0.2:%d/f513", work, port_any), 0);
    got("f513");
    /* curl reports a TFTP error as exit code 68 (file not found). */
    assert_int_not_equal(
        run("cd %s && timeout 20 curl -sf -o x tftp://127.0.0.1:%d/missing", work, port4), 0);
    assert_true(logged("path=missing", "status=404", NULL));
}

static void uploads_reach_the_handler(void **state)
{
    char local[256], stored[256];
    snprintf(local, sizeof local, "%s/report.xml", work);
    FILE *f = fopen(local, "wb");
    for (int i = 0; i < 300; i++)
        fprintf(f, "<status line=\"%d\"/>\n", i);
    fclose(f);
    assert_int_equal(run("cd %s && timeout 20 atftp -p -l report.xml -r report.xml 127.0.0.1 %d "
                         "2>/dev/null",
                         work, port4),
                     0);
    snprintf(stored, sizeof stored, "%s/127.0.0.1-report.xml", uploads);
    assert_same_file(local, stored);
    unlink(stored);
    assert_int_equal(
        run("cd %s && timeout 20 curl -sf -T report.xml tftp://127.0.0.1:%d/", work, port4), 0);
    assert_same_file(local, stored);
    assert_true(logged("method=WRQ", "path=report.xml", "status=201", NULL));
    /* Larger than max_upload_bytes (100000): refused as Disk full. */
    make_file(work, "huge", 200000);
    assert_int_not_equal(
        run("cd %s && timeout 20 curl -sf -T huge tftp://127.0.0.1:%d/", work, port4), 0);
    assert_true(logged("method=WRQ", "path=huge", "status=413", NULL));
}

/* ---- bad input ----------------------------------------------------------------- */

static void bad_packets_get_errors(void **state)
{
    int s = raw_socket(AF_INET);
    raw_send(s, "\0", 1);
    expect_error(s, PV_TFTP_EBADOP, "malformed request");
    raw_send(s, "\0\1f513", 6);
    expect_error(s, PV_TFTP_EBADOP, "not NUL-terminated");
    uint8_t big[2000];
    memset(big, 'a', sizeof big);
    big[0] = 0, big[1] = 1;
    raw_send(s, big, sizeof big);
    expect_error(s, PV_TFTP_EBADOP, "at most 512");
    raw_send(s, "\x47\x45\x54 / HTTP/1.0\r\n\r\n", 18);
    expect_error(s, PV_TFTP_EBADOP, "unknown opcode");
    raw_send(s, "\0\11abc", 5);
    expect_error(s, PV_TFTP_EBADOP, "unknown opcode 9");
    raw_send(s, "\0\4\0\1", 4);
    expect_error(s, PV_TFTP_EBADOP, "expected RRQ or WRQ, got ACK");
    raw_request(s, PV_TFTP_RRQ, "f513", "mail", NULL, 0);
    expect_error(s, PV_TFTP_EBADOP, "mode 'mail'");
    /* An option flood. */
    pv_tftp_option opts[20];
    char names[20][8];
    for (int i = 0; i < 20; i++) {
        snprintf(names[i], sizeof names[i], "x%d", i);
        opts[i] = (pv_tftp_option){pv_slice_from(names[i]), PV_SLICE_LIT("1")};
    }
    raw_request(s, PV_TFTP_RRQ, "f513", "octet", opts, 20);
    expect_error(s, PV_TFTP_EOPTNEG, "too many options");
    /* Bad option values: ERROR 8. */
    pv_tftp_option bad[] = {{PV_SLICE_LIT("blksize"), PV_SLICE_LIT("4")}};
    raw_request(s, PV_TFTP_RRQ, "f513", "octet", bad, 1);
    expect_error(s, PV_TFTP_EOPTNEG, "blksize");
    pv_tftp_option bad_t[] = {{PV_SLICE_LIT("timeout"), PV_SLICE_LIT("0")}};
    raw_request(s, PV_TFTP_RRQ, "f513", "octet", bad_t, 1);
    expect_error(s, PV_TFTP_EOPTNEG, "timeout");
    /* Unknown options are ignored: no OACK, data directly. */
    pv_tftp_option unknown[] = {{PV_SLICE_LIT("multicast"), PV_SLICE_LIT("")}};
    raw_request(s, PV_TFTP_RRQ, "f0", "octet", unknown, 1);
    uint8_t buf[600];
    struct sockaddr_in from;
    ssize_t n = raw_recv(s, buf, sizeof buf, 2000, &from);
    assert_int_equal(n, 4);
    assert_int_equal(buf[1], PV_TFTP_DATA);
    raw_ack(s, &from, 1);
    close(s);
    expect_still_serving();
}

static void traversal_is_refused(void **state)
{
    int s = raw_socket(AF_INET);
    raw_request(s, PV_TFTP_RRQ, "../../etc/passwd", "octet", NULL, 0);
    expect_error(s, PV_TFTP_EACCESS, "path outside root");
    raw_request(s, PV_TFTP_RRQ, "/etc/passwd", "octet", NULL, 0);
    expect_error(s, PV_TFTP_ENOTFOUND, "File not found");
    raw_request(s, PV_TFTP_RRQ, "out", "octet", NULL, 0);
    expect_error(s, PV_TFTP_EACCESS, "path outside root");
    raw_request(s, PV_TFTP_RRQ, "missing", "netascii", NULL, 0);
    expect_error(s, PV_TFTP_ENOTFOUND, "File not found");
    close(s);
    assert_true(logged("path=../../etc/passwd", "status=403", NULL));
    expect_still_serving();
}

/* Receives DATA packets until ms of silence; how many of this block, and the first other
 * packet's opcode in *other (0: none). */
static int count_data(int s, uint16_t block, int ms, struct sockaddr_in *from, int *other)
{
    uint8_t buf[600];
    int data = 0;
    ssize_t n;
    *other = 0;
    while ((n = raw_recv(s, buf, sizeof buf, ms, from)) > 0) {
        if (buf[1] != PV_TFTP_DATA) {
            *other = buf[1];
            break;
        }
        data += ((buf[2] << 8) | buf[3]) == block; /* a late copy of the one before: not it */
    }
    return data;
}

static void silent_client_is_abandoned(void **state)
{
    /* A peer that never answers (what a spoofed source is): block 1 goes out again at most
     * half_open_retries (2) times, every timeout_ms, then the transfer ends without an
     * ERROR, which would be one more packet toward whoever the source address names. */
    int s = raw_socket(AF_INET);
    raw_request(s, PV_TFTP_RRQ, "f5000", "octet", NULL, 0);
    struct sockaddr_in from;
    int other;
    assert_int_equal(count_data(s, 1, 1500, &from, &other), 3);
    assert_int_equal(other, 0);
    close(s);
    assert_true(logged("path=f5000", "status=408", "retransmits=2", "peer never answered", NULL));
    /* A peer that answered once and then fell silent: block 2 again max_retries (3) times
     * with backoff, then an ERROR says why. */
    s = raw_socket(AF_INET);
    raw_request(s, PV_TFTP_RRQ, "f5000", "octet", NULL, 0);
    uint8_t first[600];
    assert_int_equal(raw_recv(s, first, sizeof first, 2000, &from), 516);
    raw_ack(s, &from, 1);
    assert_int_equal(count_data(s, 2, 3000, &from, &other), 4);
    assert_int_equal(other, PV_TFTP_ERROR);
    close(s);
    assert_true(logged("path=f5000", "status=408", "retransmits=3", "transfer timed out", NULL));
    pv_buf m = {0};
    pv_metrics_render(&m);
    assert_null(strstr(m.data, "provisor_tftp_timeouts_total 0\n"));
    pv_buf_free(&m);
    expect_still_serving();
}

static void duplicate_acks_do_not_double_traffic(void **state)
{
    int s = raw_socket(AF_INET);
    raw_request(s, PV_TFTP_RRQ, "f5000", "octet", NULL, 0);
    uint8_t buf[600];
    struct sockaddr_in from;
    int packets = 0;
    ssize_t n;
    while ((n = raw_recv(s, buf, sizeof buf, 100, &from)) > 0) {
        assert_int_equal(buf[1], PV_TFTP_DATA);
        packets++;
        uint16_t block = (uint16_t)((buf[2] << 8) | buf[3]);
        raw_ack(s, &from, block); /* every ACK twice (Sorcerer's Apprentice) */
        raw_ack(s, &from, block);
    }
    assert_int_equal(packets, 10); /* 5000 bytes: 9 full blocks and one of 392 */
    close(s);
    assert_true(logged("path=f5000", "status=200", "bytes=5000", "retransmits=0", NULL));
}

static void window_rewinds_after_partial_ack(void **state)
{
    int s = raw_socket(AF_INET);
    pv_tftp_option o[] = {{PV_SLICE_LIT("windowsize"), PV_SLICE_LIT("4")},
                          {PV_SLICE_LIT("tsize"), PV_SLICE_LIT("0")},
                          {PV_SLICE_LIT("blksize"), PV_SLICE_LIT("65464")}};
    raw_request(s, PV_TFTP_RRQ, "f5000", "octet", o, 3);
    uint8_t buf[600];
    struct sockaddr_in from;
    ssize_t n = raw_recv(s, buf, sizeof buf, 2000, &from);
    pv_tftp_packet pkt;
    assert_int_equal(pv_tftp_parse(buf, (size_t)n, &pkt, NULL), 0);
    assert_int_equal(pkt.opcode, PV_TFTP_OACK);
    /* Two 64 KiB blocks in flight at most: a window must fit a socket buffer. */
    assert_slice_equal(pv_tftp_find_option(&pkt, "windowsize")->value, "2");
    assert_slice_equal(pv_tftp_find_option(&pkt, "tsize")->value, "5000");
    /* Loopback MTU 65536: the largest RFC 2348 block fits. */
    assert_slice_equal(pv_tftp_find_option(&pkt, "blksize")->value, "65464");
    close(s);

    s = raw_socket(AF_INET);
    pv_tftp_option w[] = {{PV_SLICE_LIT("windowsize"), PV_SLICE_LIT("4")}};
    raw_request(s, PV_TFTP_RRQ, "f5000", "octet", w, 1);
    n = raw_recv(s, buf, sizeof buf, 2000, &from);
    assert_int_equal(buf[1], PV_TFTP_OACK);
    raw_ack(s, &from, 0);
    for (int b = 1; b <= 4; b++) {
        n = raw_recv(s, buf, sizeof buf, 2000, &from);
        assert_int_equal(n, 516);
        assert_int_equal((buf[2] << 8) | buf[3], b);
    }
    raw_ack(s, &from, 2); /* RFC 7440: blocks 3 and 4 were "lost": resend from 3 */
    int expect[] = {3, 4, 5, 6};
    for (int i = 0; i < 4; i++) {
        n = raw_recv(s, buf, sizeof buf, 2000, &from);
        assert_int_equal((buf[2] << 8) | buf[3], expect[i]);
    }
    uint8_t e[] = {0, 5, 0, 0, 'b', 'y', 'e', 0};
    raw_send_to(s, &from, e, sizeof e); /* the client gives up */
    close(s);
}

/* A file cut short while it is being sent: large files are sent from a shared
 * mapping, which the server never reads itself, so the kernel's EFAULT (not a
 * SIGBUS) ends the transfer with an ERROR, and the server serves on. */
static void file_cut_short_mid_transfer(void **state)
{
    for (int round = 0; round < 6; round++) {
        on_loop(set_gso, round < 3 ? "on" : NULL); /* UDP_SEGMENT, then sendmmsg */
        make_file(root, "cut.bin", 1000 * 1000);   /* above PV__TFTP_MAP_MIN: mapped */
        int s = raw_socket(AF_INET);
        pv_tftp_option o[] = {{PV_SLICE_LIT("windowsize"), PV_SLICE_LIT("8")},
                              {PV_SLICE_LIT("blksize"), PV_SLICE_LIT("1428")}};
        raw_request(s, PV_TFTP_RRQ, "cut.bin", "octet", o, 2);
        static uint8_t buf[2048];
        struct sockaddr_in from;
        ssize_t n = raw_recv(s, buf, sizeof buf, 2000, &from);
        assert_true(n > 0);
        assert_int_equal(buf[1], PV_TFTP_OACK);
        raw_ack(s, &from, 0);
        for (int b = 1; b <= 8; b++) {
            n = raw_recv(s, buf, sizeof buf, 2000, &from);
            assert_int_equal(n, 4 + 1428);
            assert_int_equal((buf[2] << 8) | buf[3], b);
        }
        char path[256];
        snprintf(path, sizeof path, "%s/cut.bin", root);
        /* Round 0 truncates in place (cp over the file does this); round 1 keeps a
         * few blocks, so the next window starts inside the file and ends past it;
         * round 2 cuts the file inside its last page, which a mapping still reads
         * (as zeros): the last window is refused all the same. */
        off_t cut[] = {0, 8 * 1428 + 3000, 1000 * 1000 - 100};
        assert_int_equal(truncate(path, cut[round % 3]), 0);
        if (round % 3 == 2) { /* ACK windows until the last one */
            for (int b = 8; b < 696; b += 8) {
                raw_ack(s, &from, (uint16_t)b);
                for (int k = 1; k <= 8; k++)
                    assert_int_equal(raw_recv(s, buf, sizeof buf, 2000, &from), 4 + 1428);
            }
        }
        raw_ack(s, &from, round % 3 == 2 ? 696 : 8);
        /* sendmmsg may send the blocks before the first it cannot read: then ERROR. */
        for (int k = 0; k < 8; k++) {
            n = raw_recv(s, buf, sizeof buf, 2000, &from);
            assert_true(n >= 4);
            if (buf[1] != PV_TFTP_DATA)
                break;
        }
        pv_tftp_packet pkt;
        assert_int_equal(pv_tftp_parse(buf, (size_t)n, &pkt, NULL), 0);
        assert_int_equal(pkt.opcode, PV_TFTP_ERROR);
        assert_int_equal(pkt.error_code, PV_TFTP_ENOTDEFINED);
        assert_true(pv_slice_eq_cstr(pkt.error_message, "file changed during transfer"));
        close(s);
        unlink(path);
    }
    on_loop(set_gso, "on");
    assert_true(logged("path=cut.bin", "status=500", NULL));
    expect_still_serving();
}

static void netascii_both_ways(void **state)
{
    int s = raw_socket(AF_INET);
    raw_request(s, PV_TFTP_RRQ, "text.txt", "netascii", NULL, 0);
    uint8_t buf[600];
    struct sockaddr_in from;
    ssize_t n = raw_recv(s, buf, sizeof buf, 2000, &from);
    static const char wire[] = "line1\r\nbare\r\0cr\r\n";
    assert_int_equal(n, 4 + sizeof wire - 1);
    assert_memory_equal(buf + 4, wire, sizeof wire - 1);
    raw_ack(s, &from, 1);
    close(s);

    s = raw_socket(AF_INET);
    raw_request(s, PV_TFTP_WRQ, "na.txt", "netascii", NULL, 0);
    n = raw_recv(s, buf, sizeof buf, 2000, &from);
    assert_int_equal(n, 4);
    assert_int_equal(buf[1], PV_TFTP_ACK);
    uint8_t data[4 + sizeof wire - 1];
    pv_tftp_put_header(data, PV_TFTP_DATA, 1);
    memcpy(data + 4, wire, sizeof wire - 1);
    raw_send_to(s, &from, data, sizeof data);
    n = raw_recv(s, buf, sizeof buf, 2000, &from);
    assert_int_equal(n, 4);
    assert_int_equal((buf[2] << 8) | buf[3], 1);
    close(s);
    char path[256];
    snprintf(path, sizeof path, "%s/127.0.0.1-na.txt", uploads);
    size_t len = 0;
    char *text = slurp(path, &len);
    assert_non_null(text);
    assert_string_equal(text, "line1\nbare\rcr\n");
    free(text);
    assert_true(logged("method=RRQ", "path=text.txt", "mode=netascii", "status=200", NULL));
}

static void wrq_too_large_by_tsize(void **state)
{
    int s = raw_socket(AF_INET);
    pv_tftp_option o[] = {{PV_SLICE_LIT("tsize"), PV_SLICE_LIT("100000000")}};
    raw_request(s, PV_TFTP_WRQ, "x.bin", "octet", o, 1);
    expect_error(s, PV_TFTP_EDISKFULL, "Disk full");
    close(s);
}

/* ---- limits -------------------------------------------------------------------- */

static pv_tftp_limits next_limits;
static size_t seen_transfers, seen_files;

static void apply_limits(void *arg)
{
    pv_tftp_server_set_limits(server4, &next_limits);
}

static void count_transfers(void *arg)
{
    seen_transfers = pv_tftp_server_transfers(server4);
    seen_files = pv_tftp_server_open_files(server4);
}

static uint64_t seen_dropped;

static void count_dropped(void *arg)
{
    seen_dropped = pv_tftp_server_dropped(server4);
}

static void rate_limit_silences_floods(void **state)
{
    next_limits = test_limits();
    next_limits.requests_per_second = 5; /* burst 10 */
    on_loop(apply_limits, NULL);
    int s = raw_socket(AF_INET);
    for (int i = 0; i < 40; i++)
        raw_send(s, "\0\11", 2);
    uint8_t buf[600];
    struct sockaddr_in from;
    int malformed = 0, limited = 0;
    ssize_t n;
    while ((n = raw_recv(s, buf, sizeof buf, 300, &from)) > 0) {
        pv_tftp_packet pkt;
        assert_int_equal(pv_tftp_parse(buf, (size_t)n, &pkt, NULL), 0);
        assert_int_equal(pkt.opcode, PV_TFTP_ERROR);
        if (pv_slice_starts_with(pkt.error_message, "rate limit"))
            limited++;
        else
            malformed++;
    }
    /* The burst is answered, then one ERROR says why, then silence. */
    assert_in_range(malformed, 10, 12);
    assert_int_equal(limited, 1);
    close(s);
    next_limits = test_limits();
    on_loop(apply_limits, NULL);
}

static void limits_per_source_and_shared_files(void **state)
{
    next_limits = test_limits();
    next_limits.max_per_source = 2;
    on_loop(apply_limits, NULL);
    int s1 = raw_socket(AF_INET), s2 = raw_socket(AF_INET), s3 = raw_socket(AF_INET);
    uint8_t buf[600];
    struct sockaddr_in f1, f2;
    raw_request(s1, PV_TFTP_RRQ, "big", "octet", NULL, 0);
    raw_request(s2, PV_TFTP_RRQ, "/big", "octet", NULL, 0);
    assert_true(raw_recv(s1, buf, sizeof buf, 2000, &f1) == 516);
    assert_true(raw_recv(s2, buf, sizeof buf, 2000, &f2) == 516);
    /* Two transfers of one file: one open file between them. */
    on_loop(count_transfers, NULL);
    assert_int_equal(seen_transfers, 2);
    assert_int_equal(seen_files, 1);
    raw_request(s3, PV_TFTP_RRQ, "f513", "octet", NULL, 0);
    expect_error(s3, PV_TFTP_ENOTDEFINED, "too many transfers from your address");
    uint8_t e[] = {0, 5, 0, 0, 0};
    raw_send_to(s1, &f1, e, sizeof e);
    raw_send_to(s2, &f2, e, sizeof e);
    close(s1);
    close(s2);
    close(s3);
    /* The ERRORs end both transfers: wait for it (30 s at most), not for a time. */
    for (int i = 0; i < 1500; i++) {
        on_loop(count_transfers, NULL);
        if (seen_transfers == 0 && seen_files == 0)
            break;
        usleep(20000);
    }
    assert_int_equal(seen_transfers, 0);
    assert_int_equal(seen_files, 0);
    next_limits = test_limits();
    on_loop(apply_limits, NULL);
}

/* ---- abuse: spoofed sources, reflection, loops ------------------------------------- */

/* A UDP socket bound to a loopback address (Linux routes all of 127.0.0.0/8 to lo):
 * how a test plays a host of its own without sending raw, spoofed packets. */
static int bound_socket(const char *ip, uint16_t port, bool reuse_port)
{
    int s = raw_socket(AF_INET);
    int on = 1;
    if (reuse_port)
        assert_int_equal(setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on), 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, ip, &a.sin_addr);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    return s;
}

/* Every byte waiting on s (it never answers); drains with a deadline of ms of silence. */
static size_t drain_bytes(int s, int ms, int *packets)
{
    uint8_t buf[2048];
    struct sockaddr_in from;
    size_t total = 0;
    ssize_t n;
    while ((n = raw_recv(s, buf, sizeof buf, ms, &from)) >= 0) {
        total += (size_t)n;
        if (packets)
            (*packets)++;
    }
    return total;
}

static uint64_t refused_tftp(void)
{
    pv_buf m = {0};
    pv_metrics_render(&m);
    const char *p = strstr(m.data, "provisor_refused_total{proto=\"tftp\"} ");
    uint64_t n = p ? strtoull(strchr(p, '}') + 2, NULL, 10) : 0;
    pv_buf_free(&m);
    return n;
}

/* Waits until the server holds no transfer, then drops what the n sockets still hold (the
 * resends of first packets never acknowledged). */
static void wait_no_transfers(const int *s, int n)
{
    for (int i = 0; i < 500; i++) {
        on_loop(count_transfers, NULL);
        if (seen_transfers == 0)
            break;
        usleep(20000);
    }
    assert_int_equal(seen_transfers, 0);
    for (int i = 0; i < n; i++)
        drain_bytes(s[i], 0, NULL);
}

typedef struct {
    int rc;
    double seconds;
} client_result;

/* One try each, as the clients make it: a transfer once started is never cut by the flood's
 * newer half-open transfers within its time to answer (tftp_admit.h). atftp fetches from
 * 127.0.0.1, an address proven before the flood (one of its transfers answered): its request
 * may end a spoofed transfer at once. curl fetches from 127.6.0.1, an address new to the
 * server: a request of its that finds the budget full of younger transfers is dropped as if
 * lost, and curl sends it again on its own timer (5 s). */
static void *fetch_during_flood(void *arg)
{
    client_result *r = arg;
    uint64_t t0 = uv_hrtime();
    r[0].rc = run("cd %s && timeout 30 atftp -g -r f5000 -l flooded 127.0.0.1 %d 2>/dev/null",
                  work, port4);
    r[0].seconds = (double)(uv_hrtime() - t0) / 1e9;
    t0 = uv_hrtime();
    r[1].rc = run("cd %s && timeout 30 curl -sf --interface 127.6.0.1 -o flooded-new "
                  "tftp://127.0.0.1:%d/f5000",
                  work, port4);
    r[1].seconds = (double)(uv_hrtime() - t0) / 1e9;
    return NULL;
}

#define FLOOD_SOURCES 1500
#define FLOOD_ROUNDS 3

/* Issue item 4: spoofed read requests from 4500 sources that never acknowledge (3 rounds
 * from 1500 addresses 127.2.x.y), more than max_transfers (2000) would hold for their
 * retransmissions' lifetime before: each costs a half-open transfer, the oldest ends
 * when max_half_open (256) are waiting, none outlives (1 + 2) x timeout_ms, and a real
 * client (atftp) fetching meanwhile is served. */
static void spoofed_flood_keeps_serving(void **state)
{
    static int flood[FLOOD_SOURCES];
    for (int i = 0; i < FLOOD_SOURCES; i++) {
        char ip[32];
        snprintf(ip, sizeof ip, "127.2.%d.%d", i / 250, i % 250 + 1);
        flood[i] = bound_socket(ip, 0, false);
    }
    pv_buf rrq = {0};
    pv_tftp_build_request(&rrq, PV_TFTP_RRQ, PV_SLICE_LIT("f5000"), PV_SLICE_LIT("octet"), NULL, 0);
    struct sockaddr_in to = server_addr();
    pthread_t client;
    client_result result[2] = {{-1, 0}, {-1, 0}};
    size_t most = 0;
    /* 127.0.0.1 proves itself: one transfer it answers */
    assert_int_equal(
        run("cd %s && timeout 20 atftp -g -r f5000 -l flooded 127.0.0.1 %d 2>/dev/null", work,
            port4),
        0);
    uint64_t start = uv_hrtime();
    for (int round = 0; round < FLOOD_ROUNDS; round++) {
        for (int i = 0; i < FLOOD_SOURCES; i++) {
            (void)!sendto(flood[i], rrq.data, rrq.len, 0, (struct sockaddr *)&to, sizeof to);
            if (i % 100 == 99) {
                on_loop(count_transfers, NULL);
                most = seen_transfers > most ? seen_transfers : most;
            }
        }
        if (round == 1) /* 3000 requests: more than max_transfers */
            assert_int_equal(pthread_create(&client, NULL, fetch_during_flood, result), 0);
    }
    pthread_join(client, NULL);
    fprintf(stderr,
            "flood: %d requests, at most %zu transfers at once; served in one try: atftp "
            "(proven address) %.2f s, curl (new address) %.2f s\n",
            FLOOD_SOURCES * FLOOD_ROUNDS, most, result[0].seconds, result[1].seconds);
    assert_int_equal(result[0].rc, 0);
    assert_int_equal(result[1].rc, 0);
    assert_true(result[0].seconds < 20 && result[1].seconds < 20);
    char a[256], b[256];
    snprintf(a, sizeof a, "%s/f5000", root);
    snprintf(b, sizeof b, "%s/flooded", work);
    assert_same_file(a, b);
    unlink(b);
    snprintf(b, sizeof b, "%s/flooded-new", work);
    assert_same_file(a, b);
    unlink(b);
    /* The budget held: 256 half-open and the client's own transfer. */
    pv_tftp_limits lim = test_limits();
    assert_true(most <= lim.max_half_open + 1);
    /* Every flooded source got what its budget allows: 3 x the 3 requests of 14 bytes it
     * sent, which is no second block, plus first answers of one block a second (one, unless
     * a busy machine stretched the flood over more seconds); never an ERROR. */
    size_t worst = 0;
    for (int i = 0; i < FLOOD_SOURCES; i++) {
        size_t got = drain_bytes(flood[i], 0, NULL);
        worst = got > worst ? got : worst;
        close(flood[i]);
    }
    unsigned seconds = (unsigned)((uv_hrtime() - start) / 1000000000ull) + 1;
    fprintf(stderr, "flood: at most %zu bytes toward one spoofed source in %u s\n", worst,
            seconds);
    assert_true(worst <= 3 * FLOOD_ROUNDS * rrq.len + (size_t)(4 + 512) * (1 + seconds));
    pv_buf_free(&rrq);
    /* Half-open transfers are gone within (1 + half_open_retries) x timeout_ms. */
    wait_no_transfers(NULL, 0);
    /* the budget was full: requests were dropped, or older spoofed transfers ended */
    on_loop(count_dropped, NULL);
    assert_true(seen_dropped > 0 || logged("status=503", "half-open transfers over budget", NULL));
    expect_still_serving();
}

/* What each of n sockets got first: the count of DATA packets, and of ERRORs whose message
 * contains text. */
static void first_answers(const int *s, int n, int *data, int *errors, const char *text)
{
    *data = *errors = 0;
    for (int i = 0; i < n; i++) {
        uint8_t buf[1024];
        struct sockaddr_in from;
        ssize_t got = raw_recv(s[i], buf, sizeof buf, 3000, &from);
        pv_tftp_packet pkt;
        if (got <= 0 || pv_tftp_parse(buf, (size_t)got, &pkt, NULL) != 0)
            continue;
        if (pkt.opcode == PV_TFTP_DATA)
            (*data)++;
        if (pkt.opcode == PV_TFTP_ERROR &&
            memmem(pkt.error_message.ptr, pkt.error_message.len, text, strlen(text)) != NULL)
            (*errors)++;
    }
}

/* Issue 15: 40 phones behind one address (127.7.0.1, each its own port) ask at once for their
 * own files (SEP<MAC>.cnf.xml): the file names carry their identities, so the address may hold
 * 16 x max_per_source (16) transfers and every one is served. The same address then names 40
 * devices that do not exist: past 8 such failures its names earn nothing, and 40 more named
 * requests are held to the plain 16. */
static void named_requests_share_an_address(void **state)
{
    enum { PHONES = 40 };
    int s[PHONES];
    char name[64];
    for (int i = 0; i < PHONES; i++) {
        snprintf(name, sizeof name, "SEP00562B0000%02X.cnf.xml", i);
        make_file(root, name, 50); /* a first DATA within what 3 x its request earned */
    }
    for (int i = 0; i < PHONES; i++) {
        s[i] = bound_socket("127.7.0.1", 0, false);
        snprintf(name, sizeof name, "SEP00562B0000%02X.cnf.xml", i);
        raw_request(s[i], PV_TFTP_RRQ, name, "octet", NULL, 0);
    }
    int data, refused;
    first_answers(s, PHONES, &data, &refused, "too many transfers");
    assert_int_equal(data, PHONES); /* never ACKed: they end half-open, silently */
    assert_int_equal(refused, 0);
    wait_no_transfers(s, PHONES);
    /* garbage: names of no device here */
    for (int i = 0; i < PHONES; i++) {
        snprintf(name, sizeof name, "SEP0000DEAD00%02X.cnf.xml", i);
        raw_request(s[i], PV_TFTP_RRQ, name, "octet", NULL, 0);
    }
    int not_found;
    first_answers(s, PHONES, &data, &not_found, "");
    assert_int_equal(data, 0);
    assert_true(not_found >= 8);
    wait_no_transfers(s, PHONES);
    for (int i = 0; i < PHONES; i++) {
        snprintf(name, sizeof name, "SEP00562B0000%02X.cnf.xml", i);
        raw_request(s[i], PV_TFTP_RRQ, name, "octet", NULL, 0);
    }
    first_answers(s, PHONES, &data, &refused, "too many transfers from your address");
    pv_tftp_limits lim = test_limits();
    assert_int_equal(data, (int)lim.max_per_source);
    assert_int_equal(refused, PHONES - (int)lim.max_per_source);
    wait_no_transfers(s, PHONES);
    for (int i = 0; i < PHONES; i++)
        close(s[i]);
}

/* Issue item 5: RFC 1350 — an ERROR is never answered, by the listener or a transfer. */
static void error_is_never_answered(void **state)
{
    int s = bound_socket("127.3.0.1", 0, false);
    uint64_t before = refused_tftp();
    uint8_t e[] = {0, 5, 0, 4, 'u', 'n', 'k', 'n', 'o', 'w', 'n', 0};
    raw_send(s, e, sizeof e);
    uint8_t buf[600];
    struct sockaddr_in from;
    assert_true(raw_recv(s, buf, sizeof buf, 500, &from) < 0);
    assert_int_equal(refused_tftp(), before + 1);
    raw_request(s, PV_TFTP_RRQ, "f5000", "octet", NULL, 0);
    assert_int_equal(raw_recv(s, buf, sizeof buf, 2000, &from), 516);
    raw_send_to(s, &from, e, sizeof e);
    assert_true(logged("path=f5000", "status=499", "peer sent ERROR", NULL));
    assert_int_equal(drain_bytes(s, 500, NULL), 0);
    close(s);
}

static pv_tftp_server *server_rp;
static bool rp_closed;

static void open_reuseport_server(void *arg)
{
    pv_tftp_limits lim = test_limits();
    pv_tftp_server_options o = {
        .address = "127.0.0.1:0", .handler = &fs.handler, .limits = &lim, .reuse_port = true};
    pv_error err;
    if (pv_tftp_server_new(&loop, &o, &server_rp, &err) != 0)
        server_rp = NULL;
}

static void on_rp_closed(void *data)
{
    rp_closed = true;
}

static void close_reuseport_server(void *arg)
{
    pv_tftp_server_close(server_rp, 0, on_rp_closed, NULL);
}

static void count_rp_transfers(void *arg)
{
    seen_transfers = pv_tftp_server_transfers(server_rp);
}

/* Issue item 5: packets "from" the listener's own address and port (the loop of a packet
 * spoofed from the server itself, or between two TFTP servers) are never answered. The
 * test's socket shares the listener's port (SO_REUSEPORT) and a reuseport program
 * ("ret 0") hands every datagram to the group's first socket, the listener, so the
 * server receives what its own port sent. */
static void own_port_is_ignored(void **state)
{
    on_loop(open_reuseport_server, NULL);
    assert_non_null(server_rp);
    const char *addr = pv_tftp_server_address(server_rp);
    uint16_t port = (uint16_t)atoi(strrchr(addr, ':') + 1);
    int s = bound_socket("127.0.0.1", port, true);
    struct sock_filter ret0[] = {{BPF_RET | BPF_K, 0, 0, 0}};
    struct sock_fprog prog = {.len = 1, .filter = ret0};
    assert_int_equal(setsockopt(s, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof prog), 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    uint64_t before = refused_tftp();
    pv_buf rrq = {0};
    pv_tftp_build_request(&rrq, PV_TFTP_RRQ, PV_SLICE_LIT("f5000"), PV_SLICE_LIT("octet"), NULL, 0);
    uint8_t e[] = {0, 5, 0, 0, 'x', 0};
    uint8_t ack[] = {0, 4, 0, 1};
    raw_send_to(s, &to, rrq.data, rrq.len);
    raw_send_to(s, &to, e, sizeof e);
    raw_send_to(s, &to, ack, sizeof ack);
    pv_buf_free(&rrq);
    /* Three datagrams, three silent refusals: no transfer, no ERROR bouncing between the
     * listener and itself (before: the ERROR looped until the rate limit silenced it). */
    for (int i = 0; i < 1500 && refused_tftp() < before + 3; i++)
        usleep(20000);
    usleep(300000);
    assert_int_equal(refused_tftp(), before + 3);
    on_loop(count_rp_transfers, NULL);
    assert_int_equal(seen_transfers, 0);
    char peer[64];
    snprintf(peer, sizeof peer, "peer=127.0.0.1:%u ", port);
    assert_false(logged_already(peer, NULL));
    close(s);
    on_loop(close_reuseport_server, NULL);
    for (int i = 0; i < 1500 && !rp_closed; i++)
        usleep(20000);
    assert_true(rp_closed);
}

/* Bytes toward a source that never answers, per byte it sent. */
static double reflect(const char *ip, int requests, const pv_tftp_option *opts, size_t n,
                      size_t *sent_out)
{
    int s = bound_socket(ip, 0, false);
    pv_buf rrq = {0};
    pv_tftp_build_request(&rrq, PV_TFTP_RRQ, PV_SLICE_LIT("f5000"), PV_SLICE_LIT("octet"), opts, n);
    for (int i = 0; i < requests; i++)
        raw_send(s, rrq.data, rrq.len);
    size_t sent = rrq.len * (size_t)requests;
    pv_buf_free(&rrq);
    /* Half-open transfers end within (1 + 2) x 200 ms: a second of silence ends it all. */
    size_t got = drain_bytes(s, 1000, NULL);
    close(s);
    if (sent_out)
        *sent_out = got;
    return (double)got / (double)sent;
}

/* Issue item 5: the amplification factor, bytes sent toward a source that never answers
 * per byte it sent, for the requests a reflection attack would spoof. */
static void amplification_is_bounded(void **state)
{
    /* A phone's request (the agent asks blksize 1428 and tsize, as curl does): the first
     * answer is the OACK, no larger than the request, sent 3 times at most. */
    pv_tftp_option phone[] = {{PV_SLICE_LIT("blksize"), PV_SLICE_LIT("1428")},
                              {PV_SLICE_LIT("tsize"), PV_SLICE_LIT("0")}};
    double with_options = reflect("127.4.0.1", 1, phone, 2, NULL);
    /* The largest window and block a request may ask for: still only the OACK. */
    pv_tftp_option greedy[] = {{PV_SLICE_LIT("blksize"), PV_SLICE_LIT("65464")},
                               {PV_SLICE_LIT("windowsize"), PV_SLICE_LIT("64")}};
    double greedy_factor = reflect("127.4.0.2", 1, greedy, 2, NULL);
    /* One plain RFC 1350 request: its first DATA is a whole block, which no rule can make
     * smaller; it goes out once, never again. */
    size_t single_bytes = 0;
    double single = reflect("127.4.0.3", 1, NULL, 0, &single_bytes);
    /* A flood of plain requests spoofed from one address: 3 x what it sent, plus one block
     * a second of first answers. */
    size_t flood_bytes = 0;
    double flood = reflect("127.4.0.4", 300, NULL, 0, &flood_bytes);
    fprintf(stderr,
            "amplification: options request %.2f, blksize 65464 windowsize 64 %.2f, "
            "300 plain requests from one address %.2f (%zu bytes), one plain request %.2f "
            "(%zu bytes)\n",
            with_options, greedy_factor, flood, flood_bytes, single, single_bytes);
    assert_true(with_options <= 3.0);
    assert_true(greedy_factor <= 3.0);
    assert_int_equal(single_bytes, 4 + 512);
    assert_true(flood <= 3.5);
}

/* Many requests at once from an address not proven yet (a phone fetching several files, a
 * benchmark starting): the budget lets one first DATA out; its ACK proves the address and the
 * others' first packets go at once, not at their next timeout (3 s here). */
static void proof_releases_waiting_transfers(void **state)
{
    next_limits = test_limits();
    next_limits.timeout_ms = 3000;
    on_loop(apply_limits, NULL);
    enum { N = 10 };
    int socks[N];
    struct pollfd p[N];
    struct sockaddr_in peers[N];
    bool got[N] = {false};
    for (int i = 0; i < N; i++) {
        socks[i] = bound_socket("127.7.0.1", 0, false);
        raw_request(socks[i], PV_TFTP_RRQ, "f5000", "octet", NULL, 0);
        p[i] = (struct pollfd){.fd = socks[i], .events = POLLIN};
    }
    int served = 0;
    uint64_t deadline = uv_hrtime() + 2000000000ull;
    while (served < N && uv_hrtime() < deadline) {
        if (poll(p, N, 100) <= 0)
            continue;
        for (int i = 0; i < N; i++) {
            uint8_t buf[600];
            socklen_t fl = sizeof peers[i];
            if (!(p[i].revents & POLLIN) ||
                recvfrom(socks[i], buf, sizeof buf, 0, (struct sockaddr *)&peers[i], &fl) < 4)
                continue;
            if (!got[i] && buf[1] == PV_TFTP_DATA) {
                got[i] = true;
                served++;
                raw_ack(socks[i], &peers[i], 1);
            }
        }
    }
    assert_int_equal(served, N);
    uint8_t e[] = {0, 5, 0, 0, 0};
    for (int i = 0; i < N; i++) {
        raw_send_to(socks[i], &peers[i], e, sizeof e);
        close(socks[i]);
    }
    next_limits = test_limits();
    on_loop(apply_limits, NULL);
}

static void drains_on_close(void **state)
{
    /* Leave a transfer running: teardown's close must wait, then abort it. */
    int s = raw_socket(AF_INET);
    raw_request(s, PV_TFTP_RRQ, "big", "octet", NULL, 0);
    uint8_t buf[600];
    struct sockaddr_in from;
    assert_true(raw_recv(s, buf, sizeof buf, 2000, &from) == 516);
    close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_packets_get_errors),
        cmocka_unit_test(traversal_is_refused),
        cmocka_unit_test(duplicate_acks_do_not_double_traffic),
        cmocka_unit_test(window_rewinds_after_partial_ack),
        cmocka_unit_test(file_cut_short_mid_transfer),
        cmocka_unit_test(netascii_both_ways),
        cmocka_unit_test(wrq_too_large_by_tsize),
        cmocka_unit_test(silent_client_is_abandoned),
        cmocka_unit_test(rate_limit_silences_floods),
        cmocka_unit_test(limits_per_source_and_shared_files),
        cmocka_unit_test(spoofed_flood_keeps_serving),
        cmocka_unit_test(named_requests_share_an_address),
        cmocka_unit_test(error_is_never_answered),
        cmocka_unit_test(own_port_is_ignored),
        cmocka_unit_test(amplification_is_bounded),
        cmocka_unit_test(proof_releases_waiting_transfers),
        cmocka_unit_test(atftp_gets_files),
        cmocka_unit_test(tftp_hpa_gets_files_and_rolls_over),
        cmocka_unit_test(curl_gets_files),
        cmocka_unit_test(atftp_gets_50mb_with_windows),
        cmocka_unit_test(windows_go_out_in_batches),
        cmocka_unit_test(uploads_reach_the_handler),
        cmocka_unit_test(drains_on_close),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
