/*
 * tftp_send.c — the read side of a TFTP transfer (RRQ): windows of DATA blocks
 * (RFC 7440; one block while the peer has not answered), the ACKs that move
 * the window on or rewind it, and the RTT samples they give. The blocks come
 * from tftp_body.c, in batches when the socket takes them (tftp_sock.h); the
 * transfer's lifetime, timer and the write side stay in tftp_transfer.c.
 */
#include "net/tftp_transfer_int.h"

#include "net/metrics.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* Counts blocks t->next .. t->next+n-1 as sent (or sent again) and moves on. */
static void t_advance(pv__tftp_transfer *t, unsigned n)
{
    for (unsigned i = 0; i < n; i++, t->next++) {
        if (t->next <= t->sent_max) {
            t->retransmits++;
            pv_metrics_tftp_retransmit();
        } else {
            t->sent_max = t->next;
        }
    }
}

/* Socket buffer full (large windows): continue when writable. */
static void t_wait_writable(pv__tftp_transfer *t)
{
    if (!t->want_write) {
        t->want_write = true;
        pv__tftp_t_set_poll(t);
    }
}

/* RFC 7440 §4: send blocks acked+1 .. acked+windowsize, then wait for an ACK. */
void pv__tftp_send_window(pv__tftp_transfer *t)
{
    uint64_t end = t->acked + (t->proven ? t->windowsize : 1); /* one block until it answers */
    while (t->next <= end && (t->body.last == 0 || t->next <= t->body.last)) {
        unsigned batch = pv__tftp_body_batch_size(&t->body, t->next, end);
        if (batch > 0) {
            struct iovec iov[2 * PV__TFTP_BATCH_BLOCKS];
            int sent = pv__tftp_body_fill_batch(&t->body, t->next, pv__tftp_batch_buffer(t->server),
                                                batch, iov);
            if (sent == 0)
                sent = pv__tftp_sock_send_batch(t->sock, iov, batch, 4 + (size_t)t->blksize);
            if (sent < 0) {
                pv__tftp_t_fail(t, 500, PV_TFTP_ENOTDEFINED, "file changed during transfer");
                return;
            }
            t_advance(t, sent > 0 ? (unsigned)sent : 0);
            if (sent < (int)batch) {
                t_wait_writable(t);
                break;
            }
            continue;
        }
        ssize_t n = pv__tftp_body_block(&t->body, t->next, t->pkt + 4);
        if (n < 0) {
            pv__tftp_t_fail(t, 500, PV_TFTP_ENOTDEFINED, "file changed during transfer");
            return;
        }
        pv_tftp_put_header(t->pkt, PV_TFTP_DATA, (uint16_t)t->next);
        /* Half-open: a window of one, paid from the address's budget (pv__tftp_t_may_send). */
        ssize_t s = pv__tftp_t_may_send(t, 4 + (size_t)n)
                        ? send(t->fd, t->pkt, 4 + (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL)
                        : 0;
        if (s < 0 && (errno == EAGAIN || errno == ENOBUFS)) {
            t_wait_writable(t);
            break;
        }
        t_advance(t, 1);
    }
    if (t->want_write && (t->next > end || (t->body.last && t->next > t->body.last))) {
        t->want_write = false;
        pv__tftp_t_set_poll(t);
    }
    t->window_ns = uv_hrtime();
    pv__tftp_t_arm(t, t->rto.ms);
}

void pv__tftp_start_sending(pv__tftp_transfer *t)
{
    t->state = T_SENDING;
    t->acked = 0;
    t->next = 1;
    t->karn = false;
    pv__tftp_send_window(t);
}

void pv__tftp_on_ack(pv__tftp_transfer *t, uint16_t block)
{
    if (t->state == T_OACK) {
        if (block == 0) { /* RFC 2347: ACK 0 accepts the OACK */
            t->retries = 0;
            pv__tftp_t_sample_rtt(t);
            pv__tftp_start_sending(t);
        }
        return;
    }
    if (t->state != T_SENDING)
        return;
    uint64_t seq = t->acked + (uint16_t)(block - (uint16_t)t->acked);
    /* RFC 1123 §4.2.3.1: a duplicate ACK never triggers a send (Sorcerer's
     * Apprentice); nor does an ACK for a block not sent yet. */
    if (seq == t->acked || seq >= t->next)
        return;
    pv__tftp_t_sample_rtt(t);
    t->karn = false;
    t->retries = 0;
    t->acked = seq;
    t->bytes = seq * t->blksize;
    if (t->body.last != 0 && seq == t->body.last) {
        t->bytes = (seq - 1) * t->blksize + t->body.last_len;
        pv__tftp_t_finish(t, 200, NULL);
        return;
    }
    if (seq < t->next - 1) /* RFC 7440 §4: an ACK inside the window: rewind */
        t->next = seq + 1;
    pv__tftp_send_window(t);
}
