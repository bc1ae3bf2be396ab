/* keys.c — device secrets: issue, fetch, confirm, rotate; see keys.h. */
#include "server/keys.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

void pv_keys_passphrase(const pv_store_secret *sec, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < 32; i++) {
        out[2 * i] = hex[sec->key[i] >> 4];
        out[2 * i + 1] = hex[sec->key[i] & 15];
    }
    out[64] = '\0';
}

int pv_keys_issue(pv_store *s, const char *mac, int64_t now, pv_store_secret *out, pv_error *err)
{
    /* Random key and directory from the store (RAND_bytes). */
    return pv_store_secret_rotate(s, mac, NULL, NULL, now, out, err);
}

int pv_keys_rotate(pv_store *s, const char *mac, int64_t now, pv_store_secret *out, pv_error *err)
{
    /* DESIGN 6: while a rotation is pending (the current secret unconfirmed
     * and an older one live), the phone may still hold only that older one.
     * The store retires everything but the newest on a rotation, so a second
     * rotation now would strand it: the pending secret is the answer. */
    pv_store_secret cur, prev;
    bool has_prev = false;
    int rc = pv_store_secret_get(s, mac, &cur, &prev, &has_prev, NULL);
    if (rc == 0 && has_prev) {
        *out = cur;
        OPENSSL_cleanse(&prev, sizeof prev);
        return 0;
    }
    return pv_store_secret_rotate(s, mac, NULL, NULL, now, out, err);
}

/* Constant time over the longer of the two names (DESIGN 5: secrets). */
static bool dir_eq(pv_slice asked, const char *dir)
{
    size_t len = strlen(dir);
    char a[64] = {0}, b[64] = {0};
    if (asked.len >= sizeof a)
        return false;
    memcpy(a, asked.ptr, asked.len);
    memcpy(b, dir, len < sizeof b ? len : sizeof b - 1);
    return CRYPTO_memcmp(a, b, sizeof a) == 0 && asked.len == len;
}

int pv_keys_peek(pv_store *s, const char *mac, pv_keys_fetch *out, pv_error *err)
{
    pv_store_secret cur, prev;
    bool has_prev = false;
    memset(out, 0, sizeof *out);
    int rc = pv_store_secret_get(s, mac, &cur, &prev, &has_prev, err);
    if (rc != 0)
        return rc;
    out->serve = cur;
    out->deliver = cur;
    out->from_current = true;
    return 0;
}

/* Which secret answers dir, and whether this fetch must write (confirm or
 * rotate), from the device's live secrets. Shared by the planning, the doing
 * and the provisioning cache (pv_keys_decide), so they cannot disagree. */
static int choose(const pv_store_secret *cur, const pv_store_secret *prev, const char *mac,
                  pv_slice dir, int64_t now, int64_t period, pv_keys_fetch *out, bool *confirm,
                  bool *rotate, pv_error *err)
{
    memset(out, 0, sizeof *out);
    *confirm = *rotate = false;
    bool at_cur = dir_eq(dir, cur->dir);
    bool at_prev = prev != NULL && dir_eq(dir, prev->dir);
    if (!at_cur && !at_prev)
        return pv_error_set(err, PV_ENOENT, "device %s: not one of its directories", mac);
    if (at_prev) {
        /* DESIGN 6: the phone has not picked up the new secret yet; answer
         * with the key it holds and hand it the new one again. */
        out->serve = *prev;
        out->deliver = *cur;
        return 0;
    }
    out->from_current = true;
    out->serve = *cur;
    out->deliver = *cur;
    /* The phone found this directory, so it holds GPP_B and will decrypt
     * with GPP_SA: a new secret is confirmed, the older one retired. */
    *confirm = cur->confirmed_at == 0;
    *rotate = !*confirm && period > 0 && now - cur->created_at >= period;
    return 0;
}

static int decide(pv_store *s, const char *mac, pv_slice dir, int64_t now, int64_t period,
                  pv_keys_fetch *out, bool *confirm, bool *rotate, pv_error *err)
{
    pv_store_secret cur, prev;
    bool has_prev = false;
    memset(out, 0, sizeof *out);
    *confirm = *rotate = false;
    int rc = pv_store_secret_get(s, mac, &cur, &prev, &has_prev, err);
    if (rc == 0)
        rc = choose(&cur, has_prev ? &prev : NULL, mac, dir, now, period, out, confirm, rotate,
                    err);
    OPENSSL_cleanse(&cur, sizeof cur);
    OPENSSL_cleanse(&prev, sizeof prev);
    return rc;
}

int pv_keys_decide(const pv_store_secret *cur, const pv_store_secret *prev, const char *mac,
                   pv_slice dir, int64_t now, int64_t period, pv_keys_fetch *out, bool *writes,
                   pv_error *err)
{
    bool confirm, rotate;
    int rc = choose(cur, prev, mac, dir, now, period, out, &confirm, &rotate, err);
    *writes = rc == 0 && (confirm || rotate);
    return rc;
}

int pv_keys_fetch_plan(pv_store *s, const char *mac, pv_slice dir, int64_t now, int64_t period,
                       pv_keys_fetch *out, bool *writes, pv_error *err)
{
    bool confirm, rotate;
    int rc = decide(s, mac, dir, now, period, out, &confirm, &rotate, err);
    *writes = rc == 0 && (confirm || rotate);
    return rc;
}

int pv_keys_fetch_dir(pv_store *s, const char *mac, pv_slice dir, int64_t now, int64_t period,
                      pv_keys_fetch *out, pv_error *err)
{
    bool confirm, rotate;
    int rc = decide(s, mac, dir, now, period, out, &confirm, &rotate, err);
    if (rc == 0 && confirm) {
        if ((rc = pv_store_secret_confirm(s, mac, out->serve.id, now, err)) != 0)
            return rc;
        out->serve.confirmed_at = out->deliver.confirmed_at = now;
        out->confirmed_now = true;
    }
    if (rc == 0 && rotate) {
        pv_store_secret next;
        if ((rc = pv_keys_rotate(s, mac, now, &next, err)) != 0)
            return rc;
        out->deliver = next; /* inside, encrypted with the old key */
        out->rotated = true;
    }
    return rc;
}
