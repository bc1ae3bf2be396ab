/*
 * tftp_transfer.c — one TFTP transfer: its lifetime, the handler round trip,
 * adaptive retransmission, the write (WRQ) receiver, socket and timer events,
 * logging and metrics. The read (RRQ) side's windows are tftp_send.c's (the
 * state both share: tftp_transfer_int.h), the options it agrees to come from
 * tftp_negotiate.c, the blocks it sends from tftp_body.c. See tftp_transfer.h.
 *
 * Block numbers: internally a transfer counts blocks with 64-bit sequence
 * numbers (seq 1 is the first DATA); on the wire a block is seq mod 65536, so
 * a transfer longer than 65535 blocks wraps to 0 and continues (the rollover
 * that tftp-hpa, atftp and curl expect).
 */
#include "net/tftp_transfer_int.h"

#include "core/alloc.h"
#include "core/log.h"
#include "net/metrics.h"
#include "net/sockaddr.h"
#include "net/tftp_admit.h"

#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static void t_on_timer(uv_timer_t *handle);
static void t_send_first(pv__tftp_transfer *t, bool again);

/* Until the peer has answered, every packet is paid from its address's amplification
 * budget (tftp_transfer.h); an unaffordable one is not sent, as if lost. */
bool pv__tftp_t_may_send(pv__tftp_transfer *t, size_t len)
{
    if (t->proven)
        return true;
    t->first_len = len;
    if (!pv__tftp_source_afford(t->server, t->source, len, !t->answered))
        return false;
    t->answered = true;
    return true;
}

static void t_send(pv__tftp_transfer *t, const void *data, size_t len)
{
    /* Loss is recovered by retransmission: a failed send is a lost packet. */
    if (pv__tftp_t_may_send(t, len))
        (void)!send(t->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void t_send_error(pv__tftp_transfer *t, uint16_t code, const char *message)
{
    pv_buf b = {0};
    pv_tftp_build_error(&b, code, message);
    t_send(t, b.data, b.len);
    pv_buf_free(&b);
}

void pv__tftp_t_arm(pv__tftp_transfer *t, uint64_t ms)
{
    /* Half-open: the configured timeout at most (RFC 2349's once the peer answered). */
    if (!t->proven && ms > t->server->limits.timeout_ms)
        ms = t->server->limits.timeout_ms;
    uv_timer_start(&t->timer, t_on_timer, ms, 0);
}

void pv__tftp_t_set_poll(pv__tftp_transfer *t)
{
    pv__tftp_sock_watch(t->sock, t->want_write);
}

/* ---- lifetime ---------------------------------------------------------- */

static void t_half_open_unlink(pv__tftp_transfer *t)
{
    pv_tftp_server *server = t->server;
    if (t->proven)
        return;
    t->proven = true; /* out of the list either way */
    if (t->half_older)
        t->half_older->half_newer = t->half_newer;
    else
        server->half_open_oldest = t->half_newer;
    if (t->half_newer)
        t->half_newer->half_older = t->half_older;
    else
        server->half_open_newest = t->half_older;
    t->half_older = t->half_newer = NULL;
    server->half_open--;
    t->source->half_open--;
}

/* The peer answered on the transfer's port: it exists, and the transfer leaves the
 * half-open budget; its address is proven (tftp_transfer.h). Transfers of the same
 * address whose first packet waited for credit send it now, not at their next timeout
 * (a phone, or a benchmark, starting many transfers at once). */
static void t_prove(pv__tftp_transfer *t)
{
    if (t->proven)
        return;
    t_half_open_unlink(t);
    pv__tftp_source_proven(t->server, t->source);
    for (pv__tftp_transfer *w = t->server->half_open_oldest, *next; w; w = next) {
        next = w->half_newer; /* w may end (a file cut short), never next */
        if (w->source == t->source && !w->answered && w->state != T_HANDLER)
            t_send_first(w, false);
    }
}

static void t_free(pv__tftp_transfer *t)
{
    pv_buf_free(&t->ctl);
    pv_buf_free(&t->upload);
    pv__tftp_body_free(&t->body);
    free(t->pkt);
    free(t->path);
    free(t);
}

/* exchange.h: an orphan's answer came after the timer closed. */
static void t_owner_free(pv_exchange *ex)
{
    t_free(ex->owner);
}

static void t_on_close(uv_handle_t *handle)
{
    pv__tftp_transfer *t = handle->data;
    pv_tftp_server *server = t->server;
    if (pv_exchange_owner_closed(&t->ex))
        t_free(t);
    /* else the handler still has the request: its answer frees the transfer */
    pv__tftp_handle_closed(server);
}

/* Removes the transfer from the server; memory goes when handles are closed. */
static void t_destroy(pv__tftp_transfer *t)
{
    pv_tftp_server *server = t->server;
    t->state = T_CLOSED;
    t_half_open_unlink(t);
    if (t->prev)
        t->prev->next_t = t->next_t;
    else
        server->transfers = t->next_t;
    if (t->next_t)
        t->next_t->prev = t->prev;
    if (t->body.file) {
        pv__tftp_file_put(server, t->body.file);
        t->body.file = NULL;
    }
    if (t->source && t->source->active > 0)
        t->source->active--;
    pv_metrics_open(PV_PROTO_TFTP, -1);
    if (t->want_write) {
        t->want_write = false;
        pv__tftp_t_set_poll(t);
    }
    pv__tftp_sock_put(server, t->sock);
    t->sock = NULL;
    uv_close((uv_handle_t *)&t->timer, t_on_close);
    pv__tftp_transfer_removed(server);
}

/* The TFTP fields of the exchange's log line. */
static void t_log_fields(const pv_exchange *ex, pv_log_line *line)
{
    const pv__tftp_transfer *t = ex->owner;
    if (t->mode == PV_TFTP_MODE_NETASCII)
        pv_log_str(line, "mode", "netascii");
    pv_log_int(line, "blksize", t->blksize);
    pv_log_int(line, "windowsize", t->windowsize);
    pv_log_int(line, "retransmits", t->retransmits);
}

/* The exchange's line and metrics (once; nothing if already written), with what moved. */
static void t_end(pv__tftp_transfer *t, int status, const char *reason)
{
    if (t->identified)
        pv__tftp_identity_outcome(t->source, status);
    if (t->write)
        t->ex.bytes_in = t->bytes;
    else
        t->ex.bytes_out = t->bytes;
    pv_exchange_end(&t->ex, status, reason, false);
}

/* The transfer is over: one log line, metrics, then gone. */
void pv__tftp_t_finish(pv__tftp_transfer *t, int status, const char *reason)
{
    t_end(t, status, reason);
    t_destroy(t);
}

/* Refuses or aborts with an ERROR packet that says why. */
void pv__tftp_t_fail(pv__tftp_transfer *t, int status, uint16_t code, const char *reason)
{
    t_send_error(t, code, reason);
    pv__tftp_t_finish(t, status, reason);
}

void pv__tftp_transfer_abort(pv__tftp_transfer *t, int status, const char *message)
{
    if (t->state == T_DALLY) {
        t_destroy(t);
        return;
    }
    pv__tftp_t_fail(t, status, PV_TFTP_ENOTDEFINED, message);
}

/* ---- retransmission timing (RFC 6298 estimator, Karn's rule) ----------- */

void pv__tftp_t_sample_rtt(pv__tftp_transfer *t)
{
    if (t->karn || t->opt.timeout) /* RFC 2349: a negotiated timeout is fixed */
        return;
    pv__tftp_rto_sample(&t->rto, (double)(uv_hrtime() - t->window_ns) / 1e6,
                        t->server->limits.timeout_ms);
}

/* A timeout: back off exponentially; false when retries are exhausted. */
static bool t_backoff(pv__tftp_transfer *t)
{
    if (++t->retries > t->server->limits.max_retries) {
        pv_metrics_tftp_timeout();
        pv__tftp_t_fail(t, 408, PV_TFTP_ENOTDEFINED, "transfer timed out");
        return false;
    }
    t->karn = true;
    pv__tftp_rto_backoff(&t->rto);
    return true;
}

static void t_send_ctl(pv__tftp_transfer *t, bool again)
{
    if (again) {
        t->retransmits++;
        pv_metrics_tftp_retransmit();
    }
    t_send(t, t->ctl.data, t->ctl.len);
    t->window_ns = uv_hrtime();
    pv__tftp_t_arm(t, t->rto.ms);
}

/* ---- read: sending windows: tftp_send.c ------------------------------ */

/* ---- write: receiving blocks ------------------------------------------- */

static void t_ack(pv__tftp_transfer *t, uint64_t seq)
{
    pv_buf_reset(&t->ctl);
    pv_tftp_build_ack(&t->ctl, (uint16_t)seq);
    t_send_ctl(t, false);
}

static void t_call_handler(pv__tftp_transfer *t);

static void t_on_data(pv__tftp_transfer *t, uint16_t block, pv_slice data)
{
    if (t->state == T_DALLY) {
        if (block == (uint16_t)(t->expected - 1)) /* our final ACK was lost */
            t_send(t, t->ctl.data, t->ctl.len);
        return;
    }
    if (t->state != T_RECEIVING)
        return;
    if (block != (uint16_t)t->expected) {
        /* A repeat of the last block we acknowledged: our ACK was lost. A
         * block from further ahead: a gap, ACK what we have once (RFC 7440). */
        if (block == (uint16_t)(t->expected - 1) && t->in_window == 0) {
            t_send(t, t->ctl.data, t->ctl.len);
        } else if (block != (uint16_t)(t->expected - 1) && !t->gap_acked) {
            t->gap_acked = true;
            t->in_window = 0;
            t_ack(t, t->expected - 1);
        }
        return;
    }
    if (data.len > t->blksize) {
        pv__tftp_t_fail(t, 400, PV_TFTP_EBADOP, "malformed request: block larger than blksize");
        return;
    }
    t->retries = 0;
    t->gap_acked = false;
    t->bytes += data.len;
    if (t->upload.len + data.len > t->server->limits.max_upload_bytes) {
        pv__tftp_t_fail(t, 413, PV_TFTP_EDISKFULL,
                        "Disk full or allocation exceeded: upload too large");
        return;
    }
    if (t->mode == PV_TFTP_MODE_NETASCII) {
        pv_buf_reserve(&t->upload, data.len + 1);
        t->upload.len += pv_tftp_netascii_decode((const uint8_t *)data.ptr, data.len,
                                                 (uint8_t *)t->upload.data + t->upload.len, &t->cr);
        t->upload.data[t->upload.len] = '\0';
    } else {
        pv_buf_append_slice(&t->upload, data);
    }
    uint64_t seq = t->expected++;
    if (data.len < t->blksize) { /* RFC 1350: a short block ends the transfer */
        if (t->cr)
            pv_buf_append_char(&t->upload, '\r');
        uv_timer_stop(&t->timer);
        t->state = T_UPLOADED;
        t_call_handler(t);
        return;
    }
    if (++t->in_window >= t->windowsize) { /* RFC 7440: ACK the last block of a window */
        t->in_window = 0;
        pv__tftp_t_sample_rtt(t);
        t_ack(t, seq);
    } else {
        pv__tftp_t_arm(t, t->rto.ms);
    }
}

/* ---- socket and timer events ------------------------------------------- */

static void t_on_packet(pv__tftp_transfer *t, const uint8_t *buf, size_t len)
{
    pv_tftp_packet pkt;
    if (pv_tftp_parse(buf, len, &pkt, NULL) < 0)
        return; /* garbage on a transfer port: silence, the timer decides */
    switch (pkt.opcode) {
    case PV_TFTP_ACK:
        if (!t->write) {
            t_prove(t);
            pv__tftp_on_ack(t, pkt.block);
            return;
        }
        break;
    case PV_TFTP_DATA:
        if (t->write) {
            t_prove(t);
            t_on_data(t, pkt.block, pkt.data);
            return;
        }
        break;
    case PV_TFTP_ERROR: /* the peer gave up (or refused our OACK) */
        pv__tftp_t_finish(t, 499, "peer sent ERROR");
        return;
    default:
        break;
    }
    pv__tftp_t_fail(t, 400, PV_TFTP_EBADOP,
                    "malformed request: unexpected packet in this transfer");
}

void pv__tftp_transfer_on_poll(pv__tftp_transfer *t, int status, int events)
{
    if (status < 0) {
        t->sock->failed = true;
        pv__tftp_t_finish(t, 500, "socket error");
        return;
    }
    if ((events & UV_WRITABLE) && t->state == T_SENDING) {
        pv__tftp_send_window(t);
        if (t->state == T_CLOSED)
            return;
    }
    if (!(events & UV_READABLE))
        return;
    /* A sender reads one ACK per wakeup (the poll is level-triggered, so a queued
     * duplicate wakes it again): no recv that can only say EAGAIN after each ACK. */
    int burst = t->write ? 64 : 1;
    for (int i = 0; i < burst && t->state != T_CLOSED; i++) {
        struct sockaddr_storage from;
        socklen_t from_len = sizeof from;
        ssize_t n = recvfrom(t->fd, t->server->rx, sizeof t->server->rx, MSG_DONTWAIT,
                             (struct sockaddr *)&from, &from_len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == ECONNREFUSED) { /* ICMP port unreachable: the peer is gone */
            t->sock->failed = true;
            pv__tftp_t_finish(t, 499, "peer unreachable");
            return;
        }
        if (n < 0)
            return;
        /* A pooled socket may still hold a late packet of its previous peer. */
        if (!pv__tftp_same_endpoint((struct sockaddr *)&from, (struct sockaddr *)&t->peer))
            continue;
        t_on_packet(t, t->server->rx, (size_t)n);
    }
}

/*
 * A half-open transfer's timer: its first packet goes again, at most half_open_retries
 * times, every timeout_ms (no backoff: it lives (1 + half_open_retries) x timeout_ms at
 * most), while the address's budget affords it; then it ends without an ERROR, which
 * would be one more packet toward a peer that never showed it exists.
 */
static bool t_half_open_retry(pv__tftp_transfer *t)
{
    bool affordable = !t->answered || t->source->earned >= (double)t->first_len;
    if (++t->retries > t->server->limits.half_open_retries || !affordable) {
        pv_metrics_tftp_timeout();
        pv__tftp_t_finish(t, 408, "peer never answered");
        return false;
    }
    t->karn = true;
    return true;
}

/* A half-open transfer's first packet, again or for the first time. */
static void t_send_first(pv__tftp_transfer *t, bool again)
{
    if (t->state == T_SENDING) {
        t->next = t->acked + 1;
        pv__tftp_send_window(t);
    } else if (t->state == T_OACK || t->state == T_RECEIVING) {
        t_send_ctl(t, again);
    }
}

static void t_on_timer(uv_timer_t *handle)
{
    pv__tftp_transfer *t = handle->data;
    if (!t->proven && t->state != T_DALLY) {
        if (t_half_open_retry(t))
            t_send_first(t, true);
        return;
    }
    switch (t->state) {
    case T_OACK:
        if (t_backoff(t))
            t_send_ctl(t, true);
        return;
    case T_SENDING:
        if (!t_backoff(t))
            return;
        t->next = t->acked + 1; /* RFC 7440 §4: resend the window after the last ACK */
        pv__tftp_send_window(t);
        return;
    case T_RECEIVING:
        if (!t_backoff(t))
            return;
        t->in_window = 0;
        t_send_ctl(t, true);
        return;
    case T_DALLY:
        t_destroy(t);
        return;
    default:
        return;
    }
}

/* ---- negotiation and the handler -------------------------------------- */

/* RFC 2347: the options agreed, with the OACK in t->ctl; false if none. */
static bool t_negotiate(pv__tftp_transfer *t)
{
    pv__tftp_offer offer = {t->write, t->mode == PV_TFTP_MODE_OCTET, t->body.size,
                            t->opt.blksize ? pv__tftp_mtu_blksize(t->fd, t->local.ss_family) : 0};
    pv__tftp_agreed agreed;
    bool oack = pv__tftp_negotiate(&t->opt, &t->server->limits, &offer, &agreed, &t->ctl);
    t->blksize = agreed.blksize;
    t->windowsize = agreed.windowsize;
    t->rto.ms = agreed.timeout_ms ? agreed.timeout_ms : t->rto.ms;
    return oack;
}

/* A read's body is known: set up the source and start negotiating. */
static void t_begin_read(pv__tftp_transfer *t, const pv_response *resp)
{
    if (resp->body_kind == PV_BODY_FILE) {
        t->body.file = pv__tftp_file_get(t->server, pv_exchange_take_fd(&t->ex));
        if (t->body.file == NULL) {
            pv__tftp_t_fail(t, 500, PV_TFTP_ENOTDEFINED, "cannot read file");
            return;
        }
        t->body.size = (uint64_t)t->body.file->size;
    } else if (resp->body_kind == PV_BODY_MEMORY) {
        t->body.mem = resp->body;
        t->body.size = resp->body_len;
    }
    bool oack = t_negotiate(t);
    t->pkt = pv_malloc(4 + (size_t)t->blksize);
    pv__tftp_body_cut(&t->body, t->blksize, t->windowsize, t->mode == PV_TFTP_MODE_NETASCII);
    if (oack) {
        t->state = T_OACK;
        t_send_ctl(t, false);
    } else {
        pv__tftp_start_sending(t);
    }
}

/* exchange.h: the handler answered and the transfer is still on. */
static void t_answered(pv_exchange *ex)
{
    pv__tftp_transfer *t = ex->owner;
    const pv_response *resp = &ex->resp;
    int status = resp->status;
    const char *reason = NULL;
    pv_tftp_error_for_status(status, &reason);
    if (resp->message)
        reason = resp->message;
    if (status < 200 || status > 299) {
        pv__tftp_t_fail(t, status, pv_tftp_error_for_status(status, NULL), reason);
        return;
    }
    if (t->write) {
        /* Only now is the last block acknowledged: the upload is stored. */
        t_end(t, status, NULL);
        t->state = T_DALLY;
        t_ack(t, t->expected - 1);
        pv__tftp_t_arm(t, t->rto.ms);
        return;
    }
    t_begin_read(t, resp);
}

static void t_call_handler(pv__tftp_transfer *t)
{
    pv_request *req = &t->ex.req;
    req->body = t->upload.len ? pv_buf_slice(&t->upload) : PV_SLICE_LIT("");
    pv_exchange_dispatch(&t->ex, t->server->handler);
}

/* ---- start --------------------------------------------------------------- */

pv__tftp_transfer *pv__tftp_half_open_newer(const pv__tftp_transfer *t)
{
    return t->half_newer;
}

pv__tftp_source *pv__tftp_transfer_source(const pv__tftp_transfer *t)
{
    return t->source;
}

uint64_t pv__tftp_transfer_started_ns(const pv__tftp_transfer *t)
{
    return t->start_ns;
}

pv__tftp_transfer *pv__tftp_transfer_next(const pv__tftp_transfer *t)
{
    return t->next_t;
}

const char *pv__tftp_transfer_path(const pv__tftp_transfer *t)
{
    return t->path;
}

void pv__tftp_transfer_evict(pv__tftp_transfer *t)
{
    pv__tftp_t_finish(t, 503, "half-open transfers over budget");
}

int pv__tftp_transfer_start(pv_tftp_server *server, const pv_tftp_packet *pkt,
                            const struct sockaddr *peer, const struct sockaddr *local,
                            pv__tftp_source *source, bool identified, pv_error *err)
{
    static const pv_exchange_ops ops = {
        .send = t_answered, .owner_free = t_owner_free, .log_fields = t_log_fields};
    /* A transfer always has its server, for its whole life (tftp_transfer.h). */
    assert(server != NULL && server->handler != NULL && source != NULL);
    pv__tftp_transfer *t = pv_calloc(1, sizeof *t);
    t->server = server;
    t->write = pkt->opcode == PV_TFTP_WRQ;
    t->mode = pkt->mode;
    t->blksize = PV_TFTP_BLKSIZE_DEFAULT;
    t->windowsize = 1;
    pv__tftp_rto_init(&t->rto, server->limits.timeout_ms);
    t->start_ns = uv_hrtime();
    memcpy(&t->peer, peer, pv__tftp_addr_len(peer));
    memcpy(&t->local, local, pv__tftp_addr_len(local));
    t->path = pv_slice_dup(pkt->filename);
    pv_exchange_init(&t->ex, &ops, t, PV_PROTO_TFTP, "tftp.transfer", (struct sockaddr *)&t->peer,
                     (struct sockaddr *)&t->local);
    pv_exchange_open(&t->ex, t->start_ns);
    pv_request *req = &t->ex.req;
    req->method = t->write ? PV_METHOD_TFTP_WRITE : PV_METHOD_TFTP_READ;
    req->method_name = t->write ? PV_SLICE_LIT("WRQ") : PV_SLICE_LIT("RRQ");
    req->path = pv_slice_from(t->path);
    req->query = PV_SLICE_LIT("");
    req->user_agent = PV_SLICE_LIT("");
    req->body = PV_SLICE_LIT("");
    t->sock = pv__tftp_sock_get(server, local, peer, err);
    if (t->sock == NULL) {
        (void)pv_exchange_owner_closed(&t->ex); /* OPEN: the listener logs the refusal */
        t_free(t);
        return PV_EIO;
    }
    t->sock->t = t;
    t->fd = t->sock->fd;
    uv_timer_init(server->loop, &t->timer);
    t->timer.data = t;
    server->handles += 1;
    t->next_t = server->transfers;
    if (server->transfers)
        server->transfers->prev = t;
    server->transfers = t;
    server->transfer_count++;
    t->source = source;
    t->identified = identified;
    source->active++;
    source->half_open++;
    /* Half-open until the peer answers: the newest of the list. */
    t->half_older = server->half_open_newest;
    if (server->half_open_newest)
        server->half_open_newest->half_newer = t;
    else
        server->half_open_oldest = t;
    server->half_open_newest = t;
    server->half_open++;
    pv_metrics_open(PV_PROTO_TFTP, 1);
    pv__tftp_t_set_poll(t);

    pv_error opt_err;
    if (pv_tftp_parse_requested(pkt, &t->opt, &opt_err) < 0) { /* RFC 2347: ERROR 8 */
        pv__tftp_t_fail(t, 400, PV_TFTP_EOPTNEG, opt_err.msg);
        return 0;
    }
    if (!t->write) {
        t->state = T_HANDLER;
        t_call_handler(t);
        return 0;
    }
    /* RFC 2349: a WRQ announces its size; refuse early what we will not keep. */
    if (t->opt.has_tsize && t->opt.tsize > server->limits.max_upload_bytes) {
        pv__tftp_t_fail(t, 413, PV_TFTP_EDISKFULL,
                        "Disk full or allocation exceeded: upload too large");
        return 0;
    }
    t->state = T_RECEIVING;
    t->expected = 1;
    if (!t_negotiate(t))
        pv_tftp_build_ack(&t->ctl, 0);
    t_send_ctl(t, false);
    return 0;
}
