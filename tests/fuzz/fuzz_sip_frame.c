/* Fuzz target: SIP over TCP's framing (net/sip_tcp.h pv_sip_frame, RFC 3261 §18.3) — a stream's
 * bytes as a peer may send them: the first message's length from its blank line and
 * Content-Length. A frame never claims more bytes than were given or than
 * PV_SIP_MAX_MESSAGE, and framing a prefix of the bytes never finds a longer message. */
#include "net/sip_msg.h"
#include "net/sip_tcp.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t len = 0;
    int rc = pv_sip_frame((const char *)data, size, &len);
    if (rc == 1) {
        if (len > size || len > PV_SIP_MAX_MESSAGE || len < 4)
            __builtin_trap();
        size_t again = 0;
        if (pv_sip_frame((const char *)data, len, &again) != 1 || again != len)
            __builtin_trap(); /* the message alone frames the same */
        pv_sip_msg *m = NULL;
        pv_error err;
        if (pv_sip_parse(data, len, &m, &err) == 0)
            pv_sip_msg_free(m);
    } else if (rc != 0 && rc != -1) {
        __builtin_trap();
    }
    return 0;
}
