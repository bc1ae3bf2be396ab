/* tftp_rto.c — RFC 6298 retransmission timeout for TFTP transfers; see tftp_rto.h. */
#include "net/tftp_rto.h"

void pv__tftp_rto_init(pv__tftp_rto *rto, unsigned initial_ms)
{
    *rto = (pv__tftp_rto){.ms = initial_ms ? initial_ms : 1000};
}

void pv__tftp_rto_sample(pv__tftp_rto *rto, double r, unsigned configured_ms)
{
    if (rto->srtt == 0) { /* RFC 6298 §2.2: the first measurement */
        rto->srtt = r;
        rto->rttvar = r / 2;
    } else { /* §2.3: alpha 1/8, beta 1/4 */
        double d = rto->srtt > r ? rto->srtt - r : r - rto->srtt;
        rto->rttvar = 0.75 * rto->rttvar + 0.25 * d;
        rto->srtt = 0.875 * rto->srtt + 0.125 * r;
    }
    double t = rto->srtt + 4 * rto->rttvar;
    /* §2.4 asks for a floor of one second; a LAN full of phones needs far less, so the floor
     * is lower, and never above what the operator configured. */
    unsigned floor_ms =
        configured_ms < PV__TFTP_RTO_MIN_MS ? configured_ms / 5 + 1 : PV__TFTP_RTO_MIN_MS;
    rto->ms =
        t < floor_ms ? floor_ms : (t > PV__TFTP_RTO_MAX_MS ? PV__TFTP_RTO_MAX_MS : (unsigned)t);
}

void pv__tftp_rto_backoff(pv__tftp_rto *rto)
{
    rto->ms = rto->ms * 2 > PV__TFTP_RTO_MAX_MS ? PV__TFTP_RTO_MAX_MS : rto->ms * 2;
}
