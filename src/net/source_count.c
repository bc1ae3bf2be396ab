/* source_count.c — per-source counts in one open-addressing table; see source_count.h. */
#include "net/source_count.h"

#include "core/alloc.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct pv__source_entry {
    pv_source_key key;
    unsigned count; /* 0: a free slot */
};

void pv_source_key_addr(const struct sockaddr *sa, pv_source_key *out)
{
    memset(out, 0, sizeof *out);
    if (sa == NULL)
        return;
    out->bytes[0] = (uint8_t)sa->sa_family;
    if (sa->sa_family == AF_INET6) {
        memcpy(out->bytes + 1, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
        out->len = 17;
    } else if (sa->sa_family == AF_INET) {
        memcpy(out->bytes + 1, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        out->len = 5;
    }
}

void pv_source_key_text(const char *text, size_t len, pv_source_key *out)
{
    memset(out, 0, sizeof *out);
    out->len = (uint8_t)(len < PV_SOURCE_KEY_MAX ? len : PV_SOURCE_KEY_MAX);
    memcpy(out->bytes, text, out->len);
}

uint32_t pv_source_key_hash(const pv_source_key *k)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < k->len; i++)
        h = (h ^ k->bytes[i]) * 16777619u;
    return h;
}

static bool same(const pv_source_key *a, const pv_source_key *b)
{
    return a->len == b->len && memcmp(a->bytes, b->bytes, a->len) == 0;
}

/* The slot of k, or the free slot where it would go. capacity: a power of two, never full. */
static size_t find(const pv__source_entry *slots, size_t capacity, const pv_source_key *k)
{
    size_t i = pv_source_key_hash(k) & (capacity - 1);
    while (slots[i].count != 0 && !same(&slots[i].key, k))
        i = (i + 1) & (capacity - 1);
    return i;
}

static void grow(pv_source_counts *t)
{
    size_t capacity = t->capacity ? t->capacity * 2 : 64;
    pv__source_entry *slots = pv_calloc(capacity, sizeof *slots);
    for (size_t i = 0; i < t->capacity; i++)
        if (t->slots[i].count != 0)
            slots[find(slots, capacity, &t->slots[i].key)] = t->slots[i];
    free(t->slots);
    t->slots = slots;
    t->capacity = capacity;
}

unsigned pv_source_counts_get(const pv_source_counts *t, const pv_source_key *k)
{
    if (t->capacity == 0)
        return 0;
    return t->slots[find(t->slots, t->capacity, k)].count;
}

/* Linear probing's deletion: later entries of the run move back into the hole. */
static void remove_at(pv_source_counts *t, size_t hole)
{
    size_t mask = t->capacity - 1;
    t->slots[hole].count = 0;
    for (size_t i = (hole + 1) & mask; t->slots[i].count != 0; i = (i + 1) & mask) {
        size_t home = pv_source_key_hash(&t->slots[i].key) & mask;
        /* i's entry may move to the hole unless its home lies cyclically in (hole, i]. */
        bool stays = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
        if (!stays) {
            t->slots[hole] = t->slots[i];
            t->slots[i].count = 0;
            hole = i;
        }
    }
    t->used--;
}

void pv_source_counts_add(pv_source_counts *t, const pv_source_key *k, int delta)
{
    if (delta > 0 && (t->used + 1) * 2 > t->capacity)
        grow(t);
    if (t->capacity == 0)
        return; /* nothing counted, nothing to take */
    size_t i = find(t->slots, t->capacity, k);
    pv__source_entry *e = &t->slots[i];
    if (e->count == 0) {
        if (delta <= 0)
            return;
        e->key = *k;
        t->used++;
    }
    long next = (long)e->count + delta;
    e->count = next > 0 ? (unsigned)next : 0;
    if (e->count == 0)
        remove_at(t, i);
}

void pv_source_counts_clear(pv_source_counts *t)
{
    free(t->slots);
    *t = (pv_source_counts){0};
}
