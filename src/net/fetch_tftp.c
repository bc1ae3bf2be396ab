/*
 * fetch_tftp.c — the TFTP engine of net/fetch.h, used by the native engine
 * for tftp:// URLs: a read (RRQ, RFC 1350) or a write (WRQ, for PUT) on one
 * uv_udp socket per transfer, with the options libcurl's TFTP sends, so that
 * a server sees the same requests from either engine: tsize (RFC 2349; 0 on a
 * read, the upload's size on a write), blksize (RFC 2348) and timeout (RFC
 * 2349, the retransmission interval in seconds).
 *
 * The server answers from a port of its own (its transfer ID): the first
 * packet fixes it and packets from any other port are ignored (RFC 1350 §4).
 * An OACK (RFC 2347) gives the block size; a first DATA or ACK without one
 * means the server took no option and blocks are 512 bytes. Lost packets are
 * answered by sending the last packet again when the retransmission timer
 * fires, as often as libcurl would (timeout / 5 times, 3 to 50) before the
 * transfer fails; timeout_ms bounds the whole transfer.
 *
 * Outcomes as the libcurl engine reports them (agent.h): 200 with the file,
 * 404 for error 1 "file not found", 500 for any other TFTP error packet,
 * PV_ETIMEDOUT, PV_ETOOBIG (over max_body: an error packet tells the server),
 * PV_ECONN when nothing could be sent.
 */
#include "net/fetch.h"

#include "core/alloc.h"
#include "net/fetch_int.h"
#include "net/tftp_packet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct tfetcher tfetcher;

typedef struct tfetch {
    pv_fetch base; /* first: the interface's view and the live list (fetch_int.h) */
    tfetcher *f;
    char *url;
    uv_udp_t udp;
    uv_timer_t retry, deadline;
    struct sockaddr_storage peer; /* the request's address; then the server's transfer ID */
    bool have_tid;
    bool write; /* WRQ */
    char *upload;
    size_t upload_len, sent_off; /* write: bytes acknowledged before the block in flight */
    size_t blksize;
    uint16_t block; /* read: the last block received; write: the block in flight */
    pv_buf last;    /* the packet to send again when the timer fires */
    pv_buf body;
    size_t max_body;
    unsigned retries, retry_max;
    uint64_t retry_ms;
    unsigned closing; /* handles not yet closed */
    bool ended;
    int error, status;
    char text[160];
} tfetch;

struct tfetcher {
    pv_fetcher base; /* options, live list, counts, the close (fetch_int.h): all it needs */
};

/* ---- the end of a transfer ------------------------------------------------------------- */

static void on_closed(uv_handle_t *h)
{
    tfetch *t = h->data;
    if (--t->closing > 0)
        return;
    tfetcher *f = t->f;
    pv_buf_free(&t->last);
    pv_buf_free(&t->body);
    free(t->upload);
    free(t->url);
    free(t);
    if (pv__fetch_freed(&f->base) && f->base.alive == 0)
        pv__fetcher_close_timer(&f->base);
}

static void end(tfetch *t)
{
    pv__fetch_unlink(&t->base);
    t->ended = true;
    t->closing = 3;
    uv_close((uv_handle_t *)&t->udp, on_closed);
    uv_close((uv_handle_t *)&t->retry, on_closed);
    uv_close((uv_handle_t *)&t->deadline, on_closed);
}

static void finish(tfetch *t, int error, int status, const char *text)
{
    tfetcher *f = t->f;
    uv_udp_recv_stop(&t->udp);
    if (error < 0 || status != 200)
        pv_buf_reset(&t->body); /* a failed transfer may have left part of a file */
    pv_fetch_result r = {.error = error,
                         .status = error < 0 ? 0 : status,
                         .error_text = text ? text : "",
                         .url = t->url,
                         .body = t->body.data ? t->body.data : "",
                         .body_len = t->body.len,
                         .new_connections = 1};
    pv__fetch_count(&f->base, &r, t->write && status == 200 ? t->upload_len : 0);
    t->base.cb(&t->base, &r, t->base.data);
    if (!t->ended) /* a close from the callback has ended it */
        end(t);
}

/* ---- sending --------------------------------------------------------------------------- */

static void on_retry(uv_timer_t *h);

static void send_last(tfetch *t)
{
    uv_buf_t b = uv_buf_init(t->last.data, (unsigned)t->last.len);
    /* a datagram is sent or lost as a whole; a loss is what the retransmission is for */
    uv_udp_try_send(&t->udp, &b, 1, (const struct sockaddr *)&t->peer);
    uv_timer_start(&t->retry, on_retry, t->retry_ms, 0);
}

static void send_ack(tfetch *t, uint16_t block)
{
    pv_buf_reset(&t->last);
    pv_tftp_build_ack(&t->last, block);
    t->retries = 0;
    send_last(t);
}

/* write: the block after what the server acknowledged (block number wraps, RFC 1350). */
static void send_block(tfetch *t)
{
    size_t n = t->upload_len - t->sent_off;
    if (n > t->blksize)
        n = t->blksize;
    t->block++;
    pv_buf_reset(&t->last);
    pv_tftp_build_data(&t->last, t->block, t->upload + t->sent_off, n);
    t->retries = 0;
    send_last(t);
}

static void send_error(tfetch *t, uint16_t code, const char *message)
{
    pv_buf b = {0};
    pv_tftp_build_error(&b, code, message);
    uv_buf_t ub = uv_buf_init(b.data, (unsigned)b.len);
    uv_udp_try_send(&t->udp, &ub, 1, (const struct sockaddr *)&t->peer);
    pv_buf_free(&b);
}

/* ---- receiving ------------------------------------------------------------------------- */

static bool same_host(const struct sockaddr_storage *a, const struct sockaddr *b)
{
    if (a->ss_family != b->sa_family)
        return false;
    if (b->sa_family == AF_INET)
        return memcmp(&((const struct sockaddr_in *)a)->sin_addr,
                      &((const struct sockaddr_in *)b)->sin_addr, 4) == 0;
    return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                  &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
}

static uint16_t port_of(const struct sockaddr *sa)
{
    return sa->sa_family == AF_INET ? ((const struct sockaddr_in *)sa)->sin_port
                                    : ((const struct sockaddr_in6 *)sa)->sin6_port;
}

/* RFC 2347: the options the server took; only blksize changes what we do. */
static bool take_oack(tfetch *t, const pv_tftp_packet *p)
{
    const pv_tftp_option *o = pv_tftp_find_option(p, "blksize");
    uint64_t v;
    if (o != NULL) {
        if (pv_tftp_option_uint(o->value, PV_TFTP_BLKSIZE_MIN, t->blksize, &v) != 0)
            return false; /* RFC 2348: never more than asked */
        t->blksize = (size_t)v;
    }
    return true;
}

static void on_data(tfetch *t, const pv_tftp_packet *p)
{
    if (p->block == (uint16_t)(t->block + 1)) {
        if (p->data.len > t->max_body - t->body.len) {
            send_error(t, PV_TFTP_EDISKFULL, "file over the limit");
            finish(t, PV_ETOOBIG, 0, "response body over the limit");
            return;
        }
        pv_buf_append(&t->body, p->data.ptr, p->data.len);
        t->block = p->block;
        send_ack(t, t->block);
        if (p->data.len < t->blksize) { /* RFC 1350 §6: a short block ends the file */
            uv_timer_stop(&t->retry);
            finish(t, 0, 200, NULL);
        }
    } else if (p->block == t->block) {
        send_ack(t, t->block); /* our ACK was lost: the server sent the block again */
    }
}

static void on_ack(tfetch *t, uint16_t block)
{
    if (block != t->block)
        return; /* a duplicate ACK: the timer resends, never the ACK (RFC 1350's sorcerer) */
    if (block != 0) {
        size_t n = t->upload_len - t->sent_off;
        bool last = n < t->blksize;
        t->sent_off += last ? n : t->blksize;
        if (last) {
            uv_timer_stop(&t->retry);
            finish(t, 0, 200, NULL);
            return;
        }
    }
    send_block(t);
}

static void on_recv(uv_udp_t *u, ssize_t n, const uv_buf_t *buf, const struct sockaddr *from,
                    unsigned flags)
{
    tfetch *t = u->data;
    (void)flags;
    if (t->ended || n <= 0 || from == NULL || !same_host(&t->peer, from))
        return;
    if (t->have_tid && port_of(from) != port_of((const struct sockaddr *)&t->peer))
        return; /* RFC 1350 §4: another transfer's packet */
    pv_tftp_packet p;
    if (pv_tftp_parse(buf->base, (size_t)n, &p, NULL) != 0)
        return;         /* garbled: the timer will resend */
    if (!t->have_tid) { /* the first answer fixes the server's transfer ID */
        memcpy(&t->peer, from,
               from->sa_family == AF_INET ? sizeof(struct sockaddr_in)
                                          : sizeof(struct sockaddr_in6));
        t->have_tid = true;
        if (p.opcode != PV_TFTP_OACK)
            t->blksize = PV_TFTP_BLKSIZE_DEFAULT; /* the server took no option */
        /* a transfer under way: the per-block retransmission schedule applies */
        unsigned total = (unsigned)(t->f->base.o.timeout_ms / 1000);
        t->retry_max = total / 5 < 3 ? 3 : total / 5 > 50 ? 50 : total / 5;
        t->retry_ms = total / t->retry_max >= 1 ? 1000ull * (total / t->retry_max) : 1000;
    }
    switch (p.opcode) {
    case PV_TFTP_OACK:
        if (!take_oack(t, &p)) {
            send_error(t, PV_TFTP_EOPTNEG, "blksize not acceptable");
            finish(t, 0, 500, "TFTP: the server's option answer was not acceptable");
        } else if (t->write) {
            on_ack(t, 0); /* RFC 2347: the OACK stands for ACK 0 of a write */
        } else {
            send_ack(t, 0);
        }
        return;
    case PV_TFTP_DATA:
        if (!t->write)
            on_data(t, &p);
        return;
    case PV_TFTP_ACK:
        if (t->write)
            on_ack(t, p.block);
        return;
    case PV_TFTP_ERROR:
        snprintf(t->text, sizeof t->text, "TFTP error %u: %.*s", p.error_code,
                 (int)(p.error_message.len > 100 ? 100 : p.error_message.len), p.error_message.ptr);
        /* agent.h: "file not found" is 404, any other error packet 500 */
        finish(t, 0, p.error_code == PV_TFTP_ENOTFOUND ? 404 : 500, t->text);
        return;
    default:
        return;
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    static char slab[PV_TFTP_MAX_PACKET]; /* one loop thread: a datagram is parsed at once */
    (void)h;
    (void)suggested;
    *buf = uv_buf_init(slab, sizeof slab);
}

static void on_retry(uv_timer_t *h)
{
    tfetch *t = h->data;
    if (++t->retries > t->retry_max) {
        finish(t, PV_ETIMEDOUT, 0, "TFTP: no answer from the server");
        return;
    }
    send_last(t);
}

static void on_deadline(uv_timer_t *h)
{
    tfetch *t = h->data;
    if (t->error != 0) { /* found while starting: reported from the loop */
        finish(t, t->error, 0, t->text);
        return;
    }
    finish(t, PV_ETIMEDOUT, 0, "TFTP: the transfer timed out");
}

/* ---- starting -------------------------------------------------------------------------- */

/* tftp://host[:port]/file → the server's address and the file name (percent-decoded). */
static int parse_url(tfetch *t, const char *url, const char *connect_address, pv_buf *file)
{
    const char *p = url + 7, *slash = p + strcspn(p, "/");
    if (*slash != '/' || slash[1] == '\0')
        return PV_EINVAL;
    char host[256];
    int port = 69;
    size_t alen = (size_t)(slash - p);
    if (alen == 0 || alen >= sizeof host)
        return PV_EINVAL;
    memcpy(host, p, alen);
    host[alen] = '\0';
    char *h = host, *colon = NULL;
    if (*h == '[') {
        char *close = strchr(h, ']');
        if (close == NULL)
            return PV_EINVAL;
        *close = '\0';
        colon = close[1] == ':' ? close + 1 : NULL;
        h++;
    } else if ((colon = strchr(h, ':')) != NULL) {
        *colon = '\0';
    }
    if (colon != NULL) {
        char *e;
        long v = strtol(colon + 1, &e, 10);
        if (*e != '\0' || v <= 0 || v > 65535)
            return PV_EINVAL;
        port = (int)v;
    }
    const char *addr = connect_address               ? connect_address
                       : strcmp(h, "localhost") == 0 ? "127.0.0.1"
                                                     : h;
    if (uv_ip4_addr(addr, port, (struct sockaddr_in *)&t->peer) != 0 &&
        uv_ip6_addr(addr, port, (struct sockaddr_in6 *)&t->peer) != 0)
        return PV_ECONN; /* TFTP names a server by address here: no lookup */
    for (const char *s = slash + 1; *s != '\0' && *s != '?' && *s != '#'; s++) {
        int hi, lo;
        if (*s == '%' && s[1] && s[2] && sscanf(s + 1, "%1x%1x", &hi, &lo) == 2) {
            pv_buf_append_char(file, (char)(hi * 16 + lo));
            s += 2;
        } else {
            pv_buf_append_char(file, *s);
        }
    }
    return memchr(file->data, '\0', file->len) != NULL ? PV_EINVAL : 0;
}

static int open_socket(tfetch *t, const char *local_address)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    const char *any = t->peer.ss_family == AF_INET6 ? "::" : "0.0.0.0";
    const char *a = local_address ? local_address : any;
    if (uv_ip4_addr(a, 0, (struct sockaddr_in *)&ss) != 0 &&
        uv_ip6_addr(a, 0, (struct sockaddr_in6 *)&ss) != 0)
        return UV_EINVAL;
    int rc = uv_udp_bind(&t->udp, (const struct sockaddr *)&ss, 0);
    if (rc == 0)
        rc = uv_udp_recv_start(&t->udp, on_alloc, on_recv);
    return rc;
}

static int tftp_start(pv_fetcher *base, const pv_fetch_request *req, pv_fetch_cb cb, void *data,
                      pv_fetch **out, pv_error *err)
{
    tfetcher *f = (tfetcher *)base;
    int rc = pv__fetch_check(base, req, cb, err);
    if (rc != 0)
        return rc;
    const char *method = req->method ? req->method : "GET";
    if (strcmp(method, "POST") == 0)
        return pv_error_set(err, PV_EINVAL, "TFTP has no POST: use PUT for a write request");
    tfetch *t = pv_calloc(1, sizeof *t);
    t->f = f;
    t->url = pv_strdup(req->url);
    t->write = strcmp(method, "PUT") == 0;
    t->max_body = req->max_body ? req->max_body : f->base.o.max_body;
    t->blksize = f->base.o.tftp_blksize ? f->base.o.tftp_blksize : PV_TFTP_BLKSIZE_DEFAULT;
    if (t->write) {
        t->upload_len = req->body_len;
        t->upload = pv_memdup0(req->body ? req->body : "", req->body_len);
    }
    uv_udp_init(f->base.loop, &t->udp);
    uv_timer_init(f->base.loop, &t->retry);
    uv_timer_init(f->base.loop, &t->deadline);
    t->udp.data = t->retry.data = t->deadline.data = t;
    pv__fetch_link(base, &t->base, cb, data, out);
    uv_timer_start(&t->deadline, on_deadline, f->base.o.timeout_ms, 0);
    pv_buf file = {0};
    rc = parse_url(t, req->url, req->connect_address, &file);
    if (rc == 0 && open_socket(t, req->local_address) != 0)
        rc = PV_ECONN;
    if (rc != 0) { /* reported from the loop, never from inside pv_fetch_start */
        snprintf(t->text, sizeof t->text, "%s",
                 rc == PV_EINVAL ? "malformed TFTP URL" : "TFTP: cannot reach the server");
        t->error = rc;
        uv_timer_start(&t->deadline, on_deadline, 0, 0);
        pv_buf_free(&file);
        return 0;
    }
    /* the options libcurl sends (RFC 2347-2349): tsize, blksize, timeout */
    unsigned conn_s = (unsigned)(f->base.o.connect_timeout_ms / 1000);
    t->retry_max = conn_s / 5 < 3 ? 3 : conn_s / 5 > 50 ? 50 : conn_s / 5;
    unsigned every = conn_s / t->retry_max >= 1 ? conn_s / t->retry_max : 1;
    t->retry_ms = 1000ull * every;
    char tsize[24], blk[12], tmo[12];
    snprintf(tsize, sizeof tsize, "%zu", t->write ? t->upload_len : (size_t)0);
    snprintf(blk, sizeof blk, "%zu", t->blksize);
    snprintf(tmo, sizeof tmo, "%u", every);
    pv_tftp_option opts[3] = {{PV_SLICE_LIT("tsize"), pv_slice_from(tsize)},
                              {PV_SLICE_LIT("blksize"), pv_slice_from(blk)},
                              {PV_SLICE_LIT("timeout"), pv_slice_from(tmo)}};
    size_t nopts = f->base.o.tftp_blksize ? 3 : 0; /* 0: plain RFC 1350 */
    pv_tftp_build_request(&t->last, t->write ? PV_TFTP_WRQ : PV_TFTP_RRQ,
                          pv_slice_make(file.data, file.len), PV_SLICE_LIT("octet"), opts, nopts);
    if (nopts == 0)
        t->blksize = PV_TFTP_BLKSIZE_DEFAULT;
    pv_buf_free(&file);
    send_last(t);
    return 0;
}

static void tftp_cancel(pv_fetch *base)
{
    end((tfetch *)base);
}

static void tftp_close(pv_fetcher *base, void (*done)(void *data), void *data)
{
    pv__fetcher_close_begin(base, done, data);
    if (base->alive == 0) /* else the last transfer's handles to close free it */
        pv__fetcher_close_timer(base);
}

static const pv__fetcher_ops tftp_ops = {tftp_start, tftp_cancel, NULL, tftp_close, NULL};

int pv__fetcher_tftp_new(uv_loop_t *loop, const pv_fetcher_options *o, pv_fetcher **out,
                         pv_error *err)
{
    (void)err;
    tfetcher *f = pv_calloc(1, sizeof *f);
    pv__fetcher_init(&f->base, &tftp_ops, loop, o);
    *out = &f->base;
    return 0;
}
