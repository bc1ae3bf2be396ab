/*
 * tftp_rto.h — a TFTP transfer's retransmission timeout: the RFC 6298
 * estimator over round-trip samples and exponential backoff on timeouts.
 *
 * The transfer owns the state (one pv__tftp_rto per transfer) and applies
 * Karn's rule itself: it takes no sample from a window or control packet that
 * was sent again. A timeout negotiated with RFC 2349 replaces the estimate
 * and is never sampled. Pure: samples come in as milliseconds.
 */
#ifndef PV_NET_TFTP_RTO_H
#define PV_NET_TFTP_RTO_H

#define PV__TFTP_RTO_MIN_MS 100   /* lowest estimate, unless the configured timeout is lower */
#define PV__TFTP_RTO_MAX_MS 10000 /* highest timeout, estimate or backoff */

typedef struct pv__tftp_rto {
    double srtt, rttvar; /* RFC 6298 §2; srtt 0: no sample yet */
    unsigned ms;         /* the current timeout */
} pv__tftp_rto;

/* Starts at initial_ms (the configured timeout, the RFC 6298 §2.1 initial RTO). */
void pv__tftp_rto_init(pv__tftp_rto *rto, unsigned initial_ms);
/* RFC 6298 §2.2-2.4 with one round-trip sample; the timeout stays within the floor (the
 * smaller of PV__TFTP_RTO_MIN_MS and a fifth of the configured timeout, plus one) and
 * PV__TFTP_RTO_MAX_MS. */
void pv__tftp_rto_sample(pv__tftp_rto *rto, double rtt_ms, unsigned configured_ms);
/* RFC 6298 §5.5: a timeout doubles the timeout, up to PV__TFTP_RTO_MAX_MS. */
void pv__tftp_rto_backoff(pv__tftp_rto *rto);

#endif
