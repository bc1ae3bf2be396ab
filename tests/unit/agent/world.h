/*
 * world.h — a tiny world for agent tests: a virtual clock, a table of canned
 * server answers keyed by URL, and a host loop that performs the engine's
 * actions the way `provisor phone` will (REBOOT really reboots: the state is
 * saved, the agent freed, a new one loaded from the bytes and booted).
 * The engine is what is under test; the world only answers.
 */
#ifndef PV_TEST_AGENT_WORLD_H
#define PV_TEST_AGENT_WORLD_H

#include "pv_test.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/error.h"
#include "provisor/agent.h"

#include <stdio.h>

#define S(x) ((uint64_t)(x)*1000) /* seconds → ms */
#define MAX_ANSWERS 32
#define MAX_SEEN 512

typedef struct answer {
    char url[256];
    int status, error;
    char location[256];
    const char *encoding;
    pv_buf body;
    bool need_auth; /* 401 unless the request carries uid/pwd */
} answer;

typedef struct seen {
    uint64_t at;
    pv_agent_action_kind kind;
    char url[256];
    char address[48]; /* the address the engine chose, "" when it left names to us */
    char method[8];
    bool creds;
    pv_buf body;
} seen;

typedef struct world {
    pv_agent_defaults *defs;
    pv_agent_identity id;
    uint64_t seed;
    pv_agent *a;
    uint64_t now;
    answer ans[MAX_ANSWERS];
    size_t nans;
    seen seen[MAX_SEEN];
    size_t nseen;
    char logs[64][256];
    size_t nlogs;
    int reboots, persists;
    char *state;
    size_t state_len;
    /* DNS, once world_dns or world_srv was called: the engine resolves through us */
    bool resolves;
    struct {
        char name[128];
        char addrs[128]; /* "192.0.2.1,192.0.2.2" */
        pv_agent_srv srv;
        char target[128];
    } dns[16];
    size_t ndns;
    char down[8][48]; /* addresses whose connections fail */
    size_t ndown;
    size_t lookups;
} world;

/* name resolves to the comma-separated addresses */
static inline void world_dns(world *w, const char *name, const char *addrs)
{
    assert_true(w->ndns < 16);
    snprintf(w->dns[w->ndns].name, 128, "%s", name);
    snprintf(w->dns[w->ndns].addrs, 128, "%s", addrs);
    w->ndns++;
    w->resolves = true;
    pv_agent_set_host_resolves(w->a, true);
}

/* one SRV record of name */
static inline void world_srv(world *w, const char *name, const char *target, uint16_t port,
                             uint16_t priority, uint16_t weight)
{
    assert_true(w->ndns < 16);
    snprintf(w->dns[w->ndns].name, 128, "%s", name);
    snprintf(w->dns[w->ndns].target, 128, "%s", target);
    w->dns[w->ndns].srv = (pv_agent_srv){.port = port, .priority = priority, .weight = weight};
    w->ndns++;
    w->resolves = true;
    pv_agent_set_host_resolves(w->a, true);
}

static inline void world_down(world *w, const char *address)
{
    assert_true(w->ndown < 8);
    snprintf(w->down[w->ndown++], 48, "%s", address);
}

static inline void world_answer_lookup(world *w, const pv_agent_action *act)
{
    w->lookups++;
    char copies[16][128];
    const char *addrs[16];
    pv_agent_srv srv[16];
    size_t na = 0, ns = 0;
    for (size_t i = 0; i < w->ndns; i++) {
        if (strcmp(w->dns[i].name, act->host) != 0)
            continue;
        if (act->lookup == PV_AGENT_LOOKUP_SRV && w->dns[i].target[0] != '\0') {
            srv[ns] = w->dns[i].srv;
            srv[ns++].target = w->dns[i].target;
        } else if (act->lookup == PV_AGENT_LOOKUP_ADDRESS && w->dns[i].addrs[0] != '\0') {
            snprintf(copies[i], 128, "%s", w->dns[i].addrs); /* cut in place below */
            for (char *save = NULL, *t = strtok_r(copies[i], ",", &save); t && na < 16;
                 t = strtok_r(NULL, ",", &save))
                addrs[na++] = t;
        }
    }
    pv_agent_resolution r = {.error = na + ns == 0 ? PV_ENOENT : 0,
                             .addresses = addrs,
                             .naddresses = na,
                             .srv = srv,
                             .nsrv = ns};
    assert_int_equal(pv_agent_resolve_done(w->a, w->now, act->id, &r), 0);
}

static inline world *world_new(pv_agent_family fam, const char *mac, uint64_t seed)
{
    world *w = pv_calloc(1, sizeof *w);
    w->defs = pv_agent_defaults_new(fam);
    w->id.mac = mac;
    w->id.client_cert = true;
    w->seed = seed;
    pv_error err;
    int rc = pv_agent_new(&w->a, w->defs, &w->id, seed, &err);
    assert_int_equal(rc, 0);
    return w;
}

static inline void world_free(world *w)
{
    pv_agent_free(w->a);
    pv_agent_defaults_free(w->defs);
    for (size_t i = 0; i < w->nans; i++)
        pv_buf_free(&w->ans[i].body);
    for (size_t i = 0; i < w->nseen; i++)
        pv_buf_free(&w->seen[i].body);
    free(w->state);
    free(w);
}

/* Adds or replaces the answer for url. */
static inline answer *serve(world *w, const char *url, int status, const void *body, size_t len)
{
    answer *x = NULL;
    for (size_t i = 0; i < w->nans; i++) {
        if (strcmp(w->ans[i].url, url) == 0)
            x = &w->ans[i];
    }
    if (x == NULL) {
        assert_true(w->nans < MAX_ANSWERS);
        x = &w->ans[w->nans++];
    }
    pv_buf_free(&x->body);
    memset(x, 0, sizeof *x);
    snprintf(x->url, sizeof x->url, "%s", url);
    x->status = status;
    if (body != NULL)
        pv_buf_append(&x->body, body, len);
    return x;
}

static inline answer *serve_str(world *w, const char *url, const char *body)
{
    return serve(w, url, 200, body, strlen(body));
}

static inline void unserve(world *w, const char *url)
{
    for (size_t i = 0; i < w->nans; i++) {
        if (strcmp(w->ans[i].url, url) == 0)
            w->ans[i].error = PV_ECONN;
    }
}

static inline void world_reboot(world *w)
{
    free(w->state);
    pv_agent_save(w->a, &w->state, &w->state_len);
    pv_agent_free(w->a);
    pv_error err;
    assert_int_equal(pv_agent_new(&w->a, w->defs, &w->id, w->seed + (uint64_t)w->reboots, &err), 0);
    int rc = pv_agent_load(w->a, w->state, w->state_len, &err);
    if (rc != 0)
        fail_msg("load: %s", err.msg);
    pv_agent_set_host_resolves(w->a, w->resolves);
    pv_agent_boot(w->a, w->now);
}

/* Performs every queued action; the server answers at once. */
static inline void world_drain(world *w)
{
    pv_agent_action act;
    while (pv_agent_next_action(w->a, &act)) {
        switch (act.kind) {
        case PV_AGENT_ACT_LOG:
            if (w->nlogs < 64)
                snprintf(w->logs[w->nlogs++], 256, "%s", act.text);
            break;
        case PV_AGENT_ACT_PERSIST:
            w->persists++;
            free(w->state);
            pv_agent_save(w->a, &w->state, &w->state_len);
            break;
        case PV_AGENT_ACT_REBOOT:
            w->reboots++;
            world_reboot(w);
            break;
        case PV_AGENT_ACT_RESOLVE:
            world_answer_lookup(w, &act);
            break;
        case PV_AGENT_ACT_FETCH:
        case PV_AGENT_ACT_UPLOAD: {
            assert_true(w->nseen < MAX_SEEN);
            seen *s = &w->seen[w->nseen++];
            s->at = w->now;
            s->kind = act.kind;
            snprintf(s->url, sizeof s->url, "%s", act.url);
            snprintf(s->address, sizeof s->address, "%s", act.address ? act.address : "");
            snprintf(s->method, sizeof s->method, "%s", act.method);
            s->creds = act.uid != NULL;
            if (act.body != NULL)
                pv_buf_append(&s->body, act.body, act.body_len);
            pv_agent_response r = {.error = PV_ECONN};
            bool down = false;
            for (size_t i = 0; i < w->ndown; i++)
                down |= act.address != NULL && strcmp(w->down[i], act.address) == 0;
            for (size_t i = 0; i < w->nans && !down; i++) {
                answer *x = &w->ans[i];
                if (strcmp(x->url, act.url) != 0 || x->error != 0)
                    continue;
                r.error = 0;
                r.status = x->need_auth && act.uid == NULL ? 401 : x->status;
                r.location = x->location[0] ? x->location : NULL;
                r.content_encoding = x->encoding;
                r.body = x->body.data;
                r.body_len = x->body.len;
            }
            assert_int_equal(pv_agent_fetch_done(w->a, w->now, act.id, &r), 0);
            break;
        }
        }
    }
}

/* Runs the virtual clock up to `until`. */
static inline void world_run(world *w, uint64_t until)
{
    for (int guard = 0; guard < 100000; guard++) {
        world_drain(w);
        uint64_t next = pv_agent_next_wakeup(w->a);
        if (next > until)
            break;
        if (next > w->now)
            w->now = next;
        pv_agent_tick(w->a, w->now);
    }
    world_drain(w);
    if (w->now < until)
        w->now = until;
}

static inline void world_boot(world *w)
{
    pv_agent_boot(w->a, w->now);
    world_drain(w);
}

/* How many requests went to url. */
static inline size_t count_url(const world *w, const char *url)
{
    size_t n = 0;
    for (size_t i = 0; i < w->nseen; i++)
        n += strcmp(w->seen[i].url, url) == 0;
    return n;
}

static inline const char *param(const world *w, const char *name)
{
    const char *v = NULL;
    if (pv_agent_get(w->a, PV_AGENT_ADMIN, name, &v) != 0)
        return NULL;
    return v;
}

static inline void set(world *w, const char *name, const char *value)
{
    pv_error err;
    int rc = pv_agent_set(w->a, w->now, PV_AGENT_ADMIN, name, value, &err);
    if (rc != 0)
        fail_msg("set %s: %s", name, err.msg);
}

/* Applies a profile as the admin (POST /admin/config.xml). */
static inline void config(world *w, const char *xml)
{
    pv_error err;
    int rc = pv_agent_apply_config(w->a, w->now, PV_AGENT_ADMIN, xml, strlen(xml), &err);
    if (rc != 0)
        fail_msg("config: %s", err.msg);
    world_drain(w);
}

#endif
