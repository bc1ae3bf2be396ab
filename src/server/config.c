/*
 * config.c — provisor.conf and flags from one table: the keys, their values and the layers
 * (defaults, file, flags). config_doc.c writes the table out for people. See config.h.
 */
#include "server/config.h"

#include "core/alloc.h"
#include "os/fileio.h"
#include "server/datadir.h"
#include "server/reports.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_CONFIG_FILE ((size_t)1 << 20)
#define U32 0xffffffffull

/* The C type each kind of key is stored as. pv_config_set() writes through the row's offset,
 * so ROW refuses, at compile time, a field whose type is not its kind's: the size of an array
 * of -1 elements does not compile. */
#define PV_CONFIG_CTYPE_STRING char *
#define PV_CONFIG_CTYPE_LISTEN char *
#define PV_CONFIG_CTYPE_UINT unsigned
#define PV_CONFIG_CTYPE_SIZE size_t
#define PV_CONFIG_CTYPE_BOOL bool
#define PV_CONFIG_CTYPE_CLIENT_CERT pv_client_cert_mode
#define PV_CONFIG_CTYPE_TLS_VERSION int
#define PV_CONFIG_CTYPE_LOG_LEVEL pv_log_level
#define PV_CONFIG_CTYPE_LOG_FORMAT pv_log_format
#define PV_CONFIG_CTYPE_SECLEVEL int
#define ROW_TYPE_CHECK(t, field)                                                                   \
    (0 * sizeof(char[_Generic(((pv_config *)0)->field, PV_CONFIG_CTYPE_##t: 1, default: -1)]))

#define ROW(sec, k, fl, t, field, lo, hi, meta, text)                                              \
    {                                                                                              \
        sec, k, fl, PV_CONFIG_##t, offsetof(pv_config, field) + ROW_TYPE_CHECK(t, field), lo, hi,   \
            meta, text                                                                             \
    }

static const pv_config_key keys[] = {
    ROW("server", "data_dir", "data-dir", STRING, data_dir, 0, 0, "DIR",
        "data directory, created on first run ($PROVISOR_DATA, else ./provisor-data)"),
    ROW("server", "db", "db", STRING, db, 0, 0, "URL",
        "the store: SQLite path, sqlite:PATH or postgres://... (default <data>/provisor.db)"),
    ROW("server", "root", "root", STRING, root, 0, 0, "DIR",
        "directory tree served over TFTP, HTTP and HTTPS (default <data>/profiles)"),
    ROW("server", "upload_dir", "upload-dir", STRING, upload_dir, 0, 0, "DIR",
        "where uploads (TFTP WRQ, HTTP PUT/POST) are written (default <data>/uploads)"),
    ROW("server", "upload_max_bytes", NULL, SIZE, uploads.max_bytes, 0, 1ull << 40, "SIZE",
        "all stored uploads together (0 = no limit)"),
    ROW("server", "upload_max_files", NULL, UINT, uploads.max_files, 0, 100000000, "N",
        "stored uploads (0 = no limit)"),
    ROW("server", "upload_max_files_per_source", NULL, UINT, uploads.max_files_per_source, 0,
        100000000, "N", "stored uploads of one peer address (0 = no limit)"),
    ROW("server", "workers", "workers", UINT, workers, 0, PV_CONFIG_MAX_WORKERS, "N",
        "loop threads, each serving every listener (0 = one per core)"),
    ROW("server", "log_level", "log-level", LOG_LEVEL, log_level, 0, 0, "LEVEL",
        "least severe log lines written to standard error"),
    ROW("server", "log_format", "log-format", LOG_FORMAT, log_format, 0, 0, "FORMAT",
        "log lines as logfmt (key=value) or json (one object per line)"),
    ROW("server", "user", "user", STRING, user, 0, 0, "NAME",
        "account to become after binding a port below 1024 as root"),
    ROW("server", "drain_timeout_ms", "drain-timeout-ms", UINT, drain_timeout_ms, 0, 3600000, "MS",
        "on SIGTERM, how long in-flight requests may still finish"),

    ROW("tftp", "listen", "tftp", LISTEN, tftp_listen, 0, 0, "ADDR:PORT", "TFTP listener"),
    ROW("tftp", "max_transfers", NULL, UINT, tftp.max_transfers, 1, 1000000, "N",
        "concurrent transfers per loop thread"),
    ROW("tftp", "max_per_source", NULL, UINT, tftp.max_per_source, 1, 1000000, "N",
        "concurrent transfers per peer address (16 times that for requests naming a device)"),
    ROW("tftp", "requests_per_second", NULL, UINT, tftp.requests_per_second, 1, 1000000, "N",
        "requests per second per peer address (reflection guard)"),
    ROW("tftp", "max_blksize", NULL, UINT, tftp.max_blksize, 8, 65464, "N",
        "largest RFC 2348 block size granted"),
    ROW("tftp", "max_windowsize", NULL, UINT, tftp.max_windowsize, 1, 65535, "N",
        "largest RFC 7440 window granted"),
    ROW("tftp", "timeout_ms", NULL, UINT, tftp.timeout_ms, 10, 255000, "MS",
        "initial retransmission timeout"),
    ROW("tftp", "max_retries", NULL, UINT, tftp.max_retries, 1, 100, "N",
        "retransmissions of one block before a transfer is abandoned"),
    ROW("tftp", "max_half_open", NULL, UINT, tftp.max_half_open, 1, 1000000, "N",
        "transfers whose peer has not answered yet, per loop thread (docs/security.md)"),
    ROW("tftp", "half_open_retries", NULL, UINT, tftp.half_open_retries, 0, 100, "N",
        "resends of a transfer's first packet before its peer has answered"),
    ROW("tftp", "max_upload_bytes", NULL, SIZE, tftp.max_upload_bytes, 0, 1ull << 32, "SIZE",
        "largest TFTP write request"),

    ROW("http", "listen", "http", LISTEN, http_listen, 0, 0, "ADDR:PORT", "HTTP listener"),

    ROW("https", "listen", "https", LISTEN, https_listen, 0, 0, "ADDR:PORT", "HTTPS listener"),
    ROW("https", "cert", "tls-cert", STRING, tls_cert, 0, 0, "FILE",
        "server certificate chain, PEM, leaf first (default <data>/tls/server.pem)"),
    ROW("https", "key", "tls-key", STRING, tls_key, 0, 0, "FILE",
        "server private key, PEM (default <data>/tls/server.key)"),
    ROW("https", "client_ca", "client-ca", STRING, client_ca, 0, 0, "FILE",
        "manufacturer CA bundle for phone certificates (default <data>/manufacturer/bundle.pem)"),
    ROW("https", "client_cert", "client-cert", CLIENT_CERT, client_cert, 0, 0, "MODE",
        "ask phones for a certificate: none, optional, required"),
    ROW("https", "min_version", "tls-min-version", TLS_VERSION, tls_min_version, 0, 0, "VER",
        "lowest TLS version accepted"),
    ROW("https", "ciphers", "tls-ciphers", STRING, ciphers, 0, 0, "LIST",
        "TLS 1.2 cipher list (OpenSSL syntax; empty = OpenSSL's default)"),
    ROW("https", "ciphersuites", "tls-ciphersuites", STRING, ciphersuites, 0, 0, "LIST",
        "TLS 1.3 cipher suites (empty = OpenSSL's default)"),
    ROW("https", "security_level", "tls-security-level", SECLEVEL, security_level, 0, 5, "N",
        "OpenSSL security level; 0 or 1 for a legacy listener serving old phones"),
    ROW("https", "session_tickets", "tls-session-tickets", BOOL, session_tickets, 0, 0, "BOOL",
        "stateless TLS session resumption"),

    ROW("https", "session_cache", "tls-session-cache", UINT, session_cache, 0, 10000000, "N",
        "TLS sessions kept for resumption without tickets (about 1 KB each); 0 = none"),
    ROW("https", "handshake_rate", "tls-handshake-rate", UINT, handshake_rate, 0, 1000000, "N",
        "TLS handshakes started per second across the server; beyond, they queue up to "
        "[provisioning] queue_deadline_ms, then a TLS alert (0 = no limit)"),
    ROW("admin", "listen", "admin", LISTEN, admin_listen, 0, 0, "ADDR:PORT",
        "admin listener (/metrics, /healthz); keep it on loopback"),
    ROW("admin", "max_body_bytes", NULL, SIZE, admin_max_body_bytes, 65536, 1ull << 30, "SIZE",
        "largest request body on the admin listener: an API call, a CSV import's file, a "
        "firmware image uploaded with the console; 413 beyond"),

    ROW("portal", "listen", "portal", LISTEN, portal_listen, 0, 0, "ADDR:PORT",
        "customer portal, HTTPS with the server certificate (docs/portal.md)"),
    ROW("portal", "session_idle", NULL, UINT, portal_session_idle, 60, 86400 * 30, "SECONDS",
        "a portal session unused this long ends"),
    ROW("portal", "session_lifetime", NULL, UINT, portal_session_lifetime, 60, 86400 * 365,
        "SECONDS", "a portal session ends this long after its login in any case"),
    ROW("portal", "lockout_failures", NULL, UINT, portal_lockout_failures, 1, 1000, "N",
        "consecutive wrong passwords that lock a login"),
    ROW("portal", "lockout_seconds", NULL, UINT, portal_lockout_seconds, 1, 86400 * 30, "SECONDS",
        "how long a locked login stays locked"),
    ROW("portal", "logins_per_minute", NULL, UINT, portal_logins_per_minute, 1, 1000000, "N",
        "login attempts one source address may make per minute"),
    ROW("portal", "language", NULL, STRING, portal_language, 0, 0, "LANG",
        "language when the browser asks for none we have: en or ja"),

    ROW("limits", "max_header_bytes", NULL, SIZE, http.max_header_bytes, 512, 1u << 20, "SIZE",
        "request line and headers; 431 beyond"),
    ROW("limits", "max_body_bytes", NULL, SIZE, http.max_body_bytes, 0, 1ull << 32, "SIZE",
        "request body; 413 beyond"),
    ROW("limits", "request_timeout_ms", NULL, UINT, http.request_timeout_ms, 100, U32, "MS",
        "a whole request must arrive within this; 408 beyond"),
    ROW("limits", "idle_timeout_ms", NULL, UINT, http.idle_timeout_ms, 100, U32, "MS",
        "keep-alive connections idle longer are closed"),
    ROW("limits", "handshake_timeout_ms", NULL, UINT, http.handshake_timeout_ms, 100, U32, "MS",
        "a TLS handshake's peer must send its next flight within this (from admission, then "
        "from each flight the server answered)"),
    ROW("limits", "handshake_max_ms", NULL, UINT, http.handshake_max_ms, 100, U32, "MS",
        "a busy server that has not yet read what the peer sent gives its handshake more time, "
        "up to this from admission"),
    ROW("limits", "max_connections", NULL, UINT, http.max_connections, 1, 10000000, "N",
        "open connections per loop thread"),
    ROW("limits", "max_per_source", NULL, UINT, http.max_per_source, 1, 10000000, "N",
        "open connections per peer address per loop thread"),
    ROW("limits", "max_requests_per_connection", NULL, UINT, http.max_requests_per_connection, 1,
        U32, "N", "then the connection is closed after its answer"),

    ROW("provisioning", "enabled", "provisioning", BOOL, provisioning, 0, 0, "BOOL",
        "serve profiles from the store (no: static files only)"),
    ROW("provisioning", "public_host", NULL, STRING, public_host, 0, 0, "HOST",
        "host name put in generated rules (default: the address the phone asked)"),
    ROW("provisioning", "binding_prefix", NULL, STRING, binding_prefix, 0, 0, "NAME",
        "retail binding path /NAME/CODE"),
    ROW("provisioning", "bootstrap_url", NULL, STRING, bootstrap_url, 0, 0, "URL",
        "Profile_Rule given to factory-default phones (default https://HOST:PORT/$MA.xml)"),
    ROW("provisioning", "legacy_bootstrap_url", NULL, STRING, legacy_bootstrap_url, 0, 0, "URL",
        "Profile_Rule given to factory-default SPA phones, which cannot verify our CA (default: "
        "http://HOST:PORT/$MA.xml with legacy_plain_key, else bootstrap_url)"),
    ROW("provisioning", "legacy_plain_key", NULL, BOOL, legacy_plain_key, 0, 0, "BOOL",
        "a pre-imported, assigned SPA phone gets its first key at /$MA.xml over plain HTTP or "
        "TFTP, once (docs/security.md)"),
    ROW("provisioning", "permanent_scheme", NULL, STRING, permanent_scheme, 0, 0, "SCHEME",
        "scheme of the encrypted profile URL: http, https, tftp, or auto (the first of "
        "http, https, tftp this node listens on)"),
    ROW("provisioning", "report_prefix", NULL, STRING, report_prefix, 0, 0, "NAME",
        "report uploads go to /NAME/$MA.xml"),
    ROW("provisioning", "encryption", NULL, STRING, encryption, 0, 0, "CIPHER",
        "profile encryption: aes-256-cbc (--key $SA) or aes128gcm (RFC 8188)"),
    ROW("provisioning", "gzip", NULL, BOOL, gzip, 0, 0, "BOOL", "gzip profiles before encrypting"),
    ROW("provisioning", "sha256_models", NULL, STRING, sha256_models, 0, 0, "LIST",
        "models whose key digest is sha256 (* = every multiplatform model)"),
    ROW("provisioning", "md5_models", NULL, STRING, md5_models, 0, 0, "LIST",
        "models whose key digest is md5 (overrides sha256_models)"),
    ROW("provisioning", "known_models", NULL, STRING, known_models, 0, 0, "LIST",
        "models a bulk import accepts besides the built-in table (docs/api.md)"),
    ROW("provisioning", "text_models", NULL, STRING, text_models, 0, 0, "LIST",
        "refused: phones never read the plain-text source profile (spec 3.3)"),
    ROW("provisioning", "retry_delay", NULL, STRING, retry_delay, 0, 0, "SCHEDULE",
        "default Resync_Error_Retry_Delay (short and jittered against storms)"),
    ROW("provisioning", "random_delay_s", NULL, UINT, random_delay_s, 0, 1310700, "SECONDS",
        "default spread of the first resync after boot (Resync_Random_Delay)"),
    ROW("provisioning", "rotation_days", NULL, UINT, rotation_days, 0, 3650, "DAYS",
        "rotate device keys and directories this often (0 = never)"),
    ROW("provisioning", "queue_deadline_ms", NULL, UINT, queue_deadline_ms, 0, 600000, "MS",
        "how long a firmware download waits for its wave before 503"),
    ROW("provisioning", "firmware_wave", NULL, UINT, firmware_wave, 0, 1000000, "N",
        "firmware downloads started per second across the server (0 = no limit)"),
    ROW("provisioning", "render_rate", NULL, UINT, render_rate, 0, 1000000, "N",
        "profiles rendered per second across the server; beyond, requests queue (0 = no limit)"),
    ROW("provisioning", "admission_queue", NULL, UINT, admission_queue, 1, 1000000, "N",
        "requests waiting for admission per loop and class; beyond, 503 with Retry-After"),
    ROW("provisioning", "cache_entries", NULL, UINT, cache_entries, 1, 10000000, "N",
        "devices whose finished profiles each loop keeps (also bound by 32 MB of bodies)"),
    ROW("provisioning", "cache_check_ms", NULL, UINT, cache_check_ms, 1, 60000, "MS",
        "how long a change made by another process or node may go unseen by a loop's cache"),
    ROW("provisioning", "seen_interval_s", NULL, UINT, seen_interval_s, 0, 86400, "S",
        "an unchanged profile served again within this of its record writes no last-seen and no "
        "audit row (0 = every answer)"),
    ROW("provisioning", "reports_per_device", NULL, UINT, reports_per_device, 0, 1000000, "N",
        "reports kept per device, older ones deleted (0 = the default, 20)"),
    ROW("provisioning", "report_max_bytes", NULL, SIZE, report_max_bytes, 1024, 4u << 20, "SIZE",
        "largest report upload, before and after decryption; 413 beyond"),
    ROW("provisioning", "reports_per_hour", NULL, UINT, reports_per_hour, 1, 1000000, "N",
        "reports accepted per device per hour; 429 beyond"),
    ROW("provisioning", "rollout_interval_ms", NULL, UINT, rollout_interval_ms, 100, 3600000, "MS",
        "how often firmware rollouts are evaluated (admissions, health, halts)"),

    ROW("sip", "listen", "sip", STRING, sip_listen, 0, 0, "ADDR:PORT",
        "UDP address NOTIFYs are sent from (port 0: any); empty: no device actions"),
    ROW("sip", "outbound_proxy", NULL, STRING, sip_outbound_proxy, 0, 0, "IP:PORT",
        "the provider's SIP proxy: NOTIFY goes to the line's AOR through it (empty: to phones)"),
    ROW("sip", "tcp", NULL, BOOL, sip_tcp, 0, 0, "BOOL",
        "NOTIFY over TCP to the proxy or the phone (one connection per address); TLS: not yet"),
    ROW("sip", "timeout_ms", NULL, UINT, sip_timeout_ms, 500, 64000, "MS",
        "one NOTIFY attempt waits this long for a final answer"),
    ROW("sip", "retries", NULL, UINT, sip_retries, 0, 10, "N",
        "attempts after a timeout, 2 s backoff doubling"),
    ROW("sip", "rate", NULL, UINT, sip_rate, 1, 100000, "N",
        "NOTIFYs started per second by a bulk action (keep resyncs within admission limits)"),
    ROW("sip", "notify_after_binding", NULL, BOOL, sip_notify_after_binding, 0, 0, "BOOL",
        "a check-sync NOTIFY to each phone that completed its binding, once it registered"),

    ROW("store", "audit_retention_days", NULL, UINT, audit_retention_days, 0, 36500, "DAYS",
        "audit rows older than this are deleted (0 = kept by age)"),
    ROW("store", "audit_max_rows", NULL, UINT, audit_max_rows, 0, U32, "N",
        "at most this many audit rows are kept, the oldest deleted first (0 = no bound)"),
};
#define KEY_COUNT (sizeof keys / sizeof keys[0])

/* Flags of rows with flag == NULL: "<section>-<key>" with '_' → '-'. */
static char generated_flags[KEY_COUNT][48];

static const char *flag_of(const pv_config_key *k)
{
    if (k->flag != NULL)
        return k->flag;
    char *out = generated_flags[k - keys];
    if (out[0] == '\0') {
        /* Written once, before any thread starts (the CLI asks first). */
        int n = snprintf(out, sizeof generated_flags[0], "%s-%s", k->section, k->key);
        if (n < 0 || (size_t)n >= sizeof generated_flags[0])
            abort(); /* the table above is too long a name: a programming error */
        for (char *p = out; *p; p++)
            if (*p == '_')
                *p = '-';
    }
    return out;
}

const char *pv_config_flag(const pv_config_key *key)
{
    return flag_of(key);
}

const pv_config_key *pv_config_keys(size_t *count)
{
    for (size_t i = 0; i < KEY_COUNT; i++)
        (void)flag_of(&keys[i]);
    *count = KEY_COUNT;
    return keys;
}

const pv_config_key *pv_config_find(const char *section, const char *key)
{
    for (size_t i = 0; i < KEY_COUNT; i++)
        if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].key, key) == 0)
            return &keys[i];
    return NULL;
}

const pv_config_key *pv_config_find_flag(const char *flag)
{
    for (size_t i = 0; i < KEY_COUNT; i++)
        if (strcmp(flag_of(&keys[i]), flag) == 0)
            return &keys[i];
    return NULL;
}

const char *pv_config_allowed(const pv_config_key *k, char *out, size_t size)
{
    switch (k->type) {
    case PV_CONFIG_STRING:
        snprintf(out, size, "text that neither starts with ; or # nor has a ; after a space");
        break;
    case PV_CONFIG_LISTEN:
        snprintf(out, size, "HOST:PORT (IPv4, or [IPv6]:PORT), port 1..65535, or off");
        break;
    case PV_CONFIG_UINT:
        snprintf(out, size, "a whole number from %llu to %llu", k->min, k->max);
        break;
    case PV_CONFIG_SIZE:
        snprintf(out, size, "a size in bytes from %llu to %llu, with an optional K, M or G suffix",
                 k->min, k->max);
        break;
    case PV_CONFIG_BOOL:
        snprintf(out, size, "yes or no (also true/false, on/off, 1/0)");
        break;
    case PV_CONFIG_CLIENT_CERT:
        snprintf(out, size, "none, optional or required");
        break;
    case PV_CONFIG_TLS_VERSION:
        snprintf(out, size, "1.2 or 1.3");
        break;
    case PV_CONFIG_LOG_LEVEL:
        snprintf(out, size, "debug, info, warn or error");
        break;
    case PV_CONFIG_LOG_FORMAT:
        snprintf(out, size, "logfmt or json");
        break;
    case PV_CONFIG_SECLEVEL:
        snprintf(out, size, "default, or a level from 0 to 5");
        break;
    }
    return out; /* truncation only shortens a hint; callers pass 128 bytes */
}

/* ---- values ---- */

static int parse_number(const char *text, unsigned long long *out, bool with_suffix)
{
    if (text[0] < '0' || text[0] > '9')
        return -1;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0)
        return -1;
    unsigned long long mult = 1;
    if (with_suffix && *end != '\0') {
        switch (*end) {
        case 'k':
        case 'K':
            mult = 1ull << 10;
            break;
        case 'm':
        case 'M':
            mult = 1ull << 20;
            break;
        case 'g':
        case 'G':
            mult = 1ull << 30;
            break;
        default:
            return -1;
        }
        end++;
        if (*end == 'i' || *end == 'B') /* KiB, KB */
            end += (*end == 'i' && end[1] == 'B') ? 2 : 1;
    }
    if (*end != '\0' || v > ULLONG_MAX / mult)
        return -1;
    *out = v * mult;
    return 0;
}

static int parse_bool(const char *v)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0)
            return 1;
        if (strcasecmp(v, no[i]) == 0)
            return 0;
    }
    return -1;
}

/* host:port or [v6]:port; the host must be a numeric address (we bind it). */
static bool valid_listen(const char *v)
{
    const char *colon = strrchr(v, ':');
    if (colon == NULL || colon == v)
        return false;
    unsigned long long port;
    if (parse_number(colon + 1, &port, false) != 0 || port < 1 || port > 65535)
        return false;
    size_t host_len = (size_t)(colon - v);
    char host[64];
    if (host_len >= sizeof host)
        return false;
    memcpy(host, v, host_len);
    host[host_len] = '\0';
    unsigned char addr[16];
    if (host[0] == '[') {
        if (host_len < 3 || host[host_len - 1] != ']')
            return false;
        host[host_len - 1] = '\0';
        return inet_pton(AF_INET6, host + 1, addr) == 1;
    }
    return inet_pton(AF_INET, host, addr) == 1;
}

static void set_string(char **slot, const char *value)
{
    free(*slot);
    *slot = value[0] != '\0' ? pv_strdup(value) : NULL;
}

int pv_config_set(pv_config *cfg, const pv_config_key *k, const char *value, pv_error *err)
{
    void *field = (char *)cfg + k->offset;
    unsigned long long n = 0;
    int v;
    switch (k->type) {
    case PV_CONFIG_STRING:
        /* What inih would read as a comment cannot be written back to a file
         * (--print-config); refuse it rather than lose it on the next load. */
        if (value[0] == ';' || value[0] == '#' || strstr(value, " ;") || strstr(value, "\t;"))
            break;
        set_string(field, value);
        return 0;
    case PV_CONFIG_LISTEN:
        if (strcmp(value, "off") == 0) {
            set_string(field, "");
            return 0;
        }
        if (!valid_listen(value))
            break;
        set_string(field, value);
        return 0;
    case PV_CONFIG_UINT:
    case PV_CONFIG_SIZE:
        if (parse_number(value, &n, k->type == PV_CONFIG_SIZE) != 0 || n < k->min || n > k->max)
            break;
        if (k->type == PV_CONFIG_UINT)
            *(unsigned *)field = (unsigned)n;
        else
            *(size_t *)field = (size_t)n;
        return 0;
    case PV_CONFIG_BOOL:
        if ((v = parse_bool(value)) < 0)
            break;
        *(bool *)field = v == 1;
        return 0;
    case PV_CONFIG_CLIENT_CERT:
        if (strcmp(value, "none") == 0)
            *(pv_client_cert_mode *)field = PV_CLIENT_CERT_NONE;
        else if (strcmp(value, "optional") == 0)
            *(pv_client_cert_mode *)field = PV_CLIENT_CERT_OPTIONAL;
        else if (strcmp(value, "required") == 0)
            *(pv_client_cert_mode *)field = PV_CLIENT_CERT_REQUIRED;
        else
            break;
        return 0;
    case PV_CONFIG_TLS_VERSION:
        if (strcmp(value, "1.2") == 0)
            *(int *)field = TLS1_2_VERSION;
        else if (strcmp(value, "1.3") == 0)
            *(int *)field = TLS1_3_VERSION;
        else
            break;
        return 0;
    case PV_CONFIG_LOG_LEVEL:
        if ((v = pv_log_level_parse(value)) < 0)
            break;
        *(pv_log_level *)field = (pv_log_level)v;
        return 0;
    case PV_CONFIG_LOG_FORMAT:
        if ((v = pv_log_format_parse(value)) < 0)
            break;
        *(pv_log_format *)field = (pv_log_format)v;
        return 0;
    case PV_CONFIG_SECLEVEL:
        if (strcmp(value, "default") == 0) {
            *(int *)field = -1;
            return 0;
        }
        if (parse_number(value, &n, false) != 0 || n > k->max)
            break;
        *(int *)field = (int)n;
        return 0;
    }
    char allowed[128];
    return pv_error_set(err, PV_EINVAL, "[%s] %s (--%s): '%.60s' is not allowed; expected %s",
                        k->section, k->key, flag_of(k), value, pv_config_allowed(k, allowed, 128));
}

/* ---- defaults, layers ---- */

void pv_config_init(pv_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    const char *env = getenv("PROVISOR_DATA");
    cfg->data_dir = pv_strdup(env != NULL && env[0] != '\0' ? env : PV_CONFIG_DEFAULT_DATA_DIR);
    cfg->user = pv_strdup("nobody");
    cfg->log_level = PV_LOG_INFO;
    cfg->drain_timeout_ms = 10000;
    cfg->tftp_listen = pv_strdup(PV_CONFIG_DEFAULT_TFTP);
    cfg->http_listen = pv_strdup(PV_CONFIG_DEFAULT_HTTP);
    cfg->https_listen = pv_strdup(PV_CONFIG_DEFAULT_HTTPS);
    cfg->admin_listen = pv_strdup(PV_CONFIG_DEFAULT_ADMIN);
    cfg->admin_max_body_bytes = 16u << 20;
    cfg->portal_listen = pv_strdup(PV_CONFIG_DEFAULT_PORTAL);
    cfg->portal_session_idle = 1800;
    cfg->portal_session_lifetime = 43200;
    cfg->portal_lockout_failures = 5;
    cfg->portal_lockout_seconds = 900;
    cfg->portal_logins_per_minute = 20;
    cfg->portal_language = pv_strdup("en");
    cfg->sip_listen = pv_strdup("127.0.0.1:0");
    cfg->sip_timeout_ms = 8000;
    cfg->sip_retries = 2;
    cfg->sip_rate = 100;
    cfg->sip_notify_after_binding = true;
    cfg->client_cert = PV_CLIENT_CERT_OPTIONAL;
    cfg->tls_min_version = TLS1_2_VERSION;
    cfg->security_level = -1;
    cfg->session_tickets = true;
    cfg->session_cache = PV_TLS_SESSION_CACHE_DEFAULT;
    cfg->provisioning = true;
    cfg->binding_prefix = pv_strdup("init");
    cfg->permanent_scheme = pv_strdup("auto");
    cfg->report_prefix = pv_strdup("report");
    cfg->encryption = pv_strdup("aes-256-cbc");
    cfg->sha256_models = pv_strdup("*");
    cfg->retry_delay = pv_strdup("30+30,60+60,120+120,240+240,600+600");
    cfg->rotation_days = 30;
    cfg->random_delay_s = 120;
    cfg->queue_deadline_ms = 20000;
    cfg->firmware_wave = 50;
    cfg->admission_queue = 1000;
    cfg->cache_entries = 4096;
    cfg->cache_check_ms = 100;
    cfg->seen_interval_s = 60;
    cfg->report_max_bytes = PV_REPORT_MAX_DEFAULT;
    cfg->reports_per_hour = PV_REPORT_PER_HOUR_DEFAULT;
    cfg->rollout_interval_ms = 5000;
    cfg->audit_retention_days = 365;
    cfg->audit_max_rows = 10000000;
    pv_tftp_limits_default(&cfg->tftp);
    pv_http_limits_default(&cfg->http);
    cfg->uploads = pv_upload_limits_default();
}

void pv_config_free(pv_config *cfg)
{
    for (size_t i = 0; i < KEY_COUNT; i++) {
        if (keys[i].type == PV_CONFIG_STRING || keys[i].type == PV_CONFIG_LISTEN) {
            char **slot = (char **)((char *)cfg + keys[i].offset);
            free(*slot);
            *slot = NULL;
        }
    }
}

/* An fgets for inih over memory that knows the line number, which the
 * Debian build of inih does not pass to the handler. */
typedef struct ini_state {
    pv_config *cfg;
    const char *name;
    const char *pos;
    unsigned line;            /* of the line last handed to inih */
    unsigned section_line;    /* of the last [section] header handed to it */
    unsigned seen[KEY_COUNT]; /* line where each key was set, 0 = not yet */
    int rc;
    pv_error *err;
} ini_state;

static char *ini_read_line(char *str, int num, void *stream)
{
    ini_state *st = stream;
    if (*st->pos == '\0')
        return NULL;
    const char *nl = strchr(st->pos, '\n');
    size_t content = nl ? (size_t)(nl - st->pos) : strlen(st->pos);
    size_t len = content + (nl ? 1 : 0);
    st->line++;
    /* inih needs room for "\r\n\0"; the limit is on the content alone, so a
     * last line without a newline is held to the same length as the others. */
    if (content + 3 > (size_t)num) {
        if (st->rc == 0)
            st->rc = pv_error_set(st->err, PV_ETOOBIG, "%s:%u: line longer than %d characters",
                                  st->name, st->line, num - 3);
        st->pos += len;
        str[0] = '\0'; /* hand inih an empty line and go on */
        return str;
    }
    memcpy(str, st->pos, len);
    str[len] = '\0';
    st->pos += len;
    /* an unknown section is reported on its header's line, not its first key's */
    if (str[strspn(str, " \t")] == '[')
        st->section_line = st->line;
    return str;
}

/* True when "[section]" is in list (a space-separated list of "[name]"). */
static bool section_listed(const char *list, const char *section)
{
    size_t n = strlen(section);
    for (const char *p = strchr(list, '['); p != NULL; p = strchr(p + 1, '['))
        if (strncmp(p + 1, section, n) == 0 && p[1 + n] == ']')
            return true;
    return false;
}

static int ini_on_value(void *user, const char *section, const char *name, const char *value)
{
    ini_state *st = user;
    if (st->rc != 0)
        return 1; /* the first error is the one reported */
    const pv_config_key *k = pv_config_find(section, name);
    if (k == NULL) {
        bool known_section = false;
        for (size_t i = 0; i < KEY_COUNT; i++)
            known_section |= strcmp(keys[i].section, section) == 0;
        if (!known_section) {
            /* every section of the key table, in its order: the list cannot go stale */
            pv_buf all = {0};
            for (size_t i = 0; i < KEY_COUNT; i++)
                if (!section_listed(all.data ? all.data : "", keys[i].section))
                    pv_buf_appendf(&all, "%s[%s]", all.len ? " " : "", keys[i].section);
            st->rc = pv_error_set(st->err, PV_EINVAL, "%s:%u: unknown section [%s]; sections are %s",
                                  st->name, st->section_line ? st->section_line : st->line,
                                  section, all.data ? all.data : "");
            pv_buf_free(&all);
        } else
            st->rc = pv_error_set(st->err, PV_EINVAL,
                                  "%s:%u: [%s] %s: unknown key; 'provisor serve --help' lists "
                                  "the keys",
                                  st->name, st->line, section, name);
        return 1;
    }
    size_t idx = (size_t)(k - keys);
    if (st->seen[idx] != 0) {
        st->rc = pv_error_set(st->err, PV_EINVAL, "%s:%u: [%s] %s: set again (first on line %u)",
                              st->name, st->line, section, name, st->seen[idx]);
        return 1;
    }
    st->seen[idx] = st->line;
    /* --print-config writes "name = value": a value read from "name=value" must still fit
     * inih's line when written back (INI_MAX_LINE less "\r\n\0"); found by fuzz_config. */
    if (strlen(name) + 3 + strlen(value) > INI_MAX_LINE - 3) {
        st->rc = pv_error_set(st->err, PV_ETOOBIG,
                              "%s:%u: [%s] %s: value too long (a line holds %d characters)",
                              st->name, st->line, section, name, INI_MAX_LINE - 3);
        return 1;
    }
    pv_error sub;
    if (pv_config_set(st->cfg, k, value, &sub) != 0)
        st->rc = pv_error_set(st->err, PV_EINVAL, "%s:%u: %s", st->name, st->line, sub.msg);
    return 1;
}

int pv_config_load_string(pv_config *cfg, const char *name, const char *text, pv_error *err)
{
    ini_state *st = pv_calloc(1, sizeof *st);
    st->cfg = cfg;
    st->name = name;
    st->pos = text;
    st->err = err;
    int line = ini_parse_stream(ini_read_line, st, ini_on_value, st);
    int rc = st->rc;
    if (rc == 0 && line > 0)
        rc = pv_error_set(err, PV_ESYNTAX, "%s:%d: not a [section] header nor a key = value line",
                          name, line);
    else if (rc == 0 && line < 0)
        rc = pv_error_set(err, PV_EIO, "%s: cannot be parsed (out of memory)", name);
    free(st);
    return rc;
}

int pv_config_load_file(pv_config *cfg, const char *path, pv_error *err)
{
    pv_buf text = {0};
    int rc = pv_file_read(path, MAX_CONFIG_FILE, &text, err);
    if (rc == 0 && memchr(text.data, '\0', text.len) != NULL)
        rc = pv_error_set(err, PV_EFORMAT, "%s: binary data (a NUL byte); expected an INI file",
                          path);
    if (rc == 0)
        rc = pv_config_load_string(cfg, path, text.data, err);
    pv_buf_free(&text);
    return rc;
}

static char *join(const char *dir, const char *rel)
{
    pv_buf b = {0};
    pv_buf_appendf(&b, "%s/%s", dir, rel);
    return pv_buf_take(&b, NULL);
}

int pv_config_finish(pv_config *cfg, pv_error *err)
{
    if (cfg->data_dir == NULL)
        return pv_error_set(err, PV_EINVAL, "[server] data_dir (--data-dir) must not be empty");
    /* A certificate and a key come together: half a pair from the
     * configuration and half from the data directory would never match. */
    if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL))
        return pv_error_set(err, PV_EINVAL,
                            "[https] cert (--tls-cert) and key (--tls-key) must be set together");
    struct {
        char **slot;
        const char *rel;
    } derived[] = {
        {&cfg->root, PV_DATADIR_PROFILES},          {&cfg->upload_dir, PV_DATADIR_UPLOADS},
        {&cfg->tls_cert, PV_DATADIR_SERVER_CERT},   {&cfg->tls_key, PV_DATADIR_SERVER_KEY},
        {&cfg->client_ca, PV_DATADIR_PHONE_BUNDLE},
    };
    for (size_t i = 0; i < sizeof derived / sizeof derived[0]; i++)
        if (*derived[i].slot == NULL)
            *derived[i].slot = join(cfg->data_dir, derived[i].rel);
    if (cfg->tftp_listen == NULL && cfg->http_listen == NULL && cfg->https_listen == NULL)
        return pv_error_set(err, PV_EINVAL,
                            "every listener is off; enable at least one of [tftp] [http] [https]");
    return 0;
}

int pv_config_load(pv_config *cfg, const pv_config_args *args, pv_error *err)
{
    pv_config_init(cfg);
    int rc = 0;
    if (args->config_file != NULL)
        rc = pv_config_load_file(cfg, args->config_file, err);
    for (size_t i = 0; rc == 0 && i < args->flag_count; i++) {
        pv_error sub;
        rc = pv_config_set(cfg, args->flags[i].key, args->flags[i].value, &sub);
        if (rc != 0)
            pv_error_set(err, rc, "--%s: %s", flag_of(args->flags[i].key), sub.msg);
    }
    if (rc == 0)
        rc = pv_config_finish(cfg, err);
    if (rc != 0)
        pv_config_free(cfg);
    return rc;
}

int pv_config_args_add(pv_config_args *args, const char *flag, const char *value, pv_error *err)
{
    const pv_config_key *k = pv_config_find_flag(flag);
    if (k == NULL)
        return pv_error_set(err, PV_EINVAL, "--%s: unknown option", flag);
    args->flags = pv_reallocarray(args->flags, args->flag_count + 1, sizeof args->flags[0]);
    args->flags[args->flag_count].key = k;
    args->flags[args->flag_count].value = pv_strdup(value);
    args->flag_count++;
    return 0;
}

void pv_config_args_free(pv_config_args *args)
{
    for (size_t i = 0; i < args->flag_count; i++)
        free(args->flags[i].value);
    free(args->flags);
    free(args->config_file);
    memset(args, 0, sizeof *args);
}
