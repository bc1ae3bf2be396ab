/*
 * cmd_crypt.c — `provisor encrypt` and `provisor decrypt`: profiles and reports
 * in the OpenSSL `enc` format (spec 4.1, interchangeable with `openssl enc
 * -aes-256-cbc -k K`) or RFC 8188 aes128gcm (spec 4.3).
 *
 * Both read IN whole ("-" = standard input) and write OUT atomically ("-" =
 * standard output) only once everything succeeded, so a wrong key or a
 * truncated file never leaves a partial output behind.
 */
#include "cli/cli.h"

#include "core/rfc8188.h"
#include "core/sniff.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_FILE_MAX ((size_t)64 << 10)

typedef struct crypt_args {
    bool encrypt;
    const char *key;
    const char *key_file;
    pv_md md;
    bool md_given;
    bool rfc8188;
    uint32_t rs;
    bool rs_given;
    bool gzip;    /* encrypt: gzip first; decrypt: inflate gzip plaintext */
    bool verbose; /* decrypt: say what was found on stderr */
    const char *in;
    const char *out;
} crypt_args;

static void usage(FILE *f, bool encrypt)
{
    if (encrypt)
        fprintf(f,
                "usage: provisor encrypt (--key K | --key-file F) [--md md5|sha256]\n"
                "                        [--rfc8188 [--rs N]] [--gzip] IN OUT\n\n"
                "Encrypts IN into OUT ('-' = standard input/output), in the OpenSSL enc format\n"
                "(AES-256-CBC, \"Salted__\", as `openssl enc -aes-256-cbc -k K -md MD`) or, with\n"
                "--rfc8188, as an aes128gcm body (RFC 8188) whose IKM is K's bytes.\n\n"
                "  --key K        passphrase (or IKM with --rfc8188)\n"
                "  --key-file F   read the key from F (one trailing newline is dropped)\n"
                "  --md MD        key derivation digest: md5 (default) or sha256\n"
                "  --rfc8188      aes128gcm content coding instead of AES-256-CBC\n"
                "  --rs N         aes128gcm record size, 18 or more (default 4096)\n"
                "  --gzip         gzip IN before encrypting it (phones inflate after decrypting)\n"
                "  -h, --help     this help\n");
    else
        fprintf(f,
                "usage: provisor decrypt (--key K | --key-file F) [--md md5|sha256]\n"
                "                        [--rfc8188] [--gunzip] [--verbose] IN OUT\n\n"
                "Decrypts IN into OUT ('-' = standard input/output): an OpenSSL enc file\n"
                "(\"Salted__\", AES-256-CBC) or, with --rfc8188, an aes128gcm body (RFC 8188).\n"
                "Without --md, the md5 digest is tried first, then sha256.\n\n"
                "  --key K        passphrase (or IKM with --rfc8188)\n"
                "  --key-file F   read the key from F (one trailing newline is dropped)\n"
                "  --md MD        only this digest: md5 or sha256\n"
                "  --rfc8188      the input is aes128gcm\n"
                "  --gunzip       inflate the plaintext when it is gzip\n"
                "  -v, --verbose  print what was found (cipher, digest, gzip) to stderr\n"
                "  -h, --help     this help\n"
                "Exit status: 0 done, 1 wrong key or bad input (OUT is not written), 2 usage.\n");
}

static int usage_error(bool encrypt, const char *what)
{
    pv_cli_errorf("%s: %s; 'provisor %s --help' shows the usage", encrypt ? "encrypt" : "decrypt",
                  what, encrypt ? "encrypt" : "decrypt");
    return PV_EXIT_USAGE;
}

static int parse_rs(const char *s, uint32_t *rs)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < PV_RFC8188_MIN_RS ||
        v > UINT32_MAX)
        return -1;
    *rs = (uint32_t)v;
    return 0;
}

/* Returns -1 when done (help or usage printed; *rc set), 0 to go on. */
static int parse_args(int argc, char **argv, crypt_args *a, int *rc)
{
    enum { OPT_KEY_FILE = 256, OPT_RFC8188, OPT_RS, OPT_GZIP, OPT_GUNZIP };
    static const struct option longopts[] = {
        {"key", required_argument, NULL, 'k'},
        {"key-file", required_argument, NULL, OPT_KEY_FILE},
        {"md", required_argument, NULL, 'm'},
        {"rfc8188", no_argument, NULL, OPT_RFC8188},
        {"rs", required_argument, NULL, OPT_RS},
        {"gzip", no_argument, NULL, OPT_GZIP},
        {"gunzip", no_argument, NULL, OPT_GUNZIP},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *rc = PV_EXIT_USAGE;
    if (pv_cli_wants_help(argc, argv)) {
        usage(stdout, a->encrypt);
        *rc = PV_EXIT_OK;
        return -1;
    }
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "k:m:vh", longopts, NULL)) != -1) {
        pv_error err;
        switch (c) {
        case 'k':
            a->key = optarg;
            break;
        case OPT_KEY_FILE:
            a->key_file = optarg;
            break;
        case 'm':
            if (pv_md_parse(optarg, &a->md, &err) != 0)
                return usage_error(a->encrypt, err.msg), -1;
            a->md_given = true;
            break;
        case OPT_RFC8188:
            a->rfc8188 = true;
            break;
        case OPT_RS:
            if (!a->encrypt)
                return usage_error(false, "--rs is for encrypt (the record size is in the input)"),
                       -1;
            if (parse_rs(optarg, &a->rs) != 0)
                return usage_error(true, "--rs needs a record size from 18 to 4294967295"), -1;
            a->rs_given = true;
            break;
        case OPT_GZIP:
        case OPT_GUNZIP:
            if ((c == OPT_GZIP) != a->encrypt)
                return usage_error(a->encrypt, a->encrypt ? "--gunzip is for decrypt"
                                                          : "--gzip is for encrypt"),
                       -1;
            a->gzip = true;
            break;
        case 'v':
            a->verbose = true;
            break;
        default:
            return usage_error(a->encrypt, "unknown option or missing argument"), -1;
        }
    }
    if (argc - optind != 2)
        return usage_error(a->encrypt, "expected two arguments, IN and OUT"), -1;
    a->in = argv[optind];
    a->out = argv[optind + 1];
    if ((a->key == NULL) == (a->key_file == NULL))
        return usage_error(a->encrypt, "give exactly one of --key and --key-file"), -1;
    if (a->rfc8188 && a->md_given)
        return usage_error(a->encrypt, "--md applies to AES-256-CBC, not to --rfc8188"), -1;
    if (a->rs_given && !a->rfc8188)
        return usage_error(a->encrypt, "--rs applies to --rfc8188 only"), -1;
    if (a->key != NULL && a->key[0] == '\0')
        return usage_error(a->encrypt, "the key is empty"), -1;
    return 0;
}

/* The key's bytes: from --key, or the first line of --key-file. */
static int load_key(const crypt_args *a, pv_buf *key, pv_error *err)
{
    if (a->key != NULL) {
        pv_buf_append_str(key, a->key);
        return 0;
    }
    int rc = pv_cli_read_file(a->key_file, KEY_FILE_MAX, key, err);
    if (rc != 0)
        return rc;
    if (key->len > 0 && key->data[key->len - 1] == '\n')
        key->len--;
    if (key->len > 0 && key->data[key->len - 1] == '\r')
        key->len--;
    if (key->data != NULL)
        key->data[key->len] = '\0';
    if (key->len == 0)
        return pv_error_set(err, PV_EINVAL, "%s: the key file is empty", a->key_file);
    return 0;
}

static int do_encrypt(const crypt_args *a, pv_slice key, pv_slice in, pv_buf *out, pv_error *err)
{
    pv_encode_opts opts = {
        .md = a->md_given ? a->md : PV_MD_MD5, /* DESIGN 7 */
        .gzip = a->gzip,
        .rs = a->rs_given ? a->rs : PV_RFC8188_DEFAULT_RS,
    };
    return a->rfc8188 ? pv_profile_encode(in, NULL, &key, &opts, out, NULL, err)
                      : pv_profile_encode(in, &key, NULL, &opts, out, NULL, err);
}

static int do_decrypt(const crypt_args *a, pv_slice key, pv_slice in, pv_buf *out, pv_error *err)
{
    pv_decode_opts opts;
    pv_decode_opts_init(&opts);
    opts.max_output = PV_CLI_MAX_FILE;
    opts.md = a->md_given ? a->md : PV_MD_MD5; /* DESIGN 7: md5, then sha256 */
    opts.md_only = a->md_given;
    opts.keep_gzip = !a->gzip;
    pv_decode_info info;
    int rc = a->rfc8188 ? pv_profile_decode(in, NULL, &key, "aes128gcm", &opts, out, &info, err)
                        : pv_profile_decode(in, &key, NULL, NULL, &opts, out, &info, err);
    if (rc == 0 && a->verbose) {
        fprintf(stderr, "provisor: decrypt: %s", pv_encryption_name(info.encryption));
        if (info.encryption == PV_ENCRYPTION_SALTED)
            fprintf(stderr, ", digest %s", pv_md_name(info.md));
        if (info.encryption == PV_ENCRYPTION_RFC8188)
            fprintf(stderr, ", record size %u", info.rs);
        fprintf(stderr, "%s, %zu bytes of %s\n",
                info.gzipped ? (a->gzip ? ", gunzipped" : ", gzip data") : "", out->len,
                pv_format_name(info.inner));
    }
    return rc;
}

static int run(int argc, char **argv, bool encrypt)
{
    crypt_args a = {.encrypt = encrypt};
    int exit_code;
    if (parse_args(argc, argv, &a, &exit_code) != 0)
        return exit_code;
    pv_buf key = {0}, in = {0}, out = {0};
    pv_error err = {{0}};
    const char *cmd = encrypt ? "encrypt" : "decrypt";
    const char *data_name = NULL; /* set when the error is about the input's content */
    int rc = load_key(&a, &key, &err);
    if (rc == 0)
        rc = pv_cli_read_file(a.in, PV_CLI_MAX_FILE, &in, &err);
    if (rc == 0) {
        rc = encrypt ? do_encrypt(&a, pv_buf_slice(&key), pv_buf_slice(&in), &out, &err)
                     : do_decrypt(&a, pv_buf_slice(&key), pv_buf_slice(&in), &out, &err);
        if (rc != 0)
            data_name = strcmp(a.in, "-") == 0 ? "standard input" : a.in;
    }
    if (rc == 0) /* only now: a failure above leaves no output file (cli.h) */
        rc = pv_cli_write_file(a.out, out.data != NULL ? out.data : "", out.len, &err);
    if (rc != 0 && data_name != NULL)
        pv_cli_errorf("%s: %s: %s", cmd, data_name, err.msg);
    else if (rc != 0)
        pv_cli_errorf("%s: %s", cmd, err.msg);
    if (key.data != NULL)
        explicit_bzero(key.data, key.cap);
    pv_buf_free(&key);
    pv_buf_free(&in);
    pv_buf_free(&out);
    return rc == 0 ? PV_EXIT_OK : PV_EXIT_FAILURE;
}

int pv_cmd_encrypt(int argc, char **argv)
{
    return run(argc, argv, true);
}

int pv_cmd_decrypt(int argc, char **argv)
{
    return run(argc, argv, false);
}
