/* password.c — argon2id hashing of login passwords; see password.h. */
#include "server/password.h"

#include "core/alloc.h"
#include "core/text.h"

#include <argon2.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#define SALT_LEN 16
#define HASH_LEN 32

int pv_password_check(const char *pw, size_t len, pv_error *err)
{
    if (len > PV_PASSWORD_MAX)
        return pv_error_set(err, PV_EINVAL, "password: at most %d bytes", PV_PASSWORD_MAX);
    int rc = pv_text_check((pv_slice){pw, len}, PV_TEXT_NAME, "password", err);
    if (rc != 0)
        return rc;
    size_t chars = 0; /* UTF-8 characters: count the bytes that start one */
    for (size_t i = 0; i < len; i++)
        chars += ((unsigned char)pw[i] & 0xC0) != 0x80;
    if (chars < PV_PASSWORD_MIN)
        return pv_error_set(err, PV_EINVAL, "password: at least %d characters, got %zu",
                            PV_PASSWORD_MIN, chars);
    return 0;
}

int pv_password_hash(const char *pw, size_t len, char **hash, pv_error *err)
{
    int rc = pv_password_check(pw, len, err);
    if (rc != 0)
        return rc;
    unsigned char salt[SALT_LEN];
    if (RAND_bytes(salt, sizeof salt) != 1)
        return pv_error_set(err, PV_EIO, "password: no randomness for a salt");
    size_t size = argon2_encodedlen(PV_ARGON2_PASSES, PV_ARGON2_MEMORY_KIB, PV_ARGON2_LANES,
                                    SALT_LEN, HASH_LEN, Argon2_id);
    char *out = pv_malloc(size);
    int arc = argon2id_hash_encoded(PV_ARGON2_PASSES, PV_ARGON2_MEMORY_KIB, PV_ARGON2_LANES, pw,
                                    len, salt, sizeof salt, HASH_LEN, out, size);
    if (arc != ARGON2_OK) {
        free(out);
        return pv_error_set(err, PV_EIO, "password: argon2id: %s", argon2_error_message(arc));
    }
    *hash = out;
    return 0;
}

int pv_password_verify(const char *hash, const char *pw, size_t len, pv_error *err)
{
    if (hash == NULL || strncmp(hash, "$argon2id$", 10) != 0)
        return pv_error_set(err, PV_EINVAL, "password: the stored hash is not argon2id");
    if (len > PV_PASSWORD_MAX) /* never hash an attacker's megabyte */
        return pv_error_set(err, PV_EACCES, "password: wrong");
    int arc = argon2id_verify(hash, pw, len);
    if (arc == ARGON2_OK)
        return 0;
    if (arc == ARGON2_VERIFY_MISMATCH)
        return pv_error_set(err, PV_EACCES, "password: wrong");
    return pv_error_set(err, PV_EINVAL, "password: the stored hash: %s", argon2_error_message(arc));
}

void pv_password_burn(const char *pw, size_t len)
{
    static const unsigned char salt[SALT_LEN] = "provisor-nobody";
    unsigned char out[HASH_LEN];
    (void)argon2id_hash_raw(PV_ARGON2_PASSES, PV_ARGON2_MEMORY_KIB, PV_ARGON2_LANES, pw,
                            len > PV_PASSWORD_MAX ? 0 : len, salt, sizeof salt, out, sizeof out);
}

bool pv_password_needs_rehash(const char *hash)
{
    unsigned m = 0, t = 0, p = 0;
    if (hash == NULL || sscanf(hash, "$argon2id$v=19$m=%u,t=%u,p=%u$", &m, &t, &p) != 3)
        return true;
    return m < PV_ARGON2_MEMORY_KIB || t < PV_ARGON2_PASSES || p < PV_ARGON2_LANES;
}
