/* tftp_negotiate.c — RFC 2347 option negotiation and the OACK; see tftp_negotiate.h. */
#include "net/tftp_negotiate.h"

#include "net/tftp_rto.h"

#include <stdio.h>

static void add_opt(pv_tftp_option *opts, size_t *n, char vals[][24], const char *name, uint64_t v)
{
    snprintf(vals[*n], 24, "%llu", (unsigned long long)v); /* 20 digits at most: fits */
    opts[*n] = (pv_tftp_option){pv_slice_from(name), pv_slice_from(vals[*n])};
    (*n)++;
}

bool pv__tftp_negotiate(const pv_tftp_requested *opt, const pv_tftp_limits *lim,
                        const pv__tftp_offer *offer, pv__tftp_agreed *out, pv_buf *oack)
{
    pv_tftp_option opts[4];
    char vals[4][24];
    size_t n = 0;
    *out = (pv__tftp_agreed){.blksize = PV_TFTP_BLKSIZE_DEFAULT, .windowsize = 1};
    if (opt->blksize) { /* RFC 2348: the server may answer a smaller size */
        unsigned cap = offer->mtu_blksize;
        if (lim->max_blksize < cap)
            cap = lim->max_blksize;
        out->blksize = opt->blksize < cap ? (unsigned)opt->blksize : cap;
        if (out->blksize < PV_TFTP_BLKSIZE_MIN)
            out->blksize = PV_TFTP_BLKSIZE_MIN;
        add_opt(opts, &n, vals, "blksize", out->blksize);
    }
    if (opt->has_tsize) {
        /* RFC 2349: in a RRQ we answer the size; netascii sizes are not known
         * before conversion, so the option is left out then. */
        if (offer->write)
            add_opt(opts, &n, vals, "tsize", opt->tsize);
        else if (offer->size_known && offer->size > 0)
            /* curl (7.88) rejects "tsize 0" in an OACK as illegal: an empty
             * file's size goes unsaid, which RFC 2347 allows. */
            add_opt(opts, &n, vals, "tsize", offer->size);
    }
    /* RFC 2349: seconds, 1..255 (checked by the parser). One longer than the server ever
     * waits is declined — left out of the OACK (RFC 2347) — or a single request that is
     * never acknowledged holds a transfer slot for minutes (255 s before the first resend). */
    if (opt->timeout && opt->timeout * 1000 <= PV__TFTP_RTO_MAX_MS) {
        out->timeout_ms = (unsigned)opt->timeout * 1000;
        add_opt(opts, &n, vals, "timeout", opt->timeout);
    }
    if (opt->windowsize) { /* RFC 7440: the server may answer a smaller window */
        unsigned cap = lim->max_windowsize ? lim->max_windowsize : 1;
        unsigned fits = PV__TFTP_WINDOW_BYTES / out->blksize;
        if (cap > fits)
            cap = fits > 0 ? fits : 1;
        out->windowsize = opt->windowsize < cap ? (unsigned)opt->windowsize : cap;
        add_opt(opts, &n, vals, "windowsize", out->windowsize);
    }
    pv_buf_reset(oack);
    if (n > 0)
        pv_tftp_build_oack(oack, opts, n);
    return n > 0;
}
