/*
 * state.c — the persistent state of a phone as bytes (the host writes them
 * atomically, so a power cut leaves the old or the new file, never half).
 *
 *     provisor-agent-state 1\n
 *     <tag> <length>\n<length bytes>\n      ... one record each
 *     crc <8 hex digits>\n                  CRC-32 of everything before it
 *
 * Tags: family, mac (the state belongs to one phone), prov, active, boot,
 * slot0/slot1 (`version sha256 size`), upgurl, upgerr, p (a parameter of the
 * overlay: ua digit, name, '=', value), b (a parameter of the --delta
 * baseline). Values are length-prefixed, so any byte may appear in them.
 * Loading parses everything first and changes the agent only when all of it
 * is valid; unknown tags are skipped so a newer writer stays readable.
 */
#include "agent/agent_int.h"

#include "core/alloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define MAGIC "provisor-agent-state 1\n"
#define MAX_STATE ((size_t)64 << 20)

static void record(pv_buf *b, const char *tag, const char *data, size_t len)
{
    pv_buf_appendf(b, "%s %zu\n", tag, len);
    pv_buf_append(b, data, len);
    pv_buf_append_char(b, '\n');
}

static void record_str(pv_buf *b, const char *tag, const char *s)
{
    record(b, tag, s, strlen(s));
}

static void record_params(pv_buf *b, const char *tag, const pv_params *p)
{
    size_t it = 0;
    pv_param e;
    pv_buf x = {0};
    while (pv_params_next(p, &it, &e)) {
        pv_buf_reset(&x);
        pv_buf_appendf(&x, "%d" PV_SLICE_FMT "=", (int)e.ua, PV_SLICE_ARG(e.name));
        pv_buf_append_slice(&x, e.value);
        record(b, tag, x.data, x.len);
    }
    pv_buf_free(&x);
}

void pv_agent_save(const pv_agent *a, char **data, size_t *len)
{
    pv_buf b = {0};
    char tmp[160];
    pv_buf_append_str(&b, MAGIC);
    record_str(&b, "family", pv_agent_family_name(a->defs->family));
    record_str(&b, "mac", a->mac);
    snprintf(tmp, sizeof tmp, "%d", (int)a->prov_state);
    record_str(&b, "prov", tmp);
    snprintf(tmp, sizeof tmp, "%u", (unsigned)a->active);
    record_str(&b, "active", tmp);
    snprintf(tmp, sizeof tmp, "%d", (int)a->boot_reason);
    record_str(&b, "boot", tmp);
    for (int i = 0; i < 2; i++) {
        const pv__slot *s = &a->slot[i];
        /* fits: 63 + 64 + 20 + separators < 160 */
        snprintf(tmp, sizeof tmp, "%s %s %" PRIu64, s->version[0] ? s->version : "-",
                 s->sha256[0] ? s->sha256 : "-", s->size);
        record_str(&b, i == 0 ? "slot0" : "slot1", tmp);
    }
    if (a->last_upgrade_url != NULL)
        record_str(&b, "upgurl", a->last_upgrade_url);
    if (a->upgerr != NULL)
        record_str(&b, "upgerr", a->upgerr);
    record_params(&b, "p", &a->own);
    if (a->baseline != NULL) {
        record(&b, "baseline", "", 0); /* present even when empty: "all at defaults" */
        record_params(&b, "b", a->baseline);
    }
    uLong crc = crc32(0L, (const Bytef *)b.data, (uInt)b.len);
    pv_buf_appendf(&b, "crc %08lx\n", crc);
    *data = pv_buf_take(&b, len);
}

typedef struct loaded {
    pv_params own, baseline;
    bool has_baseline;
    int prov, active, boot;
    pv__slot slot[2];
    char *upgurl, *upgerr;
} loaded;

static void loaded_free(loaded *l)
{
    pv_params_free(&l->own);
    pv_params_free(&l->baseline);
    free(l->upgurl);
    free(l->upgerr);
}

static int parse_int(pv_slice v, int lo, int hi, int *out)
{
    char buf[16];
    if (v.len == 0 || v.len >= sizeof buf)
        return PV_EFORMAT;
    memcpy(buf, v.ptr, v.len);
    buf[v.len] = '\0';
    char *end;
    long n = strtol(buf, &end, 10);
    if (*end != '\0' || n < lo || n > hi)
        return PV_EFORMAT;
    *out = (int)n;
    return 0;
}

static int parse_slot(pv_slice v, pv__slot *s)
{
    char buf[160], ver[64], sha[65];
    uint64_t size;
    if (v.len >= sizeof buf)
        return PV_EFORMAT;
    memcpy(buf, v.ptr, v.len);
    buf[v.len] = '\0';
    if (sscanf(buf, "%63s %64s %" SCNu64, ver, sha, &size) != 3)
        return PV_EFORMAT;
    snprintf(s->version, sizeof s->version, "%s", strcmp(ver, "-") ? ver : "");
    snprintf(s->sha256, sizeof s->sha256, "%s", strcmp(sha, "-") ? sha : "");
    s->size = size;
    return 0;
}

static int parse_param(pv_slice v, pv_params *into)
{
    const char *eq = v.len > 1 ? memchr(v.ptr, '=', v.len) : NULL;
    if (eq == NULL || v.ptr[0] < '0' || v.ptr[0] > '3')
        return PV_EFORMAT;
    pv_param p = {pv_slice_make(v.ptr + 1, (size_t)(eq - v.ptr - 1)),
                  pv_slice_make(eq + 1, v.len - (size_t)(eq + 1 - v.ptr)), true, false,
                  (pv_ua)(v.ptr[0] - '0')};
    return pv_params_set(into, &p, NULL);
}

static int apply_record(const pv_agent *a, pv_slice tag, pv_slice v, loaded *l)
{
    if (pv_slice_eq_cstr(tag, "family"))
        return pv_slice_eq_cstr(v, pv_agent_family_name(a->defs->family)) ? 0 : PV_ECONFLICT;
    if (pv_slice_eq_cstr(tag, "mac"))
        return pv_slice_eq_cstr(v, a->mac) ? 0 : PV_ECONFLICT;
    if (pv_slice_eq_cstr(tag, "prov"))
        return parse_int(v, 0, 3, &l->prov);
    if (pv_slice_eq_cstr(tag, "active"))
        return parse_int(v, 0, 1, &l->active);
    if (pv_slice_eq_cstr(tag, "boot"))
        return parse_int(v, 0, 2, &l->boot);
    if (pv_slice_eq_cstr(tag, "slot0") || pv_slice_eq_cstr(tag, "slot1"))
        return parse_slot(v, &l->slot[tag.ptr[4] - '0']);
    if (pv_slice_eq_cstr(tag, "upgurl")) {
        free(l->upgurl);
        l->upgurl = pv_slice_dup(v);
    } else if (pv_slice_eq_cstr(tag, "upgerr")) {
        free(l->upgerr);
        l->upgerr = pv_slice_dup(v);
    } else if (pv_slice_eq_cstr(tag, "p")) {
        return parse_param(v, &l->own);
    } else if (pv_slice_eq_cstr(tag, "baseline")) {
        l->has_baseline = true;
    } else if (pv_slice_eq_cstr(tag, "b")) {
        l->has_baseline = true;
        return parse_param(v, &l->baseline);
    }
    return 0; /* unknown tags: skipped */
}

static int parse(const pv_agent *a, const char *d, size_t len, loaded *l, pv_error *err)
{
    size_t ml = strlen(MAGIC);
    if (len < ml || memcmp(d, MAGIC, ml) != 0)
        return pv_error_set(err, PV_EFORMAT, "not a provisor agent state (bad first line)");
    size_t pos = ml;
    while (pos < len) {
        const char *nl = memchr(d + pos, '\n', len - pos);
        const char *sp = nl ? memchr(d + pos, ' ', (size_t)(nl - d - pos)) : NULL;
        if (sp == NULL)
            return pv_error_set(err, PV_EFORMAT, "byte %zu: expected `tag length`", pos);
        pv_slice tag = pv_slice_make(d + pos, (size_t)(sp - d - pos));
        if (pv_slice_eq_cstr(tag, "crc")) {
            char want[16];
            snprintf(want, sizeof want, "%08lx", crc32(0L, (const Bytef *)d, (uInt)pos));
            if ((size_t)(nl - sp - 1) != 8 || memcmp(sp + 1, want, 8) != 0)
                return pv_error_set(err, PV_EFORMAT, "checksum mismatch: the state is damaged");
            if ((size_t)(nl - d) + 1 != len)
                return pv_error_set(err, PV_EFORMAT, "byte %zu: data after the checksum",
                                    (size_t)(nl - d) + 1);
            return 0;
        }
        char *end;
        unsigned long long n = strtoull(sp + 1, &end, 10);
        size_t start = (size_t)(nl - d) + 1;
        if (end != nl || n > len || start + n + 1 > len || d[start + n] != '\n')
            return pv_error_set(err, PV_EFORMAT, "byte %zu: bad record length", pos);
        int rc = apply_record(a, tag, pv_slice_make(d + start, n), l);
        if (rc == PV_ECONFLICT)
            return pv_error_set(err, rc, "the state belongs to another phone (" PV_SLICE_FMT ")",
                                PV_SLICE_ARG(tag));
        if (rc != 0)
            return pv_error_set(err, PV_EFORMAT, "byte %zu: bad " PV_SLICE_FMT " record", pos,
                                PV_SLICE_ARG(tag));
        pos = start + n + 1;
    }
    return pv_error_set(err, PV_ETRUNC, "the state stops before its checksum");
}

int pv_agent_load(pv_agent *a, const void *data, size_t len, pv_error *err)
{
    if (len > MAX_STATE)
        return pv_error_set(err, PV_ETOOBIG, "state larger than %zu bytes", MAX_STATE);
    loaded l = {0};
    l.slot[0] = a->slot[0];
    int rc = parse(a, data, len, &l, err);
    if (rc != 0) {
        loaded_free(&l);
        return rc;
    }
    pv_params_free(&a->own);
    a->own = l.own;
    pv_params_compact(&a->own);
    if (a->baseline != NULL)
        pv_params_free(a->baseline);
    free(a->baseline);
    a->baseline = NULL;
    if (l.has_baseline) {
        a->baseline = pv_calloc(1, sizeof *a->baseline);
        *a->baseline = l.baseline;
    } else {
        pv_params_free(&l.baseline);
    }
    a->prov_state = (pv_agent_prov_state)l.prov;
    a->active = (uint8_t)l.active;
    a->boot_reason = (pv__boot_reason)l.boot;
    a->slot[0] = l.slot[0];
    a->slot[1] = l.slot[1];
    free(a->last_upgrade_url);
    a->last_upgrade_url = l.upgurl;
    free(a->upgerr);
    a->upgerr = l.upgerr;
    return 0;
}
