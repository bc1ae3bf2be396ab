/*
 * sip_transport.h — SIP over UDP on a libuv loop (RFC 3261 §18).
 *
 * What it is for: the socket both SIP sides share — the phone's line (it
 * registers from it and receives NOTIFY on it) and the server's notifier (it
 * sends NOTIFY from it and reads the answers). A datagram is one message
 * (§18.3: UDP needs no framing); it is parsed with net/sip_msg and handed to
 * the owner's callback with the peer's address, or counted as dropped when it
 * does not parse or is larger than PV_SIP_MAX_MESSAGE. Nothing here knows a
 * transaction or a dialog: retransmission and matching are the owner's.
 *
 * Ownership: the caller owns the loop and the transport until close's
 * callback; the message given to the callback is freed when it returns.
 */
#ifndef PV_NET_SIP_TRANSPORT_H
#define PV_NET_SIP_TRANSPORT_H

#include "core/error.h"
#include "net/sip_msg.h"

#include <stdint.h>
#include <uv.h>

typedef struct pv_sip_transport pv_sip_transport;

typedef void (*pv_sip_receive_cb)(pv_sip_transport *t, const pv_sip_msg *m,
                                  const struct sockaddr *peer, void *data);

/*
 * "127.0.0.1:5060", "[::1]:5060", "0.0.0.0:0" (any free port), or a host
 * without port (then default_port). Only IP literals: a local address is
 * never looked up.
 */
int pv_sip_parse_address(const char *text, uint16_t default_port, struct sockaddr_storage *out,
                         pv_error *err);

int pv_sip_transport_new(uv_loop_t *loop, const char *address, uint16_t default_port,
                         pv_sip_receive_cb cb, void *data, pv_sip_transport **out, pv_error *err);
/* Sends one message; PV_ECONN when the kernel refused it (the caller retransmits). */
int pv_sip_transport_send(pv_sip_transport *t, const struct sockaddr *to, const void *msg,
                          size_t len);
/* The bound address: host ("127.0.0.1", "::1") and port, and "host:port" ("[::1]:port"). */
const char *pv_sip_transport_host(const pv_sip_transport *t);
uint16_t pv_sip_transport_port(const pv_sip_transport *t);
const char *pv_sip_transport_address(const pv_sip_transport *t);
/* Asks the kernel for a receive buffer of `bytes` (capped by net.core.rmem_max): a sender of
 * hundreds of requests a second gets their answers in bursts, and a default buffer (~200 KB)
 * overflows under them, which looks like timeouts. Returns the size granted. */
int pv_sip_transport_set_receive_buffer(pv_sip_transport *t, int bytes);
/* Datagrams dropped because they did not parse or were too large. */
uint64_t pv_sip_transport_dropped(const pv_sip_transport *t);
void pv_sip_transport_close(pv_sip_transport *t, void (*done)(void *data), void *data);

#endif
