/*
 * tftp_admit.h — who gets a TFTP transfer when requests come faster than the
 * server keeps them (issue 15, docs/security.md "TFTP"). Private to the TFTP
 * server (tftp_server.c asks, tftp_transfer.c reports outcomes).
 *
 * TFTP has no identity before the request and any source address can be
 * spoofed, so the rules lean on the two things a request does carry:
 *
 * Identity by file name. A request whose file name names a device
 * (`SEP<MAC>.cnf.xml`, `spa<mac>.cfg`, `<mac>.xml`: core/device_id.h) counts
 * against its address at PV_TFTP_IDENTIFIED_PER_SOURCE times the per-address
 * limits (concurrent transfers, requests a second): an office of phones behind
 * one NAT address boots at once, as over HTTPS with certificates. A name is
 * only a claim, so the address keeps that credit while its named requests
 * succeed: each one that finds nothing (404, 403, 400) counts against it, each
 * success takes one back, and past PV__TFTP_ID_FAILURES the address is held
 * to the plain limits again — an address sending garbage stays limited.
 *
 * Half-open eviction. A transfer is half-open until its peer answers (what a
 * spoofed source never does); their number per loop is bounded. When it is
 * full, the victim is chosen so that a real client's transfer survives a flood
 * of spoofed ones:
 *   - a half-open transfer is never evicted before its first retransmission
 *     timeout (`timeout_ms`: the time we give a real peer to answer) by a
 *     request from an address that never proved itself; that request is
 *     dropped instead, silently, as if lost — the client resends it on its own
 *     timer and finds room, while a transfer once started is not cut under it;
 *   - a request from a proven address (one of its peers answered within
 *     PV__TFTP_PROVEN_MS) may end any transfer of an unproven address;
 *   - transfers of unproven addresses go before those of proven ones, then
 *     those of the address holding the most half-open transfers (a flood from
 *     one address evicts itself first), then the oldest.
 * Transfers whose peer has answered are never in the budget, so never evicted.
 */
#ifndef PV_NET_TFTP_ADMIT_H
#define PV_NET_TFTP_ADMIT_H

#include "core/buf.h"
#include "net/tftp_transfer.h"

#include <stdbool.h>

/* Named requests may use this many times the per-address limits (an office behind NAT). */
#define PV_TFTP_IDENTIFIED_PER_SOURCE 16
/* Named requests of an address that found nothing, beyond which its credit is gone. */
#define PV__TFTP_ID_FAILURES 8

/* Whether this request names a device and its address still has the credit of one. */
bool pv__tftp_identified(const pv__tftp_source *s, pv_slice filename);
/* Tokens of the address's request bucket the request costs (1, or less when identified). */
double pv__tftp_request_cost(bool identified);
/* Whether the address may start one more transfer for this request: up to max_per_source
 * any; beyond, up to PV_TFTP_IDENTIFIED_PER_SOURCE times that for named requests, one
 * transfer per device at a time (a device never needs two at once; 200 requests naming one
 * device from one address are held to the plain limit). */
bool pv__tftp_source_has_room(pv_tftp_server *server, const pv__tftp_source *s,
                              bool identified, pv_slice filename);
/* A named request ended with status: the address's credit follows what it found. */
void pv__tftp_identity_outcome(pv__tftp_source *s, int status);

/* Makes room for a request from source: ends half-open transfers by the rules above while
 * the budget (or the table) is full. False when no transfer may be ended for it: the request
 * is dropped. */
bool pv__tftp_make_room(pv_tftp_server *server, const pv__tftp_source *source);

#endif
