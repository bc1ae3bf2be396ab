/*
 * cmd_db.c — `provisor db migrate|check|backup|schema`: maintenance of the
 * provisioning store (src/store, docs/store.md).
 *
 * The database is named by --db (a path, sqlite:PATH or postgres://...) or
 * found in the data directory: --data-dir, else $PROVISOR_DATA, else
 * ./provisor-data; the file is <data>/provisor.db.
 */
#include "cli/cli.h"

#include "store/migrations.h"
#include "store/store.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: provisor db migrate [--data-dir DIR | --db PATH]\n"
            "       provisor db check   [--data-dir DIR | --db PATH]\n"
            "       provisor db backup  [--data-dir DIR | --db PATH] OUT\n"
            "       provisor db schema  [--postgres]\n\n"
            "Maintains the provisioning store (accounts, devices, codes, parameters, keys,\n"
            "firmware, reports, tokens, audit log).\n\n"
            "  migrate   apply pending schema steps, each in its own transaction\n"
            "  check     integrity and foreign-key checks, schema version, rows per table;\n"
            "            exits 1 when anything is wrong\n"
            "  backup    a consistent copy of the live database to OUT (SQLite online\n"
            "            backup; written to a temporary file, then renamed); for\n"
            "            PostgreSQL use pg_dump\n"
            "  schema    print the SQL of every schema step (SQLite, or --postgres)\n\n"
            "  -d, --data-dir DIR  data directory (default $PROVISOR_DATA or ./provisor-data);\n"
            "                      the database is DIR/provisor.db\n"
            "      --db PATH       the database itself: a path, sqlite:PATH, postgres://...\n"
            "                      or a libpq keyword string (host=... dbname=...)\n"
            "  -h, --help          this text\n\n"
            "Exit status: 0 success, 1 failure, 2 usage error. See docs/store.md.\n");
}

typedef struct db_args {
    const char *action;
    const char *data_dir;
    const char *db;
    const char *out;
    int postgres;
    char url[4096];
    char shown[4096]; /* url without a PostgreSQL password, for the terminal */
} db_args;

static int parse(int argc, char **argv, db_args *a)
{
    enum { OPT_DB = 1000, OPT_POSTGRES };
    static const struct option opts[] = {
        {"data-dir", required_argument, NULL, 'd'},
        {"db", required_argument, NULL, OPT_DB},
        {"postgres", no_argument, NULL, OPT_POSTGRES},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    a->action = argv[1];
    optind = 1;
    int c;
    /* argv + 1: getopt sees the action as its program name. */
    while ((c = getopt_long(argc - 1, argv + 1, "d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            a->data_dir = optarg;
            break;
        case OPT_DB:
            a->db = optarg;
            break;
        case OPT_POSTGRES:
            a->postgres = 1;
            break;
        default:
            return -1;
        }
    }
    int rest = argc - 1 - optind;
    char **args = argv + 1 + optind;
    if (strcmp(a->action, "backup") == 0) {
        if (rest != 1) {
            pv_cli_errorf("db backup: name the backup file (OUT)");
            return -1;
        }
        a->out = args[0];
    } else if (rest != 0) {
        pv_cli_errorf("db %s: unexpected argument '%s'", a->action, args[0]);
        return -1;
    }
    if (a->data_dir != NULL && a->db != NULL) {
        pv_cli_errorf("db: give --data-dir or --db, not both");
        return -1;
    }
    return 0;
}

/* The database URL; creates the data directory (0700: it holds keys) when
 * create is set, and otherwise insists that the database exists. */
static int resolve(db_args *a, int create)
{
    if (a->db != NULL) {
        (void)snprintf(a->url, sizeof a->url, "%s", a->db);
        const char *path = strncmp(a->db, "sqlite:", 7) == 0 ? a->db + 7 : a->db;
        if (!create && !pv_store_url_is_postgres(a->db) && strstr(a->db, "://") == NULL &&
            access(path, F_OK) != 0) {
            pv_cli_errorf("db: no database at %s", path);
            return -1;
        }
        return 0;
    }
    const char *dir = a->data_dir;
    if (dir == NULL)
        dir = getenv("PROVISOR_DATA");
    if (dir == NULL || dir[0] == '\0')
        dir = "./provisor-data";
    int n = snprintf(a->url, sizeof a->url, "%s/provisor.db", dir);
    if (n < 0 || (size_t)n >= sizeof a->url) {
        pv_cli_errorf("db: data directory path too long");
        return -1;
    }
    if (create && mkdir(dir, 0700) != 0 && errno != EEXIST) {
        pv_cli_errorf("db: cannot create data directory %s: %s", dir, strerror(errno));
        return -1;
    }
    if (!create && access(a->url, F_OK) != 0) {
        pv_cli_errorf("db: no database at %s: run 'provisor db migrate' or 'provisor serve' "
                      "first, or name it with --db or --data-dir",
                      a->url);
        return -1;
    }
    return 0;
}

static int open_store(db_args *a, int create, pv_store **s)
{
    pv_error err = {{0}};
    if (resolve(a, create) != 0)
        return PV_EXIT_FAILURE;
    pv_store_url_redact(a->url, a->shown, sizeof a->shown);
    if (pv_store_open(a->url, s, &err) != 0) {
        pv_cli_errorf("db %s: %s", a->action, err.msg);
        return PV_EXIT_FAILURE;
    }
    return PV_EXIT_OK;
}

static int run_migrate(db_args *a)
{
    pv_store *s = NULL;
    int rc = open_store(a, 1, &s);
    if (rc != PV_EXIT_OK)
        return rc;
    pv_error err = {{0}};
    int applied = 0;
    int64_t version = 0;
    if (pv_store_migrate(s, &applied, &err) != 0 ||
        pv_store_schema_version(s, &version, &err) != 0) {
        pv_cli_errorf("db migrate: %s", err.msg);
        pv_store_close(s);
        return PV_EXIT_FAILURE;
    }
    printf("%s: applied %d schema step(s); schema version %lld\n", a->shown, applied,
           (long long)version);
    pv_store_close(s);
    return PV_EXIT_OK;
}

static int run_check(db_args *a)
{
    pv_store *s = NULL;
    int rc = open_store(a, 0, &s);
    if (rc != PV_EXIT_OK)
        return rc;
    pv_error err = {{0}};
    pv_buf report = {0};
    pv_store_count counts[32];
    size_t n = 0;
    int64_t version = 0;
    (void)pv_store_schema_version(s, &version, NULL);
    printf("database: %s (%s)\nschema: version %lld (this program knows %lld)\n", a->shown,
           pv_store_backend(s), (long long)version, (long long)pv_store_schema_known());
    int ok = pv_store_check(s, &report, counts, sizeof counts / sizeof counts[0], &n, &err) == 0;
    if (report.len > 0)
        fputs(report.data, stdout);
    if (ok) {
        printf("integrity: ok\nforeign keys: ok\n");
        for (size_t i = 0; i < n; i++)
            printf("  %-16s %lld\n", counts[i].table, (long long)counts[i].rows);
    } else {
        pv_cli_errorf("db check: %s", err.msg);
    }
    pv_buf_free(&report);
    pv_store_close(s);
    return ok ? PV_EXIT_OK : PV_EXIT_FAILURE;
}

static int run_backup(db_args *a)
{
    pv_store *s = NULL;
    int rc = open_store(a, 0, &s);
    if (rc != PV_EXIT_OK)
        return rc;
    pv_error err = {{0}};
    if (pv_store_backup(s, a->out, &err) != 0) {
        pv_cli_errorf("db backup: %s", err.msg);
        pv_store_close(s);
        return PV_EXIT_FAILURE;
    }
    printf("%s: backed up to %s\n", a->shown, a->out);
    pv_store_close(s);
    return PV_EXIT_OK;
}

static int run_schema(db_args *a)
{
    pv_buf sql = {0};
    pv_buf_append_str(&sql, pv_migrations_bootstrap);
    for (size_t i = 0; i < pv_migrations_count(); i++) {
        const pv_migration *m = pv_migration_at(i);
        pv_buf_appendf(&sql, "-- schema step %lld: %s\n", (long long)m->version, m->description);
        pv_migration_expand(m, a->postgres ? PV_SQL_POSTGRES : PV_SQL_SQLITE, &sql);
    }
    fputs(sql.data != NULL ? sql.data : "", stdout);
    pv_buf_free(&sql);
    return PV_EXIT_OK;
}

int pv_cmd_db(int argc, char **argv)
{
    if (argc < 2 || pv_cli_wants_help(argc, argv)) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? PV_EXIT_USAGE : PV_EXIT_OK;
    }
    static const struct {
        const char *name;
        int (*run)(db_args *a);
    } actions[] = {
        {"migrate", run_migrate},
        {"check", run_check},
        {"backup", run_backup},
        {"schema", run_schema},
    };
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++) {
        if (strcmp(argv[1], actions[i].name) != 0)
            continue;
        db_args a = {0};
        if (parse(argc, argv, &a) != 0) {
            usage(stderr);
            return PV_EXIT_USAGE;
        }
        return actions[i].run(&a);
    }
    pv_cli_errorf("db: unknown action '%s'; want migrate, check, backup or schema", argv[1]);
    return PV_EXIT_USAGE;
}
