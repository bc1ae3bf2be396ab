/* param.c — parameter sets and parameter names; see param.h. */
#include "core/param.h"

#include "core/alloc.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* 16 bytes: names and values live in the pool, so an entry is offsets only. */
struct pv__param_entry {
    uint32_t name_off, value_off, value_len;
    uint16_t name_len;
    uint8_t flags;
    uint8_t spare;
};

enum {
    F_UA_MASK = 0x03, /* pv_ua */
    F_HAS_VALUE = 0x04,
    F_PRESERVE = 0x08,
    F_DEAD = 0x10,
};

/* Up to this many live parameters a linear scan beats hashing (and saves
 * the index: most device-level sets of a fleet are this small). */
#define SMALL_SET 8

pv_profile_limits pv_profile_limits_resolve(const pv_profile_limits *limits)
{
    pv_profile_limits l = limits ? *limits : (pv_profile_limits){0};
    if (l.max_input == 0)
        l.max_input = (size_t)4 << 20;
    if (l.max_params == 0)
        l.max_params = 20000;
    if (l.max_value == 0)
        l.max_value = (size_t)64 << 10;
    if (l.max_depth == 0)
        l.max_depth = 32;
    return l;
}

void pv_params_init(pv_params *p)
{
    memset(p, 0, sizeof *p);
}

void pv_params_free(pv_params *p)
{
    free(p->entries);
    free(p->pool);
    free(p->slots);
    pv_params_init(p);
}

void pv_params_clear(pv_params *p)
{
    p->n_entries = p->n_live = 0;
    p->pool_len = p->pool_garbage = 0;
    if (p->slots != NULL)
        memset(p->slots, 0, p->n_slots * sizeof *p->slots);
}

/* FNV-1a: short names, no adversary that could not also just send more bytes. */
static uint32_t hash_name(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

static pv_slice entry_name(const pv_params *p, const pv__param_entry *e)
{
    return (pv_slice){p->pool + e->name_off, e->name_len};
}

static bool entry_is(const pv_params *p, const pv__param_entry *e, pv_slice name)
{
    return e->name_len == name.len && memcmp(p->pool + e->name_off, name.ptr, name.len) == 0;
}

/* Index of the live entry called name, or -1. */
static long find(const pv_params *p, pv_slice name)
{
    if (p->n_slots == 0) {
        for (uint32_t i = 0; i < p->n_entries; i++) {
            const pv__param_entry *e = &p->entries[i];
            if (!(e->flags & F_DEAD) && entry_is(p, e, name))
                return (long)i;
        }
        return -1;
    }
    uint32_t mask = p->n_slots - 1;
    for (uint32_t i = hash_name(name.ptr, name.len) & mask; p->slots[i] != 0; i = (i + 1) & mask) {
        uint32_t idx = p->slots[i] - 1;
        if (entry_is(p, &p->entries[idx], name))
            return (long)idx;
    }
    return -1;
}

static void index_insert(pv_params *p, uint32_t idx)
{
    const pv__param_entry *e = &p->entries[idx];
    uint32_t mask = p->n_slots - 1;
    uint32_t i = hash_name(p->pool + e->name_off, e->name_len) & mask;
    while (p->slots[i] != 0)
        i = (i + 1) & mask;
    p->slots[i] = idx + 1;
}

/* Sizes the index for n_live (load ≤ 1/2) and refills it; none when small. */
static void index_rebuild(pv_params *p)
{
    free(p->slots);
    p->slots = NULL;
    p->n_slots = 0;
    if (p->n_live <= SMALL_SET)
        return;
    uint32_t n = 16;
    while (n < 2 * p->n_live)
        n *= 2;
    p->slots = pv_calloc(n, sizeof *p->slots);
    p->n_slots = n;
    for (uint32_t i = 0; i < p->n_entries; i++)
        if (!(p->entries[i].flags & F_DEAD))
            index_insert(p, i);
}

/* Linear probing deletion by backward shift, so no tombstones accumulate. */
static void index_remove(pv_params *p, uint32_t idx)
{
    if (p->n_slots == 0)
        return;
    uint32_t mask = p->n_slots - 1;
    const pv__param_entry *e = &p->entries[idx];
    uint32_t i = hash_name(p->pool + e->name_off, e->name_len) & mask;
    while (p->slots[i] != idx + 1)
        i = (i + 1) & mask;
    for (uint32_t j = i;;) {
        j = (j + 1) & mask;
        if (p->slots[j] == 0)
            break;
        const pv__param_entry *o = &p->entries[p->slots[j] - 1];
        uint32_t home = hash_name(p->pool + o->name_off, o->name_len) & mask;
        bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (stays)
            continue;
        p->slots[i] = p->slots[j];
        i = j;
    }
    p->slots[i] = 0;
}

/* Appends len bytes and a NUL to the pool; the caller checked the size. */
static uint32_t pool_add(pv_params *p, const char *s, size_t len)
{
    size_t need = (size_t)p->pool_len + len + 1;
    if (need > p->pool_cap) {
        size_t cap = p->pool_cap ? p->pool_cap : 64;
        while (cap < need)
            cap *= 2;
        if (cap > UINT32_MAX)
            cap = UINT32_MAX;
        p->pool = pv_realloc(p->pool, cap);
        p->pool_cap = (uint32_t)cap;
    }
    uint32_t off = p->pool_len;
    if (len > 0)
        memcpy(p->pool + off, s, len);
    p->pool[off + len] = '\0';
    p->pool_len = (uint32_t)need;
    return off;
}

/* Rewrites entries and pool without the dead and the garbage. */
static void repack(pv_params *p, bool shrink)
{
    pv_params n = {0};
    size_t pool_need = (size_t)p->pool_len - p->pool_garbage;
    n.cap_entries = shrink ? p->n_live : p->cap_entries;
    n.pool_cap = shrink ? (uint32_t)pool_need : p->pool_cap;
    n.entries = n.cap_entries ? pv_malloc(n.cap_entries * sizeof *n.entries) : NULL;
    n.pool = n.pool_cap ? pv_malloc(n.pool_cap) : NULL;
    for (uint32_t i = 0; i < p->n_entries; i++) {
        const pv__param_entry *e = &p->entries[i];
        if (e->flags & F_DEAD)
            continue;
        pv__param_entry *d = &n.entries[n.n_entries++];
        *d = *e;
        d->name_off = pool_add(&n, p->pool + e->name_off, e->name_len);
        d->value_off = d->name_off + d->name_len;
        if (e->value_len > 0)
            d->value_off = pool_add(&n, p->pool + e->value_off, e->value_len);
    }
    n.n_live = n.n_entries;
    free(p->entries);
    free(p->pool);
    free(p->slots);
    *p = n;
    index_rebuild(p);
}

static void maybe_repack(pv_params *p)
{
    uint32_t dead = p->n_entries - p->n_live;
    if ((dead > SMALL_SET && dead > p->n_live) ||
        (p->pool_garbage > 4096 && p->pool_garbage > p->pool_len / 2))
        repack(p, false);
}

/* Replaces an entry's value, in place when it fits. */
static void store_value(pv_params *p, pv__param_entry *e, pv_slice v)
{
    if (v.len > 0 && v.len <= e->value_len) {
        memmove(p->pool + e->value_off, v.ptr, v.len);
        p->pool[e->value_off + v.len] = '\0';
        p->pool_garbage += e->value_len - (uint32_t)v.len;
        e->value_len = (uint32_t)v.len;
        return;
    }
    if (e->value_len > 0)
        p->pool_garbage += e->value_len + 1;
    e->value_off = e->name_off + e->name_len; /* the name's NUL: an empty string */
    e->value_len = 0;
    if (v.len > 0) {
        ptrdiff_t ei = e - p->entries;
        uint32_t off = pool_add(p, v.ptr, v.len);
        e = &p->entries[ei];
        e->value_off = off;
        e->value_len = (uint32_t)v.len;
    }
}

static int check_param(const pv_params *p, const pv_param *e, pv_error *err)
{
    if (!pv_param_name_valid(e->name))
        return pv_error_set(err, PV_EINVAL,
                            "invalid parameter name '%.*s' (expected a letter or '_', then "
                            "letters, digits, '_', '-' or '.')",
                            (int)(e->name.len > 64 ? 64 : e->name.len), e->name.ptr);
    size_t add = e->name.len + 1 + (e->has_value ? e->value.len + 1 : 0);
    if (add > UINT32_MAX - (size_t)p->pool_len || p->n_entries == UINT32_MAX - 1)
        return pv_error_set(err, PV_ETOOBIG, "parameter set larger than 4 GiB");
    return 0;
}

static uint8_t flags_of(const pv_param *e)
{
    return (uint8_t)((e->ua & F_UA_MASK) | (e->has_value ? F_HAS_VALUE : 0) |
                     (e->preserve ? F_PRESERVE : 0));
}

/* Copies the caller's slices if they point into our pool, which may move. */
static pv_slice safe_value(const pv_params *p, const pv_param *e, char **tmp)
{
    *tmp = NULL;
    pv_slice v = e->has_value ? e->value : (pv_slice){"", 0};
    if (p->pool != NULL && v.len > 0 && v.ptr >= p->pool && v.ptr < p->pool + p->pool_cap) {
        *tmp = pv_memdup0(v.ptr, v.len);
        v.ptr = *tmp;
    }
    return v;
}

static void add_entry(pv_params *p, const pv_param *e)
{
    char *tmp_name = NULL, *tmp_value;
    pv_slice name = e->name;
    if (p->pool != NULL && name.ptr >= p->pool && name.ptr < p->pool + p->pool_cap)
        name.ptr = tmp_name = pv_memdup0(name.ptr, name.len);
    pv_slice v = safe_value(p, e, &tmp_value);
    if (p->n_entries == p->cap_entries) {
        uint32_t cap = p->cap_entries ? p->cap_entries * 2 : 4;
        p->entries = pv_reallocarray(p->entries, cap, sizeof *p->entries);
        p->cap_entries = cap;
    }
    uint32_t idx = p->n_entries++;
    pv__param_entry *d = &p->entries[idx];
    memset(d, 0, sizeof *d);
    d->name_len = (uint16_t)name.len;
    d->flags = flags_of(e);
    d->name_off = pool_add(p, name.ptr, name.len);
    d->value_off = d->name_off + d->name_len;
    store_value(p, d, v);
    p->n_live++;
    if (p->n_live > SMALL_SET && 2 * p->n_live > p->n_slots)
        index_rebuild(p);
    else if (p->n_slots != 0)
        index_insert(p, idx);
    free(tmp_name);
    free(tmp_value);
}

static int put(pv_params *p, const pv_param *e, bool merge, pv_error *err)
{
    int rc = check_param(p, e, err);
    if (rc != 0)
        return rc;
    long idx = find(p, e->name);
    if (idx < 0) {
        add_entry(p, e);
        return 0;
    }
    pv__param_entry *d = &p->entries[idx];
    if (!merge) {
        d->flags = 0;
    }
    if (e->has_value || !merge) {
        char *tmp;
        pv_slice v = safe_value(p, e, &tmp);
        store_value(p, &p->entries[idx], v);
        free(tmp);
        d = &p->entries[idx];
        d->flags = (uint8_t)((d->flags & ~F_HAS_VALUE) | (e->has_value ? F_HAS_VALUE : 0));
    }
    if (e->ua != PV_UA_UNSET)
        d->flags = (uint8_t)((d->flags & ~F_UA_MASK) | e->ua);
    if (e->preserve)
        d->flags |= F_PRESERVE;
    maybe_repack(p);
    return 0;
}

int pv_params_set(pv_params *p, const pv_param *e, pv_error *err)
{
    return put(p, e, false, err);
}

int pv_params_apply(pv_params *p, const pv_param *e, pv_error *err)
{
    return put(p, e, true, err);
}

int pv_params_set_str(pv_params *p, const char *name, const char *value, pv_ua ua)
{
    pv_param e = {pv_slice_from(name), pv_slice_from(value), value != NULL, false, ua};
    return pv_params_set(p, &e, NULL);
}

static void fill(const pv_params *p, const pv__param_entry *e, pv_param *out)
{
    out->name = entry_name(p, e);
    out->value = (pv_slice){p->pool + e->value_off, e->value_len};
    out->has_value = (e->flags & F_HAS_VALUE) != 0;
    out->preserve = (e->flags & F_PRESERVE) != 0;
    out->ua = (pv_ua)(e->flags & F_UA_MASK);
}

bool pv_params_get(const pv_params *p, pv_slice name, pv_param *out)
{
    long idx = find(p, name);
    if (idx < 0)
        return false;
    if (out != NULL)
        fill(p, &p->entries[idx], out);
    return true;
}

const char *pv_params_value(const pv_params *p, const char *name)
{
    pv_param e;
    if (!pv_params_get(p, pv_slice_from(name), &e) || !e.has_value)
        return NULL;
    return e.value.ptr; /* NUL-terminated in the pool */
}

bool pv_params_remove(pv_params *p, pv_slice name)
{
    long idx = find(p, name);
    if (idx < 0)
        return false;
    index_remove(p, (uint32_t)idx);
    pv__param_entry *e = &p->entries[idx];
    e->flags |= F_DEAD;
    p->pool_garbage += e->name_len + 1u + (e->value_len ? e->value_len + 1u : 0u);
    p->n_live--;
    maybe_repack(p);
    return true;
}

size_t pv_params_count(const pv_params *p)
{
    return p->n_live;
}

bool pv_params_next(const pv_params *p, size_t *it, pv_param *out)
{
    while (*it < p->n_entries) {
        const pv__param_entry *e = &p->entries[(*it)++];
        if (!(e->flags & F_DEAD)) {
            fill(p, e, out);
            return true;
        }
    }
    return false;
}

int pv_params_merge(pv_params *dst, const pv_params *src, pv_error *err)
{
    assert(dst != src);
    size_t it = 0;
    pv_param e;
    while (pv_params_next(src, &it, &e)) {
        int rc = pv_params_apply(dst, &e, err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

void pv_params_copy(pv_params *dst, const pv_params *src)
{
    if (dst == src)
        return;
    pv_params_clear(dst);
    int rc = pv_params_merge(dst, src, NULL);
    assert(rc == 0); /* src holds only valid names */
    (void)rc;
}

bool pv_params_equal(const pv_params *a, const pv_params *b)
{
    if (a->n_live != b->n_live)
        return false;
    size_t it = 0;
    pv_param x, y;
    while (pv_params_next(a, &it, &x)) {
        if (!pv_params_get(b, x.name, &y) || x.has_value != y.has_value || x.ua != y.ua ||
            x.preserve != y.preserve || (x.has_value && !pv_slice_eq(x.value, y.value)))
            return false;
    }
    return true;
}

void pv_params_compact(pv_params *p)
{
    repack(p, true);
}

size_t pv_params_memory(const pv_params *p)
{
    return (size_t)p->cap_entries * sizeof *p->entries + p->pool_cap +
           (size_t)p->n_slots * sizeof *p->slots;
}

/* ---- names (spec 3.1) ---- */

static bool is_alpha(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

bool pv_param_name_valid(pv_slice name)
{
    if (name.len == 0 || name.len > PV_PARAM_NAME_MAX)
        return false;
    if (!is_alpha(name.ptr[0]) && name.ptr[0] != '_')
        return false;
    for (size_t i = 1; i < name.len; i++) {
        char c = name.ptr[i];
        if (!is_alpha(c) && !is_digit(c) && c != '_' && c != '-' && c != '.')
            return false;
    }
    return true;
}

void pv_param_name_from_web(pv_slice web, pv_buf *out)
{
    for (size_t i = 0; i < web.len; i++) {
        char c = web.ptr[i];
        /* spec 3.1: "every space and each of [ ] ( ) / replaced by _" */
        bool sub = c == ' ' || c == '[' || c == ']' || c == '(' || c == ')' || c == '/';
        pv_buf_append_char(out, sub ? '_' : c);
    }
}

void pv_param_name_from_text(pv_slice text, pv_buf *out)
{
    for (size_t i = 0; i < text.len; i++) {
        char c = text.ptr[i];
        pv_buf_append_char(out, c == '[' || c == ']' ? '_' : c); /* spec 3.3 Proxy[1] */
    }
}

/* Length of the base before a trailing `_<digits>_`, or 0 when there is none. */
static size_t index_suffix(pv_slice name)
{
    if (name.len < 4 || name.ptr[name.len - 1] != '_')
        return 0;
    size_t i = name.len - 1;
    while (i > 0 && is_digit(name.ptr[i - 1]))
        i--;
    if (i == name.len - 1 || i < 2 || name.ptr[i - 1] != '_')
        return 0;
    return i - 1;
}

static void name_with_index(pv_slice name, bool spaces, pv_buf *out)
{
    size_t base = index_suffix(name);
    size_t end = base ? base : name.len;
    for (size_t i = 0; i < end; i++)
        pv_buf_append_char(out, spaces && name.ptr[i] == '_' ? ' ' : name.ptr[i]);
    if (base) {
        pv_buf_append_char(out, '[');
        pv_buf_append(out, name.ptr + base + 1, name.len - base - 2);
        pv_buf_append_char(out, ']');
    }
}

void pv_param_name_to_web(pv_slice name, pv_buf *out)
{
    name_with_index(name, true, out);
}

void pv_param_name_to_text(pv_slice name, pv_buf *out)
{
    name_with_index(name, false, out);
}

const char *pv_ua_name(pv_ua ua)
{
    switch (ua) {
    case PV_UA_NA:
        return "na";
    case PV_UA_RO:
        return "ro";
    case PV_UA_RW:
        return "rw";
    default:
        return "";
    }
}

int pv_ua_parse(pv_slice s, pv_ua *out)
{
    static const pv_ua all[] = {PV_UA_NA, PV_UA_RO, PV_UA_RW};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (pv_slice_eq_cstr(s, pv_ua_name(all[i]))) {
            *out = all[i];
            return 0;
        }
    }
    return PV_EINVAL;
}
