/*
 * tftp_transfer_int.h — one TFTP transfer's state, shared by the files of its
 * state machine: tftp_transfer.c (lifetime, the handler, the write side,
 * events and timing) and tftp_send.c (the read side's windows). Private to
 * them; the server sees a transfer through tftp_transfer.h only.
 */
#ifndef PV_NET_TFTP_TRANSFER_INT_H
#define PV_NET_TFTP_TRANSFER_INT_H

#include "net/tftp_body.h"
#include "net/tftp_negotiate.h"
#include "net/tftp_rto.h"
#include "net/tftp_transfer.h"

typedef enum {
    T_HANDLER,   /* RRQ: waiting for the handler's answer */
    T_OACK,      /* RRQ: OACK sent, waiting for ACK 0 */
    T_SENDING,   /* RRQ: sending windows */
    T_RECEIVING, /* WRQ: receiving blocks */
    T_UPLOADED,  /* WRQ: complete, waiting for the handler's answer */
    T_DALLY,     /* WRQ: final ACK sent; re-ACK a repeated last block */
    T_CLOSED,
} t_state;

struct pv__tftp_transfer {
    pv_tftp_server *server;
    pv__tftp_transfer *prev, *next_t;
    pv__tftp_transfer *half_older, *half_newer; /* in the half-open list until proven */
    pv__tftp_source *source;
    t_state state;
    bool write, want_write;
    bool proven;      /* the peer answered on our port (a spoofed one cannot); else half-open */
    bool identified;  /* its file name names a device (tftp_admit.h) */
    bool answered;    /* a first packet went out */
    size_t first_len; /* the first packet's length (what a resend of it costs) */
    pv_tftp_mode mode;
    /* The request, the handler's answer, the log line and the orphan state (exchange.h):
     * the transfer outlives its end until the handler has answered. */
    pv_exchange ex;
    struct sockaddr_storage peer, local;
    char *path;          /* the file name asked for: ex.req.path */
    pv__tftp_sock *sock; /* NULL once given back */
    int fd;              /* sock->fd */
    uv_timer_t timer;
    /* Requested options (0: absent) and what was agreed. */
    pv_tftp_requested opt;
    unsigned blksize, windowsize;
    pv_buf ctl;         /* the last OACK or ACK, sent again on timeout */
    pv__tftp_body body; /* what a read sends */
    uint8_t *pkt;
    uint64_t acked, next, sent_max;
    /* Write: the upload. */
    pv_buf upload;
    bool cr, gap_acked;
    uint64_t expected;
    unsigned in_window;
    /* Timing. */
    uint64_t start_ns, window_ns;
    bool karn; /* a retransmission since the last sample: no RTT sample (Karn) */
    pv__tftp_rto rto;
    unsigned retries, retransmits;
    uint64_t bytes;
};

/* tftp_transfer.c */
/* Until the peer has answered, a packet of len bytes is paid from its address's
 * amplification budget: false when it cannot be (then it is not sent, as if lost). */
bool pv__tftp_t_may_send(pv__tftp_transfer *t, size_t len);
/* (Re)arms the transfer's timer, ms from now (half-open: the configured timeout at most). */
void pv__tftp_t_arm(pv__tftp_transfer *t, uint64_t ms);
/* Watches the socket for writability when t->want_write says so, else not. */
void pv__tftp_t_set_poll(pv__tftp_transfer *t);
/* An RTT sample from the window (or control packet) just answered (RFC 6298, Karn). */
void pv__tftp_t_sample_rtt(pv__tftp_transfer *t);
/* The transfer ends with status (200: done); fail also tells the peer with an ERROR code. */
void pv__tftp_t_finish(pv__tftp_transfer *t, int status, const char *reason);
void pv__tftp_t_fail(pv__tftp_transfer *t, int status, uint16_t code, const char *reason);

/* tftp_send.c: the read side */
/* The first window, once the handler's answer (and an OACK's ACK 0) allow it. */
void pv__tftp_start_sending(pv__tftp_transfer *t);
/* Sends what the window allows from t->next on, then waits for an ACK (or writability). */
void pv__tftp_send_window(pv__tftp_transfer *t);
/* An ACK of block from the peer. */
void pv__tftp_on_ack(pv__tftp_transfer *t, uint16_t block);

#endif
