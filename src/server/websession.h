/*
 * websession.h — logging people in to a web page and keeping them logged in:
 * the policy over the store's logins and sessions (store.h "logins and
 * sessions"), shared by the customer portal (server/portal.h) and the
 * operator console to come, so both have the same lockout, session cookie and
 * CSRF rule.
 *
 *   login     rate limit per source address (a stored counter: every node
 *             sees it), then the lockout (stored on the login), then the
 *             argon2id check (password.h); an unknown name costs the same
 *             hash so its timing tells nothing. A success starts a session.
 *   session   a 256-bit random token in a cookie (Secure; HttpOnly;
 *             SameSite=Strict); the store keeps its SHA-256. It ends at
 *             logout, after idle_seconds without a request, after
 *             lifetime_seconds in any case, and when the password changes.
 *   CSRF      every form and state-changing call carries a token derived
 *             from the session token (HMAC-SHA256(session, "csrf")): bound
 *             to the session, nothing to store, unknowable without the
 *             cookie, which scripts on other origins cannot read.
 *
 * Ownership: a pv_websession holds a copy of its login row; release it with
 * pv_websession_free. Thread-safe (no state); the store handle is the
 * caller's, one per thread.
 */
#ifndef PV_SERVER_WEBSESSION_H
#define PV_SERVER_WEBSESSION_H

#include "core/error.h"
#include "server/roles.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Base64url of 32 random bytes: 43 characters. */
#define PV_WEBSESSION_TOKEN_LEN 43

typedef struct pv_websession_policy {
    int64_t max_failures;        /* consecutive failures that lock a login (5) */
    int64_t lock_seconds;        /* how long a lock lasts (900) */
    int64_t idle_seconds;        /* a session unused this long ends (1800) */
    int64_t lifetime_seconds;    /* a session ends this long after the login in any case (43200) */
    int64_t attempts_per_minute; /* login attempts one source address may make (20) */
} pv_websession_policy;

/* The defaults above. */
void pv_websession_policy_default(pv_websession_policy *p);

typedef struct pv_websession {
    char token[PV_WEBSESSION_TOKEN_LEN + 1]; /* the cookie's value */
    char csrf[PV_WEBSESSION_TOKEN_LEN + 1];  /* what forms carry */
    pv_store_login login;                    /* who (without its password hash) */
    int64_t expires_at;
} pv_websession;

typedef enum {
    PV_LOGIN_OK,
    PV_LOGIN_WRONG,     /* unknown name or wrong password: the same answer for both */
    PV_LOGIN_LOCKED,    /* too many failures: *retry_after seconds */
    PV_LOGIN_THROTTLED, /* too many attempts from this address: *retry_after seconds */
} pv_login_outcome;

/*
 * Tries name/password from source (an address, for the rate limit). role_ok
 * says which roles may log in here (the portal: customers only); a login of
 * another role is PV_LOGIN_WRONG. On PV_LOGIN_OK *out holds a new session.
 * Returns 0 with *outcome set, or a PV_E* code when the store failed.
 * It is the three steps below in a row.
 */
int pv_websession_login(pv_store *s, const pv_websession_policy *p, const char *source,
                        const char *name, const char *password, size_t password_len,
                        bool (*role_ok)(pv_role), int64_t now, pv_login_outcome *outcome,
                        int64_t *retry_after, pv_websession *out, pv_error *err);

/*
 * The same in three steps, so that the argon2id work (tens of milliseconds) can run on a
 * worker thread while the loop that owns the store goes on serving:
 *   begin   (the store's thread) rate limit, lookup, lock; *verify false: *outcome is final;
 *   verify  (any thread, no store) the hash check, or the same work for an unknown name;
 *   finish  (the store's thread) counts the failure or starts the session.
 * A pv_login_attempt holds a copy of the password until pv_login_attempt_free.
 */
typedef struct pv_login_attempt {
    pv_store_login login; /* the row, when found with an allowed role */
    bool found;
    char *password;
    size_t password_len;
    int verified; /* verify's answer: 0 match, PV_EACCES, PV_EINVAL */
} pv_login_attempt;

int pv_websession_login_begin(pv_store *s, const pv_websession_policy *p, const char *source,
                              const char *name, const char *password, size_t password_len,
                              bool (*role_ok)(pv_role), int64_t now, pv_login_outcome *outcome,
                              int64_t *retry_after, bool *verify, pv_login_attempt *a,
                              pv_error *err);
void pv_websession_login_verify(pv_login_attempt *a);
int pv_websession_login_finish(pv_store *s, const pv_websession_policy *p, pv_login_attempt *a,
                               int64_t now, pv_login_outcome *outcome, int64_t *retry_after,
                               pv_websession *out, pv_error *err);
void pv_login_attempt_free(pv_login_attempt *a);

/* The session of a cookie's token: PV_ENOENT when unknown, expired or idle too long. */
int pv_websession_open(pv_store *s, const pv_websession_policy *p, const char *token, int64_t now,
                       pv_websession *out, pv_error *err);
/* Ends the session of token (logout). */
int pv_websession_logout(pv_store *s, const char *token, pv_error *err);
void pv_websession_free(pv_websession *w);

/* The CSRF token of a session token. */
void pv_websession_csrf(const char *token, char out[PV_WEBSESSION_TOKEN_LEN + 1]);
/* True when given (may be NULL) is the CSRF token of w, compared in constant time. */
bool pv_websession_csrf_ok(const pv_websession *w, const char *given);

/* A random token (base64url, 43 characters) — sessions, and anything else that needs one. */
int pv_websession_random_token(char out[PV_WEBSESSION_TOKEN_LEN + 1], pv_error *err);

#endif
