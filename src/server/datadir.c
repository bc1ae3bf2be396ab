/* datadir.c — first-run data directory; see datadir.h. */
#include "server/datadir.h"

#include "core/buf.h"
#include "net/pki.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SERVER_SAN "DNS:localhost,IP:127.0.0.1,IP:::1"
#define CA_DAYS 3650

static const char sample_readme[] =
    "This directory is what `provisor serve` serves over TFTP, HTTP and HTTPS\n"
    "when no provisioning database is in use: a request for /a/b.xml answers\n"
    "<this directory>/a/b.xml. Paths never leave it (.., absolute paths and\n"
    "symlinks out are refused).\n\n"
    "Try:\n"
    "  curl http://127.0.0.1:8080/sample.xml\n"
    "  curl tftp://127.0.0.1:6969/sample.xml\n\n"
    "sample.xml is an XML flat profile (spec 3.1): each element names a\n"
    "parameter, its text is the value. Copy it to <MAC>.xml (e.g.\n"
    "000e08abcdef.xml) and point a phone's Profile_Rule at it.\n";

static const char sample_profile[] =
    "<flat-profile>\n"
    "  <!-- Resync at boot, then every hour; retry after an error in 10 min. -->\n"
    "  <Resync_On_Reset>Yes</Resync_On_Reset>\n"
    "  <Resync_Periodic>3600</Resync_Periodic>\n"
    "  <Resync_Error_Retry_Delay>600</Resync_Error_Retry_Delay>\n"
    "  <!-- Where the phone fetches its own profile next time ($MA = its MAC). -->\n"
    "  <Profile_Rule>http://127.0.0.1:8080/$MA.xml</Profile_Rule>\n"
    "  <Station_Name ua=\"rw\">Provisor sample</Station_Name>\n"
    "</flat-profile>\n";

typedef struct paths {
    const char *dir;
    char buf[4096];
} paths;

/* "<dir>/<rel>" in p->buf; the data directory path was checked for length. */
static const char *at(paths *p, const char *rel)
{
    snprintf(p->buf, sizeof p->buf, "%s/%s", p->dir, rel);
    return p->buf;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int make_dir(const char *path, mode_t mode, bool *created, pv_error *err)
{
    if (mkdir(path, mode) == 0) {
        if (created)
            *created = true;
        return 0;
    }
    struct stat st;
    if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return 0;
    return pv_error_set(err, PV_EIO, "%s: cannot create directory: %s", path, strerror(errno));
}

static int write_text(const char *path, const char *text, mode_t mode, pv_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return pv_error_set(err, PV_EIO, "%s: %s", path, strerror(errno));
    size_t len = strlen(text);
    ssize_t n = write(fd, text, len);
    int saved = errno;
    if (close(fd) != 0 || n != (ssize_t)len)
        return pv_error_set(err, PV_EIO, "%s: %s", path, strerror(saved));
    return 0;
}

/* A CA pair: reused when both files exist, created when neither does. */
static int ensure_ca(paths *p, const char *cert_rel, const char *key_rel,
                     const pv_pki_subject *subject, X509 **cert, EVP_PKEY **key, pv_error *err)
{
    char cert_path[4096], key_path[4096];
    snprintf(cert_path, sizeof cert_path, "%s", at(p, cert_rel));
    snprintf(key_path, sizeof key_path, "%s", at(p, key_rel));
    bool have_cert = exists(cert_path), have_key = exists(key_path);
    if (have_cert && have_key) {
        int rc = pv_pki_read_cert(cert_path, cert, err);
        if (rc == 0 && (rc = pv_pki_read_key(key_path, key, err)) != 0) {
            X509_free(*cert);
            *cert = NULL;
        }
        return rc;
    }
    if (have_cert || have_key)
        return pv_error_set(err, PV_ECONFLICT,
                            "%s: found without its %s; restore it, or remove both to create a "
                            "new CA (certificates it issued stop verifying)",
                            have_cert ? cert_path : key_path, have_cert ? "key" : "certificate");
    pv_pki_cert_options o = {.subject = *subject, .usage = PV_PKI_USAGE_CA, .days = CA_DAYS};
    int rc = pv_pki_key_new(PV_PKI_KEY_EC_P256, 0, key, err);
    if (rc == 0)
        rc = pv_pki_issue(&o, *key, NULL, *key, cert, err);
    if (rc == 0)
        rc = pv_pki_write_key(key_path, *key, err);
    if (rc == 0)
        rc = pv_pki_write_certs(cert_path, cert, 1, err);
    if (rc != 0) {
        X509_free(*cert);
        EVP_PKEY_free(*key);
        *cert = NULL;
        *key = NULL;
    }
    return rc;
}

static int ensure_server_cert(paths *p, X509 *ca, EVP_PKEY *ca_key, pv_error *err)
{
    char cert_path[4096], key_path[4096];
    snprintf(cert_path, sizeof cert_path, "%s", at(p, PV_DATADIR_SERVER_CERT));
    snprintf(key_path, sizeof key_path, "%s", at(p, PV_DATADIR_SERVER_KEY));
    if (exists(cert_path) && exists(key_path))
        return 0;
    /* Half a pair is useless: issue both again from the CA, which clients trust. */
    pv_pki_cert_options o = {
        .subject = {.common_name = "localhost", .organization = "Provisor"},
        .usage = PV_PKI_USAGE_SERVER,
        .san = SERVER_SAN,
    };
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    int rc = pv_pki_key_new(PV_PKI_KEY_EC_P256, 0, &key, err);
    if (rc == 0)
        rc = pv_pki_issue(&o, key, ca, ca_key, &cert, err);
    if (rc == 0)
        rc = pv_pki_write_key(key_path, key, err);
    if (rc == 0) {
        X509 *chain[] = {cert, ca};
        rc = pv_pki_write_certs(cert_path, chain, 2, err);
    }
    X509_free(cert);
    EVP_PKEY_free(key);
    return rc;
}

static void sha256_hex(const char *text, char out[65])
{
    unsigned char md[32];
    unsigned int len = 0;
    EVP_Digest(text, strlen(text), md, &len, EVP_sha256(), NULL);
    pv_hex_encode(md, 32, out);
}

/* A new token in token[65] and its hash, with a newline, in hash[66]. */
static int new_token(char token[65], char hash[66], pv_error *err)
{
    unsigned char raw[24];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return pv_error_set(err, PV_ECRYPTO, "no randomness for the admin token");
    /* "pv_" + 48 hex digits: recognisable in a leaked paste, 192 bits. */
    memcpy(token, "pv_", 3);
    pv_hex_encode(raw, sizeof raw, token + 3);
    sha256_hex(token, hash);
    hash[64] = '\n';
    hash[65] = '\0';
    return 0;
}

static int ensure_admin_token(paths *p, pv_datadir_result *out, pv_error *err)
{
    const char *path = at(p, PV_DATADIR_ADMIN_TOKEN_HASH);
    if (exists(path))
        return 0;
    char hash[66];
    int rc = new_token(out->admin_token, hash, err);
    if (rc == 0)
        rc = write_text(path, hash, 0600, err);
    if (rc != 0)
        out->admin_token[0] = '\0';
    return rc;
}

int pv_datadir_reset_admin_token(const char *dir, char token[65], pv_error *err)
{
    token[0] = '\0';
    if (strlen(dir) > 3000)
        return pv_error_set(err, PV_EINVAL, "data directory path longer than 3000 characters");
    paths p = {.dir = dir};
    if (!exists(at(&p, PV_DATADIR_CA_CERT)))
        return pv_error_set(err, PV_ENOENT,
                            "%s: not a data directory (no %s); 'provisor serve' creates one", dir,
                            PV_DATADIR_CA_CERT);
    char hash[66], tmp[4096];
    int rc = new_token(token, hash, err);
    (void)snprintf(tmp, sizeof tmp, "%s.new", at(&p, PV_DATADIR_ADMIN_TOKEN_HASH));
    (void)unlink(tmp);
    if (rc == 0)
        rc = write_text(tmp, hash, 0600, err);
    /* rename(2): a running server reads the old hash or the new one, never half a file. */
    if (rc == 0 && rename(tmp, at(&p, PV_DATADIR_ADMIN_TOKEN_HASH)) != 0)
        rc = pv_error_set(err, PV_EIO, "%s: %s", p.buf, strerror(errno));
    if (rc != 0) {
        (void)unlink(tmp);
        token[0] = '\0';
    }
    return rc;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path) == 0 ? 0 : -1;
}

int pv_datadir_remove_new(const char *dir, const pv_datadir_result *res, pv_error *err)
{
    if (!res->created)
        return 0; /* never remove what this run did not create */
    if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        return pv_error_set(err, PV_EIO, "%s: cannot remove what this run created: %s", dir,
                            strerror(errno));
    return 0;
}

static int ensure_profiles(paths *p, pv_error *err)
{
    bool created = false;
    int rc = make_dir(at(p, PV_DATADIR_PROFILES), 0755, &created, err);
    if (rc != 0 || !created)
        return rc; /* an existing tree is the operator's: never add to it */
    rc = write_text(at(p, PV_DATADIR_PROFILES "/README.txt"), sample_readme, 0644, err);
    if (rc == 0)
        rc = write_text(at(p, PV_DATADIR_PROFILES "/sample.xml"), sample_profile, 0644, err);
    return rc;
}

/*
 * The data directory holds the CA keys, master.key and provisor.db (sealed secrets, hashed
 * tokens): an existing one with a looser mode is narrowed to 0700 (issue 11 "secrets at
 * rest"), or refused with the reason when that is not ours to change.
 */
static int private_dir(const char *dir, pv_error *err)
{
    struct stat st;
    if (stat(dir, &st) != 0)
        return pv_error_set(err, PV_EIO, "%s: %s", dir, strerror(errno));
    if ((st.st_mode & 077) == 0)
        return 0;
    if (st.st_uid != geteuid() || chmod(dir, 0700) != 0)
        return pv_error_set(err, PV_EACCES,
                            "%s: mode %03o lets other users read the keys and the store, and it "
                            "cannot be made 0700 (%s); chmod 700 it",
                            dir, (unsigned)(st.st_mode & 0777),
                            st.st_uid != geteuid() ? "owned by another user" : strerror(errno));
    return 0;
}

int pv_datadir_ensure(const char *dir, pv_datadir_result *out, pv_error *err)
{
    memset(out, 0, sizeof *out);
    if (strlen(dir) > 3000)
        return pv_error_set(err, PV_EINVAL, "data directory path longer than 3000 characters");
    paths p = {.dir = dir};
    int rc = make_dir(dir, 0700, &out->created, err);
    if (rc == 0 && !out->created)
        rc = private_dir(dir, err);
    if (rc == 0)
        rc = make_dir(at(&p, "tls"), 0700, NULL, err);
    if (rc == 0)
        rc = make_dir(at(&p, "manufacturer"), 0700, NULL, err);
    if (rc != 0)
        return rc;

    X509 *ca = NULL, *phone_ca = NULL;
    EVP_PKEY *ca_key = NULL, *phone_ca_key = NULL;
    pv_pki_subject ca_subject = {.common_name = "Provisor local CA", .organization = "Provisor"};
    pv_pki_subject phone_subject = {.common_name = "Provisor demo phone manufacturer CA",
                                    .organization = "Provisor demo manufacturer"};
    rc = ensure_ca(&p, PV_DATADIR_CA_CERT, PV_DATADIR_CA_KEY, &ca_subject, &ca, &ca_key, err);
    if (rc == 0)
        rc = ensure_server_cert(&p, ca, ca_key, err);
    if (rc == 0)
        pv_pki_fingerprint(ca, out->ca_fingerprint);
    if (rc == 0)
        rc = ensure_ca(&p, PV_DATADIR_PHONE_CA_CERT, PV_DATADIR_PHONE_CA_KEY, &phone_subject,
                       &phone_ca, &phone_ca_key, err);
    if (rc == 0 && !exists(at(&p, PV_DATADIR_PHONE_BUNDLE)))
        rc = pv_pki_write_certs(at(&p, PV_DATADIR_PHONE_BUNDLE), &phone_ca, 1, err);
    X509_free(ca);
    X509_free(phone_ca);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(phone_ca_key);
    if (rc == 0)
        rc = ensure_admin_token(&p, out, err);
    if (rc == 0)
        rc = ensure_profiles(&p, err);
    if (rc == 0)
        rc = make_dir(at(&p, PV_DATADIR_UPLOADS), 0755, NULL, err);
    return rc;
}

bool pv_datadir_check_admin_token(const char *dir, const char *token)
{
    paths p = {.dir = dir};
    FILE *f = fopen(at(&p, PV_DATADIR_ADMIN_TOKEN_HASH), "re");
    if (f == NULL)
        return false;
    char stored[80] = "";
    bool ok = fgets(stored, sizeof stored, f) != NULL;
    fclose(f);
    if (!ok || strlen(stored) < 64)
        return false;
    char hash[65];
    sha256_hex(token, hash);
    return CRYPTO_memcmp(hash, stored, 64) == 0;
}
