/*
 * fuzz_tftp — the TFTP packet parser on any bytes: it must never crash, never
 * read outside the datagram, and a request or OACK that parses must survive
 * being built back and parsed again unchanged. Netascii encode/decode must
 * round-trip the same bytes.
 */
#include "core/buf.h"
#include "net/tftp_packet.h"

#include <stdlib.h>
#include <string.h>

static void check_round_trip(const pv_tftp_packet *pkt)
{
    pv_buf b = {0};
    if (pkt->opcode == PV_TFTP_RRQ || pkt->opcode == PV_TFTP_WRQ)
        pv_tftp_build_request(&b, pkt->opcode, pkt->filename, pkt->mode_name, pkt->options,
                              pkt->option_count);
    else if (pkt->opcode == PV_TFTP_OACK)
        pv_tftp_build_oack(&b, pkt->options, pkt->option_count);
    else {
        pv_buf_free(&b);
        return;
    }
    pv_tftp_packet again;
    /* Trailing NUL padding may have been dropped, so the rebuilt one can only be shorter. */
    if (pv_tftp_parse(b.data, b.len, &again, NULL) != 0)
        abort();
    if (again.option_count != pkt->option_count || !pv_slice_eq(again.filename, pkt->filename) ||
        again.mode != pkt->mode)
        abort();
    for (size_t i = 0; i < again.option_count; i++) {
        if (!pv_slice_eq(again.options[i].name, pkt->options[i].name) ||
            !pv_slice_eq(again.options[i].value, pkt->options[i].value))
            abort();
    }
    pv_buf_free(&b);
}

static void check_netascii(const uint8_t *data, size_t size)
{
    uint8_t *wire = malloc(2 * size + 1), *back = malloc(2 * size + 2);
    size_t used = 0;
    int pending = -1;
    size_t n = pv_tftp_netascii_encode(data, size, &used, wire, 2 * size + 1, &pending);
    if (used != size || pending != -1)
        abort();
    bool cr = false;
    size_t m = pv_tftp_netascii_decode(wire, n, back, &cr);
    if (cr || m != size || memcmp(back, data, size) != 0)
        abort();
    free(wire);
    free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pv_tftp_packet pkt;
    if (pv_tftp_parse(data, size, &pkt, NULL) == 0)
        check_round_trip(&pkt);
    if (size <= 4096)
        check_netascii(data, size);
    return 0;
}
