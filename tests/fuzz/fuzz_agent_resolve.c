/*
 * Fuzz target: the phone engine's name resolution (agent/resolve.c) fed
 * whatever DNS might say — SRV records with any target ("", ".", a number, a
 * long name), port, priority and weight, more of them than it keeps; address
 * lists with text that is no address; failed lookups — while connections fail
 * or servers answer. The engine must not crash, must keep its bounds, must
 * hand every FETCH a numeric address (phone/fetch_request.h passes it on as
 * connect_address), and the resync must end within a bounded number of steps.
 */
#include "phone/fetch_request.h"
#include "provisor/agent.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct input {
    const uint8_t *p;
    size_t n;
} input;

static unsigned take(input *in)
{
    if (in->n == 0)
        return 0;
    in->n--;
    return *in->p++;
}

static const char *text(input *in, char *buf, size_t size)
{
    static const char *pool[] = {"", ".", "a.example", "b.example", "127.0.0.1", "::1",
                                 "300.1.1.1", "not an address", "c.example"};
    unsigned k = take(in);
    if (k < 200)
        return pool[k % (sizeof pool / sizeof pool[0])];
    size_t len = take(in) % (size - 1); /* a name from the input itself */
    size_t i = 0;
    for (; i < len && in->n > 0; i++)
        buf[i] = (char)(take(in) | 1); /* no NUL inside */
    buf[i] = '\0';
    return buf;
}

static int numeric(const char *s)
{
    unsigned char b[16];
    return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static pv_agent_defaults *defs;
    if (defs == NULL)
        defs = pv_agent_defaults_new(PV_AGENT_MPP);
    input in = {data, size};
    pv_agent_identity id = {.mac = "000e08012345"};
    pv_agent *a;
    if (pv_agent_new(&a, defs, &id, take(&in), NULL) != 0)
        __builtin_trap();
    pv_agent_set_host_resolves(a, true);
    pv_agent_boot(a, 0);
    static const char *rules[] = {"[--srv] http://example.net/a.xml",
                                  "[--srv] https://example.net/$PSN.xml",
                                  "http://name.example/a.xml", "http://127.0.0.1:8080/a.xml"};
    pv_error err;
    if (pv_agent_resync(a, 0, rules[take(&in) % 4], &err) != 0)
        __builtin_trap(); /* every rule above parses */
    size_t fetches = 0;
    for (int steps = 0; steps < 400; steps++) {
        pv_agent_action act;
        if (!pv_agent_next_action(a, &act))
            break;
        if (act.kind == PV_AGENT_ACT_RESOLVE) {
            char names[PV_AGENT_MAX_SRV + 4][64], addrs[PV_AGENT_MAX_ADDRESSES + 4][64];
            pv_agent_srv srv[PV_AGENT_MAX_SRV + 4];
            const char *list[PV_AGENT_MAX_ADDRESSES + 4];
            size_t n = take(&in) % (PV_AGENT_MAX_SRV + 4);
            pv_agent_resolution r = {.error = take(&in) % 5 == 0 ? -1 : 0};
            if (act.lookup == PV_AGENT_LOOKUP_SRV) {
                for (size_t i = 0; i < n; i++)
                    srv[i] = (pv_agent_srv){.target = text(&in, names[i], sizeof names[i]),
                                            .port = (uint16_t)(take(&in) << 8 | take(&in)),
                                            .priority = (uint16_t)take(&in),
                                            .weight = (uint16_t)(take(&in) << 8 | take(&in))};
                r.srv = srv;
                r.nsrv = n;
            } else {
                n %= PV_AGENT_MAX_ADDRESSES + 4;
                for (size_t i = 0; i < n; i++)
                    list[i] = text(&in, addrs[i], sizeof addrs[i]);
                r.addresses = list;
                r.naddresses = n;
            }
            if (pv_agent_resolve_done(a, 0, act.id, &r) != 0)
                __builtin_trap(); /* the id it just asked with */
        } else if (act.kind == PV_AGENT_ACT_FETCH) {
            fetches++;
            pv_fetch_request rq;
            pv_agent_fetch_request(&act, NULL, 0, &rq);
            if (act.address == NULL || !numeric(act.address) || rq.connect_address != act.address)
                __builtin_trap(); /* a host that resolves always gets the address to use */
            unsigned k = take(&in) % 4;
            static const char body[] = "<flat-profile><Station_Name>x</Station_Name></flat-profile>";
            pv_agent_response resp = {.error = k == 0 ? -1 : 0,
                                      .status = k == 0 ? 0 : k == 1 ? 500 : 200,
                                      .body = body,
                                      .body_len = sizeof body - 1};
            if (pv_agent_fetch_done(a, 0, act.id, &resp) != 0)
                __builtin_trap();
        }
    }
    /* at most every address of every target kept, plus the first try */
    if (fetches > (size_t)PV_AGENT_MAX_SRV * PV_AGENT_MAX_ADDRESSES + 1)
        __builtin_trap();
    pv_agent_free(a);
    return 0;
}
