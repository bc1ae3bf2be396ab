/* schedule.c — `1800,3600+600,7200` delay lists; see schedule.h. */
#include "core/schedule.h"

#include <string.h>

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int expected(pv_slice t, size_t pos, const char *what, pv_error *err)
{
    if (pos >= t.len)
        return pv_error_set(err, PV_ESYNTAX, "schedule: column %zu: expected %s, found the end",
                            pos + 1, what);
    return pv_error_set(err, PV_ESYNTAX, "schedule: column %zu: expected %s, found '%c'", pos + 1,
                        what, t.ptr[pos]);
}

static int parse_number(pv_slice t, size_t *pos, uint32_t *out, pv_error *err)
{
    size_t p = *pos;
    uint64_t v = 0;
    while (p < t.len && is_space(t.ptr[p]))
        p++;
    size_t start = p;
    while (p < t.len && t.ptr[p] >= '0' && t.ptr[p] <= '9') {
        v = v * 10 + (uint64_t)(t.ptr[p] - '0');
        if (v > UINT32_MAX)
            return pv_error_set(err, PV_ERANGE,
                                "schedule: column %zu: number larger than 4294967295 seconds",
                                start + 1);
        p++;
    }
    if (p == start)
        return expected(t, p, "a number of seconds", err);
    while (p < t.len && is_space(t.ptr[p]))
        p++;
    *out = (uint32_t)v;
    *pos = p;
    return 0;
}

int pv_schedule_parse(pv_slice text, pv_schedule *out, pv_error *err)
{
    memset(out, 0, sizeof *out);
    size_t pos = 0;
    while (pos < text.len && is_space(text.ptr[pos]))
        pos++;
    if (pos == text.len)
        return 0; /* spec 5.1: empty disables */
    for (;;) {
        if (out->nsteps == PV_SCHEDULE_MAX)
            return pv_error_set(err, PV_ETOOBIG, "schedule: column %zu: more than %d delays",
                                pos + 1, PV_SCHEDULE_MAX);
        pv_schedule_step *step = &out->steps[out->nsteps];
        int rc = parse_number(text, &pos, &step->base, err);
        if (rc != 0)
            return rc;
        if (pos < text.len && text.ptr[pos] == '+') { /* spec 5.2: base+rand */
            pos++;
            rc = parse_number(text, &pos, &step->rand, err);
            if (rc != 0)
                return rc;
        }
        out->nsteps++;
        if (pos == text.len)
            return 0;
        if (text.ptr[pos] != ',')
            return expected(text, pos, "',', '+' or the end", err);
        pos++;
    }
}

bool pv_schedule_disabled(const pv_schedule *s)
{
    return s->nsteps == 0 || (s->nsteps == 1 && s->steps[0].base == 0 && s->steps[0].rand == 0);
}

uint64_t pv_schedule_delay(const pv_schedule *s, uint64_t attempt, uint32_t random)
{
    if (s->nsteps == 0)
        return 0;
    /* spec 5.2: the last element repeats forever */
    const pv_schedule_step *step = &s->steps[attempt < s->nsteps ? attempt : s->nsteps - 1];
    /* uniform in [0, rand]: scale the 32-bit random by rand+1 (multiply-shift,
     * no modulo bias worth speaking of, never overflows in 64 bits) */
    uint64_t extra = ((uint64_t)random * ((uint64_t)step->rand + 1)) >> 32;
    return (uint64_t)step->base + extra;
}

void pv_schedule_format(const pv_schedule *s, pv_buf *out)
{
    for (uint32_t i = 0; i < s->nsteps; i++) {
        pv_buf_appendf(out, "%s%u", i ? "," : "", s->steps[i].base);
        if (s->steps[i].rand != 0)
            pv_buf_appendf(out, "+%u", s->steps[i].rand);
    }
}
