/*
 * fetch_request.h — an agent action as a net/fetch request, and a fetch's
 * result as the agent's response: the one translation both hosts of the
 * engine use (the phone, src/phone/phone.c, and the fleet, src/fleet).
 *
 * What it is for: a FETCH or UPLOAD action (provisor/agent.h) carries what a
 * phone sends; the fetcher (net/fetch.h) sends it. Besides copying fields,
 * the host must remember the last 401's challenge and hand it back on the
 * retry to the same URL (spec 8.2: the phone's one retry answers that
 * challenge — Basic at once, Digest per RFC 7616), so that a simulated phone
 * sends exactly what a phone sends. pv_agent_challenge is that memory.
 *
 * Ownership: a request's strings point into the action and the challenge (no
 * copy: pv_fetch_start copies what it keeps); a response's strings point into
 * the result and live during the fetch callback. A pv_agent_challenge is owned
 * by its host; pv_agent_challenge_clear frees what it holds.
 */
#ifndef PV_PHONE_FETCH_REQUEST_H
#define PV_PHONE_FETCH_REQUEST_H

#include "net/fetch.h"
#include "provisor/agent.h"

#include <stdbool.h>

/* The last 401 a phone got: its WWW-Authenticate and the URL it answered. */
typedef struct pv_agent_challenge {
    char scheme[16]; /* "Basic", "Digest" (the value's first word, cut at 15) */
    char *value;     /* the whole WWW-Authenticate value, at most 4096 bytes */
    char *url;       /* the request it answered */
} pv_agent_challenge;

/*
 * Fills *out from act: every field a phone sends, and the challenge (c may be
 * NULL) when act offers credentials for the URL c was answered to. max_body
 * is the fetch's limit (0: the fetcher's); cert_file/key_file and
 * local_address are left NULL for the host to set.
 */
void pv_agent_fetch_request(const pv_agent_action *act, const pv_agent_challenge *c,
                            size_t max_body, pv_fetch_request *out);

/* The engine's view of a fetch's outcome (strings borrowed from r). */
void pv_agent_response_from_fetch(const pv_fetch_result *r, pv_agent_response *out);

/* Remembers r's challenge when r is a 401 with one (url: the request's); true if it did. */
bool pv_agent_challenge_note(pv_agent_challenge *c, const char *url, const pv_fetch_result *r);
void pv_agent_challenge_clear(pv_agent_challenge *c);

#endif
