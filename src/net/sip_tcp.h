/*
 * sip_tcp.h — SIP over TCP, the sending side (RFC 3261 §18): connections the
 * server's notifier opens to a proxy or a phone, requests written on them and
 * the answers read back.
 *
 * What it is for: `[sip] transport = tcp` — a provider whose proxy takes SIP
 * over TCP (large messages, NAT bindings that outlive UDP's). One connection
 * per destination address, opened at the first message for it and kept for
 * the next; a stream is framed by its Content-Length (§18.3, pv_sip_frame), each
 * message parsed with net/sip_msg and handed to the owner with the peer's
 * address. Nothing here retransmits (§17.1.1.2: a reliable transport does
 * not) or knows a transaction.
 *
 * Bounds: at most PV_SIP_TCP_CONNECTIONS connections (the oldest idle one is
 * closed for a new one); a message over PV_SIP_MAX_MESSAGE or a stream that
 * does not frame closes its connection; a connection idle for
 * PV_SIP_TCP_IDLE_MS is closed. TLS is not implemented yet.
 *
 * Ownership: the caller owns the loop and the pv_sip_tcp until close's
 * callback; the message given to the callback is freed when it returns.
 */
#ifndef PV_NET_SIP_TCP_H
#define PV_NET_SIP_TCP_H

#include "core/error.h"
#include "net/sip_msg.h"

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define PV_SIP_TCP_CONNECTIONS 1024
#define PV_SIP_TCP_IDLE_MS 60000

typedef struct pv_sip_tcp pv_sip_tcp;

typedef void (*pv_sip_tcp_receive_cb)(const pv_sip_msg *m, const struct sockaddr *peer,
                                      void *data);

/*
 * The length of the first message in a stream's bytes (§18.3): its header up to the
 * blank line and Content-Length bytes of body (no Content-Length: no body). 1 and *len
 * when it is whole, 0 when more bytes are needed, -1 when it cannot be framed (no blank
 * line within PV_SIP_MAX_MESSAGE, a Content-Length that is not a number or too large).
 */
int pv_sip_frame(const char *data, size_t n, size_t *len);

int pv_sip_tcp_new(uv_loop_t *loop, pv_sip_tcp_receive_cb cb, void *data, pv_sip_tcp **out);
/* Sends one message to `to`, connecting first when no connection to it is open; PV_ELIMIT
 * when every connection is busy. A failed connection drops what was queued on it. */
int pv_sip_tcp_send(pv_sip_tcp *t, const struct sockaddr *to, const void *msg, size_t len);
/* Messages dropped: unparsable, too large, or queued on a connection that failed. */
uint64_t pv_sip_tcp_dropped(const pv_sip_tcp *t);
void pv_sip_tcp_close(pv_sip_tcp *t, void (*done)(void *data), void *data);

#endif
