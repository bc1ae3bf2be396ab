/*
 * config.h — what `provisor serve` runs with: provisor.conf (INI, via
 * libinih) and the command-line flags, in one table (DESIGN decision 1:
 * "every option also a flag").
 *
 * Every setting is one row of a table: an INI section and key, a flag name
 * (`--tftp` for [tftp] listen, `--tls-cert` for [https] cert, otherwise
 * `--<section>-<key>`), a type with its allowed values, and a line of help.
 * The INI parser, the flag parser, `provisor serve --help` and
 * docs/configuration.md all come from that table, so a key can never exist in
 * one and not the other.
 *
 * A configuration is built in layers: defaults (DESIGN decision 2, with
 * $PROVISOR_DATA for the data directory), then the file, then the flags, then
 * paths derived from the data directory for whatever is still unset. SIGHUP
 * repeats the same build with the same flags (pv_config_args), so a flag keeps
 * overriding the file across reloads. Errors name the file, the line, the key
 * and what is allowed.
 *
 * A pv_config owns its strings; pv_config_free() releases them. It is built
 * on one thread and read-only afterwards.
 */
#ifndef PV_SERVER_CONFIG_H
#define PV_SERVER_CONFIG_H

#include "core/buf.h"
#include "core/error.h"
#include "core/log.h"
#include "net/http_server.h"
#include "net/tftp_server.h"
#include "net/upload_quota.h"
#include "net/tls.h"

#include <stdbool.h>
#include <stddef.h>

/* Defaults of DESIGN decision 2: unprivileged ports on loopback. */
#define PV_CONFIG_DEFAULT_DATA_DIR "./provisor-data"
#define PV_CONFIG_DEFAULT_TFTP "127.0.0.1:6969"
#define PV_CONFIG_DEFAULT_HTTP "127.0.0.1:8080"
#define PV_CONFIG_DEFAULT_HTTPS "127.0.0.1:8443"
#define PV_CONFIG_DEFAULT_ADMIN "127.0.0.1:8081"
#define PV_CONFIG_DEFAULT_PORTAL "127.0.0.1:8444"
#define PV_CONFIG_MAX_WORKERS 64

typedef struct pv_config {
    /* [server] */
    char *data_dir;
    char *db;         /* the store (store.h URL); NULL = <data>/provisor.db */
    char *root;       /* NULL until pv_config_load derives <data>/profiles */
    char *upload_dir; /* NULL until derived: <data>/uploads */
    pv_upload_limits uploads;
    char *user;       /* whom to become after binding as root */
    unsigned workers; /* 0 = one per core */
    pv_log_level log_level;
    pv_log_format log_format; /* logfmt (the default) or json */
    unsigned drain_timeout_ms;
    /* Listeners: "host:port", or NULL when configured "off". */
    char *tftp_listen;
    char *http_listen;
    char *https_listen;
    char *admin_listen;
    size_t admin_max_body_bytes; /* [admin] max_body_bytes: an API body, a CSV import's file */
    /* [portal] (docs/portal.md): the customer portal; NULL when "off" */
    char *portal_listen;
    unsigned portal_session_idle, portal_session_lifetime; /* seconds */
    unsigned portal_lockout_failures, portal_lockout_seconds, portal_logins_per_minute;
    char *portal_language; /* en or ja; NULL: en */
    /* [https] */
    char *tls_cert;  /* derived: <data>/tls/server.pem */
    char *tls_key;   /* derived: <data>/tls/server.key */
    char *client_ca; /* derived: <data>/manufacturer/bundle.pem */
    pv_client_cert_mode client_cert;
    int tls_min_version; /* TLS1_2_VERSION or TLS1_3_VERSION */
    char *ciphers;
    char *ciphersuites;
    int security_level; /* -1: OpenSSL's default */
    bool session_tickets;
    unsigned session_cache; /* sessions kept for resumption without tickets; 0: none */
    unsigned handshake_rate; /* TLS handshakes started per second across the node; 0: no limit */
    /* [provisioning] (docs/provisioning.md) */
    bool provisioning;      /* answer with the provisioning handler, not static files only */
    char *public_host;      /* host in generated rules; NULL: the address asked */
    char *binding_prefix;   /* "/<prefix>/<code>" */
    char *bootstrap_url;    /* Profile_Rule of the factory bootstrap; NULL: https://HOST/$MA.xml */
    char *permanent_scheme; /* http, https or tftp */
    char *legacy_bootstrap_url; /* SPA phones' bootstrap Profile_Rule (spec 4.4); NULL: derived */
    bool legacy_plain_key;      /* SPA phones' first key over plain HTTP/TFTP (docs/security.md) */
    char *report_prefix;
    char *encryption; /* aes-256-cbc or aes128gcm */
    char *sha256_models, *md5_models, *text_models;
    char *known_models; /* added to server/models.h's table */
    char *retry_delay; /* Resync_Error_Retry_Delay default */
    unsigned rotation_days;
    unsigned random_delay_s;
    unsigned queue_deadline_ms;
    unsigned firmware_wave;
    unsigned render_rate;     /* profiles rendered per second across the node; 0 = no limit */
    unsigned admission_queue; /* requests waiting for admission per loop and class */
    unsigned cache_entries;   /* devices whose finished profiles a loop keeps (prov_cache.h) */
    unsigned cache_check_ms;  /* how long another process's change may go unseen */
    unsigned seen_interval_s; /* a repeat answer within it records nothing (prov_audit.h) */
    unsigned reports_per_device; /* 0 = the store's default (PV_STORE_REPORTS_PER_DEVICE) */
    size_t report_max_bytes;     /* largest report upload (docs/security.md) */
    unsigned reports_per_hour;   /* reports accepted per device and hour */
    unsigned rollout_interval_ms; /* evaluation period of firmware rollouts (server/rollout.h) */
    bool gzip;
    /* [sip] (server/notifier.h): NOTIFY to make phones resync, reboot, report (spec 5.5) */
    char *sip_listen;         /* our UDP address (port 0: any); NULL or "": off */
    char *sip_outbound_proxy; /* the provider's proxy "ip:port"; NULL: straight to phones */
    bool sip_tcp; /* NOTIFY over TCP (net/sip_tcp.h) instead of UDP */
    unsigned sip_timeout_ms;
    unsigned sip_retries;
    unsigned sip_rate; /* NOTIFYs per second of a bulk job, unless the job says */
    bool sip_notify_after_binding; /* check-sync once a device completed its binding (push.h) */
    /* [store] (docs/store.md "Retention") */
    unsigned audit_retention_days; /* 0 = no age bound */
    unsigned audit_max_rows;       /* 0 = no size bound */
    /* [tftp] and [limits] (HTTP and HTTPS) */
    pv_tftp_limits tftp;
    pv_http_limits http;
} pv_config;

typedef enum {
    PV_CONFIG_STRING,      /* any text; empty = unset */
    PV_CONFIG_LISTEN,      /* host:port, [v6]:port, or off */
    PV_CONFIG_UINT,        /* decimal, within [min, max] */
    PV_CONFIG_SIZE,        /* bytes, with optional K/M/G suffix, within [min, max] */
    PV_CONFIG_BOOL,        /* yes/no, true/false, on/off, 1/0 */
    PV_CONFIG_CLIENT_CERT, /* none, optional, required */
    PV_CONFIG_TLS_VERSION, /* 1.2, 1.3 */
    PV_CONFIG_LOG_LEVEL,   /* debug, info, warn, error */
    PV_CONFIG_LOG_FORMAT,  /* logfmt, json */
    PV_CONFIG_SECLEVEL,    /* default, 0..5 */
} pv_config_type;

/* One row of the table. */
typedef struct pv_config_key {
    const char *section;
    const char *key;
    const char *flag; /* long option name, without the dashes */
    pv_config_type type;
    size_t offset; /* into pv_config */
    unsigned long long min, max;
    const char *metavar; /* for --help: ADDR:PORT, FILE, N ... */
    const char *help;
} pv_config_key;

/* The table; *count receives its length. */
const pv_config_key *pv_config_keys(size_t *count);
/* A row by section and key, or by flag name; NULL when unknown. */
const pv_config_key *pv_config_find(const char *section, const char *key);
const pv_config_key *pv_config_find_flag(const char *flag);
/* The key's flag name without the dashes ("tftp", "tftp-max-transfers"). */
const char *pv_config_flag(const pv_config_key *key);
/* "ADDR:PORT or off", "1..64", ...: what a key accepts, for messages. */
const char *pv_config_allowed(const pv_config_key *key, char *out, size_t size);

/* The command line's part: a config file and flag values, kept for reloads. */
typedef struct pv_config_args {
    char *config_file; /* NULL: none */
    struct {
        const pv_config_key *key;
        char *value;
    } * flags;
    size_t flag_count;
} pv_config_args;

/* Records `--<flag> value`; PV_EINVAL with a message when the flag is unknown. */
int pv_config_args_add(pv_config_args *args, const char *flag, const char *value, pv_error *err);
void pv_config_args_free(pv_config_args *args);

/* Defaults only (data directory from $PROVISOR_DATA when set). */
void pv_config_init(pv_config *cfg);
void pv_config_free(pv_config *cfg);

/* Sets one key from text; err says what is allowed. */
int pv_config_set(pv_config *cfg, const pv_config_key *key, const char *value, pv_error *err);

/* Applies an INI file (bounded to 1 MiB); on error, "FILE:LINE: [section] key: ...". */
int pv_config_load_file(pv_config *cfg, const char *path, pv_error *err);
/* Same from memory; name is used in messages. */
int pv_config_load_string(pv_config *cfg, const char *name, const char *text, pv_error *err);

/* Fills paths derived from data_dir and checks the whole (cert without key...). */
int pv_config_finish(pv_config *cfg, pv_error *err);

/* The whole build: init, file, flags, finish. On failure cfg is left freed. */
int pv_config_load(pv_config *cfg, const pv_config_args *args, pv_error *err);

/* Help text for every flag, grouped by section (for `provisor serve --help`). */
void pv_config_help(pv_buf *out);
/* The resolved configuration as an INI file (for `--print-config` and docs). */
void pv_config_render(const pv_config *cfg, pv_buf *out);
/* provisor.conf(5) in mdoc, dated `date` ("December 7, 2026"): every key, its flag, default
 * and allowed values, from the same table (`--print-config-man`; the package's page). */
void pv_config_man(pv_buf *out, const char *date);
/* A provisor.conf with every key commented out at its default, each with its help
 * (`--print-config-sample`; the package's /etc/provisor/provisor.conf). */
void pv_config_sample(pv_buf *out);

#endif
