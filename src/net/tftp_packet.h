/*
 * tftp_packet.h — TFTP packets as bytes: parse and build RRQ/WRQ (with RFC
 * 2347 options), DATA, ACK, ERROR and OACK, and the netascii conversion.
 *
 * Pure functions, no I/O, no allocation on parse: a parsed pv_tftp_packet
 * borrows slices of the caller's datagram and lives no longer than it. The
 * parser is the first thing an attacker's bytes meet, so it bounds everything
 * (request size, option count) and says precisely what was wrong; the fuzz
 * target fuzz_tftp drives it. The server (tftp_server.c) owns all policy:
 * which options it accepts, limits, retransmission.
 */
#ifndef PV_NET_TFTP_PACKET_H
#define PV_NET_TFTP_PACKET_H

#include "core/buf.h"
#include "core/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 1350 §5, RFC 2347 (OACK). */
typedef enum {
    PV_TFTP_RRQ = 1,
    PV_TFTP_WRQ = 2,
    PV_TFTP_DATA = 3,
    PV_TFTP_ACK = 4,
    PV_TFTP_ERROR = 5,
    PV_TFTP_OACK = 6,
} pv_tftp_opcode;

/* RFC 1350 appendix, RFC 2347 (8). */
typedef enum {
    PV_TFTP_ENOTDEFINED = 0,
    PV_TFTP_ENOTFOUND = 1,
    PV_TFTP_EACCESS = 2,
    PV_TFTP_EDISKFULL = 3,
    PV_TFTP_EBADOP = 4,
    PV_TFTP_EBADID = 5,
    PV_TFTP_EEXISTS = 6,
    PV_TFTP_ENOUSER = 7,
    PV_TFTP_EOPTNEG = 8,
} pv_tftp_error_code;

typedef enum { PV_TFTP_MODE_OCTET, PV_TFTP_MODE_NETASCII } pv_tftp_mode;

/* RFC 2347 §2: "the maximum size of a request packet is 512 octets". */
#define PV_TFTP_MAX_REQUEST 512
/* More options than any RFC defines (blksize, tsize, timeout, windowsize,
 * multicast, ...); a request with more is an option flood and is refused. */
#define PV_TFTP_MAX_OPTIONS 16
/* RFC 2348: blksize 8..65464; RFC 1350 default 512. */
#define PV_TFTP_BLKSIZE_MIN 8
#define PV_TFTP_BLKSIZE_MAX 65464
#define PV_TFTP_BLKSIZE_DEFAULT 512
/* Largest datagram the protocol produces: DATA header + the largest block. */
#define PV_TFTP_MAX_PACKET (4 + PV_TFTP_BLKSIZE_MAX)

typedef struct pv_tftp_option {
    pv_slice name; /* as sent; compare case-insensitively (RFC 2347) */
    pv_slice value;
} pv_tftp_option;

typedef struct pv_tftp_packet {
    pv_tftp_opcode opcode;
    /* RRQ, WRQ */
    pv_slice filename;
    pv_slice mode_name;
    pv_tftp_mode mode;
    /* RRQ, WRQ, OACK */
    pv_tftp_option options[PV_TFTP_MAX_OPTIONS];
    size_t option_count;
    /* DATA, ACK */
    uint16_t block;
    /* DATA */
    pv_slice data;
    /* ERROR */
    uint16_t error_code;
    pv_slice error_message;
} pv_tftp_packet;

/*
 * Parses one datagram. Returns 0, or PV_ETRUNC (shorter than its opcode
 * needs), PV_ETOOBIG (request over 512 bytes, too many options, DATA over
 * the largest block), PV_ESYNTAX (missing NUL, empty file name, option
 * without value), PV_ENOTSUP (unknown opcode, unknown or "mail" mode), with a
 * message in err.
 */
int pv_tftp_parse(const void *data, size_t len, pv_tftp_packet *pkt, pv_error *err);

/* Looks up a request option by name (case-insensitive); NULL if absent. */
const pv_tftp_option *pv_tftp_find_option(const pv_tftp_packet *pkt, const char *name);

/* Parses a decimal option value in [min, max]; PV_ESYNTAX or PV_ERANGE. */
int pv_tftp_option_uint(pv_slice value, uint64_t min, uint64_t max, uint64_t *out);

/* The options a server understands, as requested (0 / false: absent). */
typedef struct pv_tftp_requested {
    uint64_t blksize;    /* RFC 2348: 8..65464 */
    uint64_t timeout;    /* RFC 2349: 1..255 seconds */
    uint64_t windowsize; /* RFC 7440: 1..65535 */
    uint64_t tsize;      /* RFC 2349 */
    bool has_tsize;
} pv_tftp_requested;

/* Reads blksize, timeout, windowsize and tsize from a request; others are
 * ignored (RFC 2347). PV_ERANGE with a message naming the option and its
 * valid range when a value is not acceptable (the server answers ERROR 8). */
int pv_tftp_parse_requested(const pv_tftp_packet *pkt, pv_tftp_requested *out, pv_error *err);

/* The TFTP error code for a handler's HTTP-style status: 404 → 1 File not
 * found, 403 → 2 Access violation, 413 → 3 Disk full, 400 → 4 Illegal
 * operation, others → 0. *text (if not NULL) gets the standard wording. */
uint16_t pv_tftp_error_for_status(int status, const char **text);

/* Builders append one packet to out. */
void pv_tftp_build_request(pv_buf *out, pv_tftp_opcode op, pv_slice filename, pv_slice mode,
                           const pv_tftp_option *options, size_t count);
void pv_tftp_build_oack(pv_buf *out, const pv_tftp_option *options, size_t count);
void pv_tftp_build_ack(pv_buf *out, uint16_t block);
void pv_tftp_build_data(pv_buf *out, uint16_t block, const void *data, size_t len);
void pv_tftp_build_error(pv_buf *out, uint16_t code, const char *message);
/* Writes a 4-byte header (opcode, block) at p: DATA packets are built in place. */
void pv_tftp_put_header(uint8_t *p, pv_tftp_opcode op, uint16_t block);

/*
 * Netascii (RFC 1350, "netascii"; RFC 764): on the wire LF is CR LF and a
 * bare CR is CR NUL. The encoder turns file bytes into wire bytes: it
 * consumes from in (setting *in_used) and fills out up to out_cap; *pending
 * carries the second byte of a pair split across calls (-1: none). The
 * decoder reverses it into out (room for in_len + 1 bytes); *cr carries a CR
 * seen at the end of the previous block (a CR still pending at the end of
 * the upload is a bare CR: the caller appends it). Both return the number of
 * bytes written.
 */
size_t pv_tftp_netascii_encode(const uint8_t *in, size_t in_len, size_t *in_used, uint8_t *out,
                               size_t out_cap, int *pending);
size_t pv_tftp_netascii_decode(const uint8_t *in, size_t in_len, uint8_t *out, bool *cr);

const char *pv_tftp_opcode_name(int opcode);

#endif
