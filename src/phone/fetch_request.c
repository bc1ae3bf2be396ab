/*
 * fetch_request.c — agent actions to net/fetch requests and back (see
 * fetch_request.h).
 */
#include "phone/fetch_request.h"

#include "core/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHALLENGE_MAX 4096 /* one header: bounded memory per phone */

void pv_agent_fetch_request(const pv_agent_action *act, const pv_agent_challenge *c,
                            size_t max_body, pv_fetch_request *out)
{
    *out = (pv_fetch_request){.url = act->url,
                              .method = act->method,
                              .body = act->body,
                              .body_len = act->body_len,
                              .content_type = act->content_type,
                              .content_encoding = act->content_encoding,
                              .uid = act->uid,
                              .pwd = act->pwd,
                              .user_agent = act->user_agent,
                              .client_cert = act->client_cert,
                              .connect_address = act->address,
                              .max_body = max_body};
    /* spec 8.2: the retry after a 401 answers that 401's challenge, and only for that URL */
    if (act->uid != NULL && c != NULL && c->url != NULL && strcmp(c->url, act->url) == 0) {
        out->auth_scheme = c->scheme;
        out->challenge = c->value; /* a Digest answer goes with this very request */
    }
}

void pv_agent_response_from_fetch(const pv_fetch_result *r, pv_agent_response *out)
{
    *out = (pv_agent_response){.error = r->error,
                               .status = r->status,
                               .location = r->location,
                               .content_encoding = r->content_encoding,
                               .body = r->body,
                               .body_len = r->body_len};
}

bool pv_agent_challenge_note(pv_agent_challenge *c, const char *url, const pv_fetch_result *r)
{
    if (r->status != 401 || r->www_authenticate == NULL)
        return false;
    const char *v = r->www_authenticate;
    size_t n = strcspn(v, " ");
    snprintf(c->scheme, sizeof c->scheme, "%.*s", (int)(n < 15 ? n : 15), v); /* cut at 15 */
    free(c->value);
    c->value = pv_strndup(v, CHALLENGE_MAX);
    if (c->url == NULL || strcmp(c->url, url) != 0) {
        free(c->url);
        c->url = pv_strdup(url);
    }
    return true;
}

void pv_agent_challenge_clear(pv_agent_challenge *c)
{
    free(c->value);
    free(c->url);
    *c = (pv_agent_challenge){0};
}
