/*
 * password.h — passwords of people who log in (customers in the portal,
 * operators in the console): hashed with argon2id (RFC 9106) by Debian's
 * libargon2, checked against the stored string, never kept in plain.
 *
 * The hash is the PHC string libargon2 writes ("$argon2id$v=19$m=19456,t=2,
 * p=1$salt$hash"): it carries its own parameters and salt, so raising the
 * parameters later needs no migration (pv_password_needs_rehash says when a
 * stored hash is weaker than today's; the login rehashes it).
 *
 * Parameters (docs/security.md "Portal logins", docs/benchmarks.md): memory
 * 19 MiB, 2 passes, 1 lane — the OWASP password-storage minimum for argon2id.
 * One hash costs about 25 ms of one core here; more memory or passes would
 * make every login (and every failed guess an attacker makes us pay for) cost
 * more of the CPU the phones need. Guessing is held back by the lockout and
 * the per-address rate limit (server/websession.h), not by the hash alone.
 *
 * Ownership: pv_password_hash gives a pv_malloc'd string the caller frees.
 * Thread-safe: no state.
 */
#ifndef PV_SERVER_PASSWORD_H
#define PV_SERVER_PASSWORD_H

#include "core/error.h"

#include <stdbool.h>
#include <stddef.h>

#define PV_PASSWORD_MIN 8    /* characters a password needs (NIST SP 800-63B: 8) */
#define PV_PASSWORD_MAX 1024 /* bytes; a longer one is refused before any hashing */
#define PV_ARGON2_MEMORY_KIB 19456
#define PV_ARGON2_PASSES 2
#define PV_ARGON2_LANES 1

/* A password fit to be set: PV_PASSWORD_MIN..PV_PASSWORD_MAX, UTF-8 without control
 * characters (what a person can type; a trailing newline from a pipe is the caller's). */
int pv_password_check(const char *pw, size_t len, pv_error *err);
/* Hashes pw (checked first) with a fresh 16-byte salt into *hash. */
int pv_password_hash(const char *pw, size_t len, char **hash, pv_error *err);
/* 0 when pw matches hash, PV_EACCES when not, PV_EINVAL when hash is not an argon2id string. */
int pv_password_verify(const char *hash, const char *pw, size_t len, pv_error *err);
/* Spends what a verify costs, against nothing: the answer for an unknown login name, so that
 * its timing does not tell which names exist. */
void pv_password_burn(const char *pw, size_t len);
/* True when hash was made with weaker parameters than today's. */
bool pv_password_needs_rehash(const char *hash);

#endif
