/* import.c — the CSV of a bulk device import (RFC 4180); see import.h. */
#include "server/import.h"

#include "core/alloc.h"
#include "core/text.h"
#include "store/store.h"

#include <openssl/evp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_FIELDS 16

static const char *const col_names[PV_IMPORT__COLS] = {"mac", "model", "account", "serial"};

typedef struct record {
    pv_buf f[MAX_FIELDS];
    int n;
    size_t line;
    char error[160];
} record;

static void record_free(record *rec)
{
    for (int i = 0; i < MAX_FIELDS; i++)
        pv_buf_free(&rec->f[i]);
}

static bool at_end(const pv_import_reader *r)
{
    return r->pos >= r->data.len;
}

/* Skips blank lines and '#' comments between records. */
static void skip_blank(pv_import_reader *r)
{
    while (!at_end(r)) {
        char c = r->data.ptr[r->pos];
        if (c == '\n') {
            r->pos++;
            r->line++;
        } else if (c == '\r') {
            r->pos++;
        } else if (c == '#') {
            while (!at_end(r) && r->data.ptr[r->pos] != '\n')
                r->pos++;
        } else {
            break;
        }
    }
}

/* Appends within the field limit: memory stays bounded on any line. */
static void put(pv_buf *f, char c)
{
    if (f->len <= PV_IMPORT_FIELD_MAX)
        pv_buf_append_char(f, c);
}

/* Reads one record (RFC 4180 §2); false at the end of the data. Errors go
 * into rec->error, and the rest of the record is consumed anyway. */
static bool read_record(pv_import_reader *r, record *rec)
{
    skip_blank(r);
    if (at_end(r))
        return false;
    rec->n = 1;
    rec->line = r->line;
    rec->error[0] = '\0';
    for (int i = 0; i < MAX_FIELDS; i++)
        pv_buf_reset(&rec->f[i]);
    bool quoted = false, was_quoted = false;
    size_t col = 1;
    while (!at_end(r)) {
        char c = r->data.ptr[r->pos++];
        col++;
        pv_buf *f = &rec->f[rec->n - 1 < MAX_FIELDS ? rec->n - 1 : MAX_FIELDS - 1];
        if (quoted) {
            if (c == '"' && !at_end(r) && r->data.ptr[r->pos] == '"') {
                put(f, '"'); /* "" inside quotes is one quote */
                r->pos++;
            } else if (c == '"') {
                quoted = false;
            } else {
                if (c == '\n')
                    r->line++;
                put(f, c);
            }
        } else if (c == '"' && f->len == 0 && !was_quoted) {
            quoted = was_quoted = true;
        } else if (c == ',') {
            rec->n++;
            was_quoted = false;
        } else if (c == '\n') {
            r->line++;
            break;
        } else if (c == '\r') {
            continue;
        } else if (was_quoted && !rec->error[0]) {
            snprintf(rec->error, sizeof rec->error,
                     "column %zu: text after a closing quote (a quote in a field is \"\")",
                     col - 1);
        } else {
            put(f, c);
        }
        if (f->len > PV_IMPORT_FIELD_MAX && !rec->error[0])
            snprintf(rec->error, sizeof rec->error, "field %d is longer than %d bytes", rec->n,
                     PV_IMPORT_FIELD_MAX);
    }
    if (quoted && !rec->error[0])
        snprintf(rec->error, sizeof rec->error, "a quoted field is not closed before the end");
    if (rec->n > MAX_FIELDS && !rec->error[0])
        snprintf(rec->error, sizeof rec->error, "%d fields; at most %d", rec->n, MAX_FIELDS);
    return true;
}

int pv_import_open(pv_import_reader *r, pv_slice data, pv_error *err)
{
    memset(r, 0, sizeof *r);
    r->data = data;
    r->line = 1;
    for (int c = 0; c < PV_IMPORT__COLS; c++)
        r->col[c] = -1;
    /* a UTF-8 byte order mark, as spreadsheet programs write */
    if (data.len >= 3 && memcmp(data.ptr, "\xEF\xBB\xBF", 3) == 0)
        r->pos = 3;
    record rec = {0};
    int rc = 0;
    if (!read_record(r, &rec)) {
        rc = pv_error_set(err, PV_EFORMAT,
                          "the file is empty: want a header row MAC,model,account[,serial]");
    } else if (rec.error[0]) {
        rc = pv_error_set(err, PV_EFORMAT, "line %zu: header: %s", rec.line, rec.error);
    } else {
        r->ncols = rec.n;
        for (int i = 0; i < rec.n && rc == 0; i++) {
            pv_slice name = pv_slice_trim(pv_buf_slice(&rec.f[i]));
            int c = 0;
            while (c < PV_IMPORT__COLS && !(name.len == strlen(col_names[c]) &&
                                            strncasecmp(name.ptr, col_names[c], name.len) == 0))
                c++;
            if (c == PV_IMPORT__COLS)
                rc = pv_error_set(err, PV_EFORMAT,
                                  "line %zu: header column %d '%.*s': want MAC, model, account or "
                                  "serial",
                                  rec.line, i + 1, (int)(name.len > 40 ? 40 : name.len), name.ptr);
            else if (r->col[c] >= 0)
                rc = pv_error_set(err, PV_EFORMAT, "line %zu: header: column %s appears twice",
                                  rec.line, col_names[c]);
            else
                r->col[c] = i;
        }
        if (rc == 0 && r->col[PV_IMPORT_MAC] < 0)
            rc = pv_error_set(err, PV_EFORMAT,
                              "line %zu: the header has no MAC column (want MAC,model,account"
                              "[,serial])",
                              rec.line);
    }
    record_free(&rec);
    return rc;
}

int pv_import_next(pv_import_reader *r, pv_import_row *row)
{
    memset(row, 0, sizeof *row);
    record rec = {0};
    if (!read_record(r, &rec)) {
        record_free(&rec);
        return 0;
    }
    row->line = rec.line;
    if (rec.error[0]) {
        snprintf(row->error, sizeof row->error, "%s", rec.error);
    } else if (rec.n != r->ncols) {
        snprintf(row->error, sizeof row->error, "%d fields, but the header names %d", rec.n,
                 r->ncols);
    } else {
        for (int c = 0; c < PV_IMPORT__COLS && !row->error[0]; c++) {
            if (r->col[c] < 0)
                continue;
            pv_slice v = pv_slice_trim(pv_buf_slice(&rec.f[r->col[c]]));
            char field[32];
            pv_error err;
            (void)snprintf(field, sizeof field, "column %s", col_names[c]);
            /* A NUL would cut the field short where C strings take over, a
             * control character would fail every render: refused, named. */
            if (pv_text_check(v, PV_TEXT_NAME, field, &err) != 0)
                snprintf(row->error, sizeof row->error, "%s", err.msg);
            else if (v.len > 0)
                row->field[c] = pv_slice_dup(v);
        }
        if (!row->error[0] && row->field[PV_IMPORT_MAC] == NULL)
            snprintf(row->error, sizeof row->error, "the MAC field is empty");
    }
    record_free(&rec);
    return 1;
}

void pv_import_row_free(pv_import_row *row)
{
    for (int c = 0; c < PV_IMPORT__COLS; c++) {
        free(row->field[c]);
        row->field[c] = NULL;
    }
}

size_t pv_import_count(const pv_import_reader *r)
{
    size_t n = 0;
    bool content = false, comment = false, start = true;
    for (size_t i = r->pos; i < r->data.len; i++) {
        char c = r->data.ptr[i];
        if (c == '\n') {
            n += content && !comment;
            content = comment = false;
            start = true;
            continue;
        }
        if (c == '\r')
            continue; /* skip_blank passes CRs at a line's start too */
        if (start && c == '#') /* a comment line, as skip_blank reads it */
            comment = true;
        start = false;
        if (c != ' ' && c != '\t')
            content = true;
    }
    return n + (content && !comment);
}

void pv_import_seen_init(pv_import_seen *m, size_t rows)
{
    m->cap = 64;
    while (m->cap < rows * 2)
        m->cap *= 2;
    m->key = pv_calloc(m->cap, sizeof *m->key);
    m->line = pv_calloc(m->cap, sizeof *m->line);
}

void pv_import_seen_free(pv_import_seen *m)
{
    free(m->key);
    free(m->line);
}

/* 0 when mac (12 hex digits) is new, else the line that gave it first. */
static size_t seen_add(pv_import_seen *m, const char mac[13], size_t line)
{
    uint64_t k = strtoull(mac, NULL, 16) + 1;
    size_t i = (size_t)((k * 0x9E3779B97F4A7C15ull) >> 20) & (m->cap - 1);
    while (m->key[i] != 0 && m->key[i] != k)
        i = (i + 1) & (m->cap - 1);
    if (m->key[i] == k)
        return m->line[i];
    m->key[i] = k;
    m->line[i] = line;
    return 0;
}

bool pv_import_fault(pv_import_seen *seen, const pv_import_row *row, const char **field, char *msg,
                     size_t size)
{
    if (row->error[0]) {
        *field = "row";
        snprintf(msg, size, "%s", row->error);
        return true;
    }
    char mac[13];
    if (pv_store_mac_normalize(row->field[PV_IMPORT_MAC], mac, NULL) != 0)
        return false;
    size_t first = seen_add(seen, mac, row->line);
    if (first == 0)
        return false;
    *field = "mac";
    snprintf(msg, size, "MAC %s is already on line %zu; this row is skipped", mac, first);
    return true;
}

void pv_import_job_name(pv_slice file, char out[32])
{
    unsigned char d[32];
    EVP_Digest(file.ptr ? file.ptr : "", file.len, d, NULL, EVP_sha256(), NULL);
    memcpy(out, "csv-", 4);
    pv_hex_encode(d, 8, out + 4);
}
