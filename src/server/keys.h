/*
 * keys.h — per-device keys and secret directories: issue, serve, rotate
 * (DESIGN decisions 5 and 6, spec 12.2).
 *
 * A bound device holds an AES-256 key (the phone keeps it in GPP_SA as the
 * 64-hex-digit passphrase of `openssl enc -k`, spec 4.2) and a random
 * directory (GPP_B); its full profile lives at `/<dir>/<mac>.cfg` encrypted
 * with that key. The store (store.h, "device keys") keeps them sealed under
 * the master key with their history; this module is the policy over it:
 *
 *   issue    binding makes the first secret (unconfirmed);
 *   fetch    a request from a directory picks the key that answers it: the
 *            current directory confirms the current secret (the phone proved
 *            it holds it); the previous directory still answers while the
 *            current one is unconfirmed, so no phone is stranded;
 *   rotate   a fetch from the confirmed current directory, older than the
 *            rotation period, issues the next secret; that answer is still
 *            encrypted with the old key and carries the new GPP_SA/GPP_B
 *            inside, and the old key stays valid until the phone fetches from
 *            the new directory (confirm).
 *
 * Directory names are compared in constant time: they are secrets.
 */
#ifndef PV_SERVER_KEYS_H
#define PV_SERVER_KEYS_H

#include "core/buf.h"
#include "core/error.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdint.h>

/* The GPP_SA text of a secret: its key as 64 lower-case hex digits. */
void pv_keys_passphrase(const pv_store_secret *sec, char out[65]);

/* Binding: the device's first secret, or a fresh one when it had some (rebinding). */
int pv_keys_issue(pv_store *s, const char *mac, int64_t now, pv_store_secret *out, pv_error *err);

typedef struct pv_keys_fetch {
    pv_store_secret serve;   /* encrypts this answer: the secret of the directory asked */
    pv_store_secret deliver; /* goes inside (GPP_SA, GPP_B): the newest secret */
    bool from_current;       /* the request named the current directory */
    bool confirmed_now;      /* ... and this fetch confirmed it */
    bool rotated;            /* a new secret was issued by this fetch */
} pv_keys_fetch;

/*
 * A fetch of `/<dir>/<mac>.cfg` at now. period 0 never rotates. PV_ENOENT
 * (with a message that does not echo dir) when dir is not one of the
 * device's live directories or the device has no secret.
 */
int pv_keys_fetch_dir(pv_store *s, const char *mac, pv_slice dir, int64_t now, int64_t period,
                      pv_keys_fetch *out, pv_error *err);

/* The same decision without side effects: *writes says whether
 * pv_keys_fetch_dir() would confirm or rotate (then it needs a transaction);
 * otherwise out is exactly what it would return, and the fetch is read-only
 * (the provisioning handler's fast path). */
int pv_keys_fetch_plan(pv_store *s, const char *mac, pv_slice dir, int64_t now, int64_t period,
                       pv_keys_fetch *out, bool *writes, pv_error *err);

/* pv_keys_fetch_plan on live secrets the caller already holds (the current one,
 * and the previous one while it still answers, else NULL): no store read. */
int pv_keys_decide(const pv_store_secret *cur, const pv_store_secret *prev, const char *mac,
                   pv_slice dir, int64_t now, int64_t period, pv_keys_fetch *out, bool *writes,
                   pv_error *err);

/* What a fetch from the current directory would use, without side effects
 * (`provisor device render`). PV_ENOENT without a secret. */
int pv_keys_peek(pv_store *s, const char *mac, pv_keys_fetch *out, pv_error *err);

/* Forces the next secret now (an operator's "rotate"): same as a due rotation.
 * While a rotation is still pending (unconfirmed), *out is that pending secret
 * and nothing changes: a second one would retire the key the phone holds. */
int pv_keys_rotate(pv_store *s, const char *mac, int64_t now, pv_store_secret *out, pv_error *err);

#endif
