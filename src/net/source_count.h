/*
 * source_count.h — how many of something each source address has: the one
 * per-source table of the servers (connections per peer address in
 * http_server.c, stored uploads per source in upload_quota.c), and the one
 * way to key and hash a source (pv_source_key), which the TFTP server's
 * fixed-size per-source slots use too (tftp_server.c: a bounded table with
 * eviction, against spoofed floods, where these counts grow with what they
 * count).
 *
 * A key is a source address as bytes: its family and binary address
 * (pv_source_key_addr), or its text as an upload's file name carries it
 * (pv_source_key_text). A table holds the keys whose count is not zero:
 * open addressing with linear probing, grown at half full, an entry removed
 * (backward shift, no tombstones) when its count falls to zero. Not
 * thread-safe: the owner locks, or lives on one loop. A zeroed table is empty.
 */
#ifndef PV_NET_SOURCE_COUNT_H
#define PV_NET_SOURCE_COUNT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define PV_SOURCE_KEY_MAX 64

typedef struct pv_source_key {
    uint8_t len;
    uint8_t bytes[PV_SOURCE_KEY_MAX];
} pv_source_key;

/* The family and address of sa (its port is not part of a source); AF_INET and AF_INET6. */
void pv_source_key_addr(const struct sockaddr *sa, pv_source_key *out);
/* A source as text (at most PV_SOURCE_KEY_MAX bytes of it). */
void pv_source_key_text(const char *text, size_t len, pv_source_key *out);
/* FNV-1a of the key's bytes. */
uint32_t pv_source_key_hash(const pv_source_key *k);

typedef struct pv__source_entry pv__source_entry;
typedef struct pv_source_counts {
    pv__source_entry *slots;
    size_t capacity, used;
} pv_source_counts;

/* The count of k, 0 when absent (a look-up adds nothing). */
unsigned pv_source_counts_get(const pv_source_counts *t, const pv_source_key *k);
/* Adds delta to k's count (a count never goes below zero); a zero count is removed. */
void pv_source_counts_add(pv_source_counts *t, const pv_source_key *k, int delta);
/* Forgets every count and frees the table; it is empty and usable again. */
void pv_source_counts_clear(pv_source_counts *t);

#endif
