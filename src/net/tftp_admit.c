/* tftp_admit.c — identity by file name and half-open eviction for TFTP; see tftp_admit.h. */
#include "net/tftp_admit.h"

#include "core/device_id.h"

#include <string.h>
#include <uv.h>

bool pv__tftp_identified(const pv__tftp_source *s, pv_slice filename)
{
    pv_mac mac;
    return s->id_failures < PV__TFTP_ID_FAILURES && pv_mac_from_path(filename, &mac);
}

double pv__tftp_request_cost(bool identified)
{
    return identified ? 1.0 / PV_TFTP_IDENTIFIED_PER_SOURCE : 1.0;
}

bool pv__tftp_source_has_room(pv_tftp_server *server, const pv__tftp_source *s,
                              bool identified, pv_slice filename)
{
    unsigned plain = server->limits.max_per_source;
    if (s->active < plain)
        return true;
    if (!identified || s->active >= plain * PV_TFTP_IDENTIFIED_PER_SOURCE)
        return false;
    pv_mac want, mac;
    if (!pv_mac_from_path(filename, &want))
        return false;
    /* beyond the plain share: the device must not have a transfer from this address yet */
    for (pv__tftp_transfer *t = server->transfers; t != NULL; t = pv__tftp_transfer_next(t))
        if (pv__tftp_transfer_source(t) == s &&
            pv_mac_from_path(pv_slice_from(pv__tftp_transfer_path(t)), &mac) &&
            strcmp(mac.hex, want.hex) == 0)
            return false;
    return true;
}

void pv__tftp_identity_outcome(pv__tftp_source *s, int status)
{
    if (status >= 200 && status < 300) {
        if (s->id_failures > 0)
            s->id_failures--;
    } else if (status == 400 || status == 403 || status == 404) {
        /* it named a device and found nothing: a claim that did not hold */
        if (s->id_failures < PV__TFTP_ID_FAILURES)
            s->id_failures++;
    }
}

/* The order of eviction: unproven before proven, the address holding the most half-open
 * transfers first; the list is walked oldest first, so ties go to the oldest. */
static unsigned long long victim_rank(pv_tftp_server *server, const pv__tftp_source *s)
{
    bool proven = pv__tftp_source_is_proven(server, s);
    return ((unsigned long long)!proven << 32) | s->half_open;
}

/* The half-open transfer to end for a request from source, or NULL. */
static pv__tftp_transfer *victim(pv_tftp_server *server, const pv__tftp_source *source)
{
    bool newcomer_proven = pv__tftp_source_is_proven(server, source);
    uint64_t grace_ns = (uint64_t)server->limits.timeout_ms * 1000000u, now = uv_hrtime();
    pv__tftp_transfer *best = NULL;
    unsigned long long best_rank = 0;
    for (pv__tftp_transfer *t = server->half_open_oldest; t != NULL; t = pv__tftp_half_open_newer(t)) {
        const pv__tftp_source *s = pv__tftp_transfer_source(t);
        bool graced = now - pv__tftp_transfer_started_ns(t) < grace_ns;
        /* within its grace only a proven address's request may end it, and only if it is
         * itself an unproven address's */
        if (graced && (!newcomer_proven || pv__tftp_source_is_proven(server, s))) {
            if (!newcomer_proven)
                break; /* the rest are younger still */
            continue;
        }
        unsigned long long rank = victim_rank(server, s);
        if (best == NULL || rank > best_rank) {
            best = t;
            best_rank = rank;
        }
    }
    return best;
}

bool pv__tftp_make_room(pv_tftp_server *server, const pv__tftp_source *source)
{
    while (server->half_open >= server->limits.max_half_open ||
           server->transfer_count >= server->limits.max_transfers) {
        pv__tftp_transfer *t = server->half_open_oldest != NULL ? victim(server, source) : NULL;
        if (t == NULL)
            break;
        pv__tftp_transfer_evict(t);
    }
    return server->half_open < server->limits.max_half_open;
}
