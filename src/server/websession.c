/* websession.c — web logins, sessions and CSRF tokens; see websession.h. */
#include "server/websession.h"

#include "core/alloc.h"
#include "server/password.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A session is touched in the store at most this often: a write per page would be waste. */
#define TOUCH_EVERY 60

void pv_websession_policy_default(pv_websession_policy *p)
{
    *p = (pv_websession_policy){
        .max_failures = 5,
        .lock_seconds = 900,
        .idle_seconds = 1800,
        .lifetime_seconds = 43200,
        .attempts_per_minute = 20,
    };
}

/* 32 bytes as base64url without padding (RFC 4648 §5): cookie- and form-safe. */
static void base64url(const unsigned char bytes[32], char out[PV_WEBSESSION_TOKEN_LEN + 1])
{
    unsigned char b64[48];
    int n = EVP_EncodeBlock(b64, bytes, 32); /* 44 with one '=' */
    for (int i = 0; i < PV_WEBSESSION_TOKEN_LEN && i < n; i++)
        out[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : (char)b64[i];
    out[PV_WEBSESSION_TOKEN_LEN] = '\0';
}

int pv_websession_random_token(char out[PV_WEBSESSION_TOKEN_LEN + 1], pv_error *err)
{
    unsigned char bytes[32];
    if (RAND_bytes(bytes, sizeof bytes) != 1)
        return pv_error_set(err, PV_ECRYPTO, "session: no randomness for a token");
    base64url(bytes, out);
    OPENSSL_cleanse(bytes, sizeof bytes);
    return 0;
}

void pv_websession_csrf(const char *token, char out[PV_WEBSESSION_TOKEN_LEN + 1])
{
    unsigned char mac[32];
    unsigned int len = sizeof mac;
    HMAC(EVP_sha256(), token, (int)strlen(token), (const unsigned char *)"csrf", 4, mac, &len);
    base64url(mac, out);
}

bool pv_websession_csrf_ok(const pv_websession *w, const char *given)
{
    return given != NULL && strlen(given) == PV_WEBSESSION_TOKEN_LEN &&
           CRYPTO_memcmp(given, w->csrf, PV_WEBSESSION_TOKEN_LEN) == 0;
}

void pv_websession_free(pv_websession *w)
{
    pv_store_login_free(&w->login);
    OPENSSL_cleanse(w, sizeof *w);
}

/* The row kept in a session holds no hash: nothing downstream needs it. */
static void forget_hash(pv_store_login *l)
{
    if (l->password_hash != NULL)
        OPENSSL_cleanse(l->password_hash, strlen(l->password_hash));
    free(l->password_hash);
    l->password_hash = NULL;
}

static int start_session(pv_store *s, const pv_websession_policy *p, pv_store_login *login,
                         int64_t now, pv_websession *out, pv_error *err)
{
    memset(out, 0, sizeof *out);
    int rc = pv_websession_random_token(out->token, err);
    if (rc != 0)
        return rc;
    out->expires_at = now + p->lifetime_seconds;
    rc = pv_store_session_create(s, out->token, login->id, now, out->expires_at, err);
    if (rc != 0)
        return rc;
    pv_websession_csrf(out->token, out->csrf);
    forget_hash(login);
    out->login = *login;
    memset(login, 0, sizeof *login);
    return 0;
}

void pv_login_attempt_free(pv_login_attempt *a)
{
    pv_store_login_free(&a->login);
    if (a->password != NULL)
        OPENSSL_cleanse(a->password, a->password_len);
    free(a->password);
    memset(a, 0, sizeof *a);
}

int pv_websession_login_begin(pv_store *s, const pv_websession_policy *p, const char *source,
                              const char *name, const char *password, size_t password_len,
                              bool (*role_ok)(pv_role), int64_t now, pv_login_outcome *outcome,
                              int64_t *retry_after, bool *verify, pv_login_attempt *a,
                              pv_error *err)
{
    memset(a, 0, sizeof *a);
    *outcome = PV_LOGIN_WRONG;
    *retry_after = 0;
    *verify = false;
    /* The rate limit first: it costs one counter, the hash costs 25 ms. */
    char key[128];
    snprintf(key, sizeof key, "login:%s", source != NULL ? source : "-");
    int rc = pv_store_rate_hit(s, key, now, 60, p->attempts_per_minute, NULL, err);
    if (rc == PV_ELIMIT) {
        *outcome = PV_LOGIN_THROTTLED;
        *retry_after = 60 - now % 60;
        return 0;
    }
    if (rc != 0)
        return rc;
    pv_error quiet = {""};
    rc = pv_store_login_get(s, name != NULL ? name : "", &a->login, &quiet);
    pv_role role = PV_ROLE_CUSTOMER;
    bool known_role = rc == 0 && pv_role_parse(a->login.role, &role);
    if (rc != 0 && rc != PV_ENOENT) {
        *err = quiet;
        return rc;
    }
    a->found = rc == 0 && known_role && (role_ok == NULL || role_ok(role));
    if (!a->found)
        pv_store_login_free(&a->login);
    if (a->found && a->login.locked_until > now) {
        /* Locked: no hash is computed and nothing more is counted until the lock ends. */
        *outcome = PV_LOGIN_LOCKED;
        *retry_after = a->login.locked_until - now;
        pv_login_attempt_free(a);
        return 0;
    }
    /* an unknown name costs the same hash as a wrong password: the timing tells nothing */
    a->password_len = password_len;
    a->password = pv_malloc(password_len + 1);
    memcpy(a->password, password, password_len);
    a->password[password_len] = '\0';
    *verify = true;
    return 0;
}

void pv_websession_login_verify(pv_login_attempt *a)
{
    pv_error quiet = {""};
    if (!a->found) {
        pv_password_burn(a->password, a->password_len);
        a->verified = PV_EACCES;
        return;
    }
    a->verified = pv_password_verify(a->login.password_hash, a->password, a->password_len, &quiet);
}

int pv_websession_login_finish(pv_store *s, const pv_websession_policy *p, pv_login_attempt *a,
                               int64_t now, pv_login_outcome *outcome, int64_t *retry_after,
                               pv_websession *out, pv_error *err)
{
    *outcome = PV_LOGIN_WRONG;
    *retry_after = 0;
    if (!a->found)
        return 0;
    if (a->verified == PV_EACCES) {
        pv_store_login after = {0};
        int rc = pv_store_login_failed(s, a->login.id, now, p->max_failures, p->lock_seconds,
                                       &after, err);
        if (rc == 0 && after.locked_until > now) {
            *outcome = PV_LOGIN_LOCKED;
            *retry_after = after.locked_until - now;
        }
        pv_store_login_free(&after);
        return rc;
    }
    if (a->verified != 0)
        return pv_error_set(err, PV_EINVAL, "login '%.64s': the stored hash is not argon2id",
                            a->login.name);
    if (pv_password_needs_rehash(a->login.password_hash)) {
        char *fresh = NULL;
        pv_error quiet = {""};
        /* A password set under older rules may fail today's check: keep the old hash then. */
        if (pv_password_hash(a->password, a->password_len, &fresh, &quiet) == 0)
            (void)pv_store_login_set_password(s, a->login.name, fresh, now, &quiet);
        free(fresh);
    }
    int rc = pv_store_login_succeeded(s, a->login.id, now, err);
    if (rc == 0)
        rc = start_session(s, p, &a->login, now, out, err);
    if (rc == 0)
        *outcome = PV_LOGIN_OK;
    return rc;
}

int pv_websession_login(pv_store *s, const pv_websession_policy *p, const char *source,
                        const char *name, const char *password, size_t password_len,
                        bool (*role_ok)(pv_role), int64_t now, pv_login_outcome *outcome,
                        int64_t *retry_after, pv_websession *out, pv_error *err)
{
    pv_login_attempt a;
    bool verify = false;
    int rc = pv_websession_login_begin(s, p, source, name, password, password_len, role_ok, now,
                                       outcome, retry_after, &verify, &a, err);
    if (rc == 0 && verify) {
        pv_websession_login_verify(&a);
        rc = pv_websession_login_finish(s, p, &a, now, outcome, retry_after, out, err);
    }
    pv_login_attempt_free(&a);
    return rc;
}

int pv_websession_open(pv_store *s, const pv_websession_policy *p, const char *token, int64_t now,
                       pv_websession *out, pv_error *err)
{
    memset(out, 0, sizeof *out);
    if (token == NULL || strlen(token) != PV_WEBSESSION_TOKEN_LEN)
        return pv_error_set(err, PV_ENOENT, "session: unknown or expired");
    pv_store_session ses;
    int rc = pv_store_session_get(s, token, now, p->idle_seconds, &ses, err);
    if (rc == 0)
        rc = pv_store_login_get_id(s, ses.login_id, &out->login, err);
    if (rc == 0 && now - ses.last_seen_at >= TOUCH_EVERY)
        rc = pv_store_session_touch(s, token, now, err);
    if (rc != 0) {
        pv_websession_free(out);
        return rc;
    }
    forget_hash(&out->login);
    memcpy(out->token, token, PV_WEBSESSION_TOKEN_LEN + 1);
    pv_websession_csrf(token, out->csrf);
    out->expires_at = ses.expires_at;
    return 0;
}

int pv_websession_logout(pv_store *s, const char *token, pv_error *err)
{
    return pv_store_session_delete(s, token, err);
}
