/*
 * vserver.c — the virtual server's queue model and content (see vserver.h).
 */
#include "fleet/vserver.h"

#include "core/error.h"

#include <string.h>

void pv_vserver_model_default(pv_vserver_model *m)
{
    m->workers = 2;
    m->service_us = 150;
    m->tls_us = 900;
    m->per_kib_us = 4;
    m->rtt_us = 200;
}

void pv_vserver_init(pv_vserver *v, const pv_vserver_model *m, uint64_t seed,
                     const pv_fleet_mix *mix, size_t firmware_size)
{
    memset(v, 0, sizeof *v);
    v->m = *m;
    if (v->m.workers == 0)
        v->m.workers = 1;
    if (v->m.workers > PV_VSERVER_MAX_WORKERS)
        v->m.workers = PV_VSERVER_MAX_WORKERS;
    v->seed = seed;
    v->mix = *mix;
    v->firmware_size = firmware_size;
}

typedef enum { KIND_NONE, KIND_PROFILE, KIND_BIND, KIND_FIRMWARE } path_kind;

/* Which of our files path names; *index the phone, *family the firmware's. */
static path_kind classify(const pv_vserver *v, const char *path, uint32_t *index,
                          pv_agent_family *family)
{
    char name[64];
    size_t n = strcspn(path, "?");
    if (n >= sizeof name)
        return KIND_NONE;
    memcpy(name, path, n);
    name[n] = '\0';
    if (strncmp(name, "/fleet/fw/", 10) == 0) {
        for (int f = 1; f <= 3; f++) {
            pv_buf want = {0};
            pv_fleet_firmware_path((pv_agent_family)f, &want);
            bool same = strcmp(want.data, name + 1) == 0;
            pv_buf_free(&want);
            if (same) {
                *family = (pv_agent_family)f;
                return KIND_FIRMWARE;
            }
        }
        return KIND_NONE;
    }
    if (strncmp(name, "/fleet/", 7) == 0 && n == 7 + 12 + 4 && strcmp(name + 19, ".cfg") == 0) {
        name[19] = '\0';
        return pv_fleet_ident_from_mac(name + 7, index) ? KIND_PROFILE : KIND_NONE;
    }
    if (strncmp(name, "/init/", 6) == 0)
        return pv_fleet_ident_from_code(v->seed, name + 6, index) ? KIND_BIND : KIND_NONE;
    return KIND_NONE;
}

void pv_vserver_request(pv_vserver *v, uint64_t now_us, const char *scheme, const char *path,
                        pv_vserver_answer *out)
{
    memset(out, 0, sizeof *out);
    if (v->down) { /* refused at once: one round trip */
        out->error = PV_ECONN;
        out->delay_us = v->m.rtt_us;
        return;
    }
    uint32_t index = 0;
    pv_agent_family family = PV_AGENT_MPP;
    path_kind k = classify(v, path, &index, &family);
    size_t bytes = k == KIND_FIRMWARE ? v->firmware_size + 128 : k == KIND_NONE ? 100 : 1024;
    uint64_t cost = v->m.service_us + (uint64_t)v->m.per_kib_us * (bytes / 1024);
    if (strcmp(scheme, "https") == 0)
        cost += v->m.tls_us;
    /* FIFO onto the service slot that frees first */
    unsigned w = 0;
    for (unsigned i = 1; i < v->m.workers; i++)
        if (v->free_at[i] < v->free_at[w])
            w = i;
    uint64_t arrive = now_us + v->m.rtt_us / 2;
    uint64_t begin = v->free_at[w] > arrive ? v->free_at[w] : arrive;
    v->free_at[w] = begin + cost;
    out->delay_us = v->free_at[w] + v->m.rtt_us / 2 - now_us;
    out->status = k == KIND_NONE ? 404 : 200;
    out->kind = (uint8_t)k;
    out->index = k == KIND_FIRMWARE ? (uint32_t)family : index;
    v->served++;
}

int pv_vserver_body(const pv_vserver *v, uint8_t kind, uint32_t index, const char *base_url,
                    pv_buf *out)
{
    pv_fleet_ident id;
    switch ((path_kind)kind) {
    case KIND_PROFILE:
        pv_fleet_ident_make(v->seed, index, &v->mix, &id);
        return pv_fleet_profile_encrypted(&id, out, NULL);
    case KIND_BIND:
        pv_fleet_ident_make(v->seed, index, &v->mix, &id);
        pv_fleet_bind_profile(&id, base_url, out);
        return 0;
    case KIND_FIRMWARE:
        pv_fleet_firmware((pv_agent_family)index, v->firmware_size, out);
        return 0;
    default:
        return PV_ENOENT;
    }
}
