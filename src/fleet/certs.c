/*
 * certs.c — a fleet's client certificates (see certs.h).
 */
#include "fleet/certs.h"

#include "net/pki.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

static int path_in(const char *dir, const char *name, char *out, size_t size, pv_error *err)
{
    int n = snprintf(out, size, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= size)
        return pv_error_set(err, PV_ETOOBIG, "--out %s: directory name too long", dir);
    return 0;
}

/* The CA: read the given one, or make one and write ca.pem and ca.key. */
static int load_ca(const pv_fleet_certs_options *o, X509 **cert, EVP_PKEY **key, pv_error *err)
{
    char cpath[4096], kpath[4096];
    if (o->ca_cert != NULL) {
        if (o->ca_key == NULL)
            return pv_error_set(err, PV_EINVAL, "--ca-cert needs --ca-key");
        int rc = pv_pki_read_cert(o->ca_cert, cert, err);
        if (rc == 0)
            rc = pv_pki_read_key(o->ca_key, key, err);
        if (rc == 0 && X509_check_private_key(*cert, *key) != 1)
            rc = pv_error_set(err, PV_EINVAL, "--ca-key %s does not belong to --ca-cert %s",
                              o->ca_key, o->ca_cert);
        if (rc == 0 && path_in(o->out_dir, "ca.pem", cpath, sizeof cpath, err) == 0)
            rc = pv_pki_write_certs(cpath, cert, 1, err); /* the bundle a server trusts */
        return rc;
    }
    int rc = pv_pki_key_new(PV_PKI_KEY_EC_P256, 0, key, err);
    if (rc != 0)
        return rc;
    pv_pki_cert_options co = {.subject = {.common_name = "Provisor fleet manufacturer CA",
                                          .organization = "Provisor test"},
                              .usage = PV_PKI_USAGE_CA,
                              .days = 3650};
    rc = pv_pki_issue(&co, *key, NULL, *key, cert, err);
    if (rc == 0)
        rc = path_in(o->out_dir, "ca.pem", cpath, sizeof cpath, err);
    if (rc == 0)
        rc = path_in(o->out_dir, "ca.key", kpath, sizeof kpath, err);
    if (rc == 0)
        rc = pv_pki_write_certs(cpath, cert, 1, err);
    if (rc == 0)
        rc = pv_pki_write_key(kpath, *key, err);
    return rc;
}

/* Key then certificate in one PEM file, 0600, through a temporary name. */
static int write_pair(const char *path, EVP_PKEY *key, X509 *cert, pv_error *err)
{
    BIO *mem = BIO_new(BIO_s_mem());
    if (PEM_write_bio_PrivateKey(mem, key, NULL, NULL, 0, NULL, NULL) != 1 ||
        PEM_write_bio_X509(mem, cert) != 1) {
        BIO_free(mem);
        return pv_error_set(err, PV_ECRYPTO, "%s: cannot encode the key and certificate", path);
    }
    char *data = NULL;
    long len = BIO_get_mem_data(mem, &data);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path); /* path is < 4096: no cut */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int rc = 0;
    if (fd < 0) {
        rc = pv_error_set(err, PV_EIO, "%s: %s", tmp, strerror(errno));
    } else {
        bool ok = write(fd, data, (size_t)len) == (ssize_t)len;
        ok = close(fd) == 0 && ok;
        if (!ok || rename(tmp, path) != 0) {
            rc = pv_error_set(err, PV_EIO, "%s: cannot write (%s)", path, strerror(errno));
            unlink(tmp);
        }
    }
    BIO_free(mem);
    return rc;
}

/* One phone's key and certificate, issued by ca, written to path. */
static int issue_pair(X509 *ca, EVP_PKEY *ca_key, const char *mac, const char *model,
                      const char *organization, const char *serial, bool rsa, unsigned days,
                      const char *path, pv_error *err)
{
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    int rc = pv_pki_key_new(rsa ? PV_PKI_KEY_RSA : PV_PKI_KEY_EC_P256, 2048, &key, err);
    pv_pki_cert_options co = {.subject = {.common_name = mac,
                                          .org_unit = model,
                                          .organization = organization,
                                          .locality = serial,
                                          .state = mac},
                              .usage = PV_PKI_USAGE_CLIENT,
                              .days = days};
    if (rc == 0)
        rc = pv_pki_issue(&co, key, ca, ca_key, &cert, err);
    if (rc == 0)
        rc = write_pair(path, key, cert, err);
    X509_free(cert);
    EVP_PKEY_free(key);
    return rc;
}

int pv_fleet_certs_issue(const pv_fleet_certs_options *o, pv_fleet_certs_result *res, pv_error *err)
{
    memset(res, 0, sizeof *res);
    if (o->count == 0 || o->count > PV_FLEET_MAX_PHONES || o->first >= PV_FLEET_MAX_PHONES ||
        o->count > PV_FLEET_MAX_PHONES - o->first)
        return pv_error_set(err, PV_ERANGE, "--count %u: 1..%u phones", o->count,
                            PV_FLEET_MAX_PHONES);
    if (mkdir(o->out_dir, 0755) != 0 && errno != EEXIST)
        return pv_error_set(err, PV_EIO, "--out %s: %s", o->out_dir, strerror(errno));
    uint64_t t0 = uv_hrtime();
    X509 *ca = NULL;
    EVP_PKEY *ca_key = NULL;
    int rc = load_ca(o, &ca, &ca_key, err);
    for (uint32_t i = o->first; rc == 0 && i < o->first + o->count; i++) {
        pv_fleet_ident id;
        pv_fleet_ident_make(o->seed, i, &o->mix, &id);
        char name[32], path[4096];
        snprintf(name, sizeof name, "%s.pem", id.mac); /* 16 bytes */
        rc = path_in(o->out_dir, name, path, sizeof path, err);
        if (rc == 0)
            rc = issue_pair(ca, ca_key, id.mac, pv_fleet_model(id.family), "Provisor fleet",
                            id.serial, o->rsa, o->days, path, err);
        if (rc == 0)
            res->issued++;
    }
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    res->seconds = (double)(uv_hrtime() - t0) / 1e9;
    return rc;
}

int pv_fleet_cert_issue_one(const pv_fleet_cert_one *o, pv_error *err)
{
    X509 *ca = NULL;
    EVP_PKEY *ca_key = NULL;
    int rc = pv_pki_read_cert(o->ca_cert, &ca, err);
    if (rc == 0)
        rc = pv_pki_read_key(o->ca_key, &ca_key, err);
    if (rc == 0 && X509_check_private_key(ca, ca_key) != 1)
        rc = pv_error_set(err, PV_EINVAL, "%s does not belong to %s", o->ca_key, o->ca_cert);
    if (rc == 0)
        rc = issue_pair(ca, ca_key, o->mac, o->model, "Provisor demo manufacturer", o->serial,
                        false, o->days, o->out, err);
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    return rc;
}
