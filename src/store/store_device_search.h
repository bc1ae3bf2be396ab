/*
 * store_device_search.h — finding devices among a million for the operator
 * console (issue 13 item 1, "search by MAC, account, state, model, firmware —
 * fast on 1 000 000 devices (keyset pagination)"), and the counts its
 * dashboard draws.
 *
 * A search walks the devices in MAC order from the page's cursor (keyset
 * pagination: the cursor is the last MAC of the previous page, never an
 * offset, so page 5 000 costs what page 1 costs). A MAC prefix becomes a
 * range of the primary key, an account the (account_id, mac) index, state,
 * model and firmware their (column, mac) indexes (schema step 8), so a rare
 * value costs what a common one does.
 *
 * Last seen has no index of its own (every fetch rewrites it): schema step 9
 * keeps the day it falls on, seen_day, indexed with mac (docs/store.md "Last
 * seen"). A range of last seen is a range of days there and an exact check on
 * the rows read. The range's devices are not in MAC order in that index, so
 * they are sorted; the search does that only when they are few, and
 * otherwise walks the MAC order (or another filter's index) and checks last
 * seen on each row, where many matches mean a page fills soon. PostgreSQL's
 * planner makes that choice itself from its statistics; SQLite, which plans a
 * statement once for any value, is told (store_device_search.c, seen_sql).
 *
 * The dashboard's counts by state, model and firmware are kept by the store
 * as devices change (triggers, schema step 8), not counted per read.
 *
 * Stateless; the caller's handle and thread.
 */
#ifndef PV_STORE_DEVICE_SEARCH_H
#define PV_STORE_DEVICE_SEARCH_H

#include "store/store.h"

typedef struct pv_store_device_query {
    char mac_prefix[13];  /* hex digits, lower case, no separators; "" = any */
    int64_t account_id;   /* 0 = any */
    const char *state;    /* "SEC-PRV-2"...; NULL or "" = any */
    const char *model;    /* exact; NULL or "" = any */
    const char *firmware; /* exact firmware_version; NULL or "" = any */
    /* Last seen (the time of the last fetch): the devices with seen_since <= last_seen <
     * seen_before (0: no such bound), or never_seen: those that never fetched (the bounds
     * are then ignored). */
    int64_t seen_since, seen_before;
    bool never_seen;
} pv_store_device_query;

/* The most devices a last-seen range may hold for a search to read them all from the
 * seen_day index and sort them (SQLite; see above): bounds a search with another filter. */
#define PV_STORE_SEEN_LED 10000
/* The bound in use: PV_STORE_SEEN_LED, set otherwise only by the tests and bench/search_store
 * to take each way on a small store (read-only once the server runs). */
extern int64_t pv_store_seen_led;

/* "00:1A-2b" → "001a2b"; PV_EINVAL for anything but hex digits and separators, or more than
 * 12 digits. */
int pv_store_mac_prefix(const char *in, char out[13], pv_error *err);

/* An age as an operator writes it for a last-seen filter: a whole number with a unit — s,
 * m, h, d or w ("90m", "36h", "7d"; no unit: seconds) — from 1 s to 3 650 days. PV_EINVAL
 * otherwise, the message naming the form. */
#define PV_STORE_AGE_MAX (3650 * 86400)
int pv_store_seen_age(const char *in, int64_t *seconds, pv_error *err);

/* One page of the devices q matches, in MAC order (page->after: the cursor): the console's
 * search and the admin API's GET /devices?mac_prefix=. */
int pv_store_device_find(pv_store *s, const pv_store_device_query *q, pv_store_page *page,
                         pv_store_device **rows, size_t *n, pv_error *err);

/* The devices by one column, for the dashboard: fn(data, value or "", count) per value,
 * most devices first, at most limit values. Reads the kept counts (a few rows however
 * many devices), folding the changes appended since the last read first when there are
 * many (outside a transaction). */
typedef enum { PV_DEVICE_BY_STATE, PV_DEVICE_BY_MODEL, PV_DEVICE_BY_FIRMWARE } pv_store_device_by;
int pv_store_device_counts(pv_store *s, pv_store_device_by by, size_t limit,
                           void (*fn)(void *data, const char *value, int64_t count), void *data,
                           pv_error *err);

/* Adds the changes the triggers appended to the kept counts and removes them, in one
 * transaction (pv_store_device_counts does it when they pile up). */
int pv_store_device_counts_fold(pv_store *s, pv_error *err);

/*
 * The devices a parameter write reaches, grouped by what a placeholder can read of them
 * (server/render.c's fields: the MAC, the serial, the model, the account) — whether a
 * value's placeholders fill depends on the account and on whether the device has a serial
 * and a model, never on the MAC or on their text, so one device per group answers for its
 * group (issue 13: "every edit validated against the devices it reaches", at a million
 * devices in one pass of GROUP BY instead of a render per device). first_mac is the group's
 * lowest MAC, the one a refusal names.
 */
typedef struct pv_store_device_group {
    int64_t account_id; /* 0: none */
    char *model;        /* pv_store_account_groups only: the model (NULL: none) */
    bool has_serial, has_model;
    bool layered;       /* pv_store_account_groups: one device with a device layer */
    char first_mac[13];
    int64_t devices;
} pv_store_device_group;

/* The devices of scope ("global", "model:M", "account:N", "device:MAC") by account and by
 * whether they have a serial and a model. */
int pv_store_scope_groups(pv_store *s, const char *scope, pv_store_device_group **out, size_t *n,
                          pv_error *err);
/* The devices of one account for a check of its settings: those without a device layer by
 * model and by whether they have a serial (their layers are the same: global, the model's,
 * the account's), then each device that has a device layer on its own (layered, devices 1),
 * in MAC order. */
int pv_store_account_groups(pv_store *s, int64_t account_id, pv_store_device_group **out,
                            size_t *n, pv_error *err);
void pv_store_device_groups_free(pv_store_device_group *g, size_t n);

/* How many devices a parameter scope reaches ("global", "model:M", "account:N",
 * "device:MAC"): what a change of that scope's set re-renders. */
int pv_store_scope_devices(pv_store *s, const char *scope, int64_t *count, pv_error *err);

#endif
