/*
 * import.h — reading the CSV of a bulk device import (issue 4, "Bulk
 * distribution"): `provisor device import FILE.csv`.
 *
 * The file has a header row naming its columns, in any order and any case:
 * MAC, model, account and optionally serial (other columns are refused, so a
 * misspelt "acount" is not silently ignored). Fields follow RFC 4180: commas,
 * double quotes around a field that holds a comma, a quote ("") or a line
 * break; CRLF or LF line ends; blank lines and lines starting with '#' are
 * skipped. Each row carries its line number (of its first line), which is
 * what error reports and the import's resume checkpoint count. A field is
 * one line of UTF-8 text without control characters (core/text.h): a NUL,
 * a control character or a line break inside quotes makes the row an error
 * naming the column, never a field cut short.
 *
 * The reader works on a caller-owned buffer and allocates nothing per row
 * beyond the row's own fields (freed by pv_import_row_free), so memory is
 * bounded by the largest row, whatever the file's size. The sending side
 * (batches to POST /api/v1/devices:import) is the command line's and the
 * console's script's; what the file itself gets wrong (a malformed row, a MAC
 * given twice) and the job's name are decided here for both.
 */
#ifndef PV_SERVER_IMPORT_H
#define PV_SERVER_IMPORT_H

#include "core/buf.h"
#include "core/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { PV_IMPORT_MAC, PV_IMPORT_MODEL, PV_IMPORT_ACCOUNT, PV_IMPORT_SERIAL, PV_IMPORT__COLS };

/* Longest field accepted; longer ones make the row an error. */
#define PV_IMPORT_FIELD_MAX 256

typedef struct pv_import_reader {
    pv_slice data;
    size_t pos;
    size_t line;              /* line number of the next byte */
    int col[PV_IMPORT__COLS]; /* index of each column in a row, -1 when absent */
    int ncols;                /* columns in the header */
} pv_import_reader;

typedef struct pv_import_row {
    size_t line;
    char *field[PV_IMPORT__COLS]; /* NULL when the column is absent or the field empty */
    char error[160];              /* non-empty: the row is malformed, and why */
} pv_import_row;

/* Reads the header row: PV_EFORMAT with line and column when it is not one. */
int pv_import_open(pv_import_reader *r, pv_slice data, pv_error *err);
/* The next row: 1 (row filled; check row->error), 0 at the end. */
int pv_import_next(pv_import_reader *r, pv_import_row *row);
void pv_import_row_free(pv_import_row *row);

/* Rows left from here on (for a progress bar): counts the non-blank lines that are no '#'
 * comment (a quoted field's line break counts one more). */
size_t pv_import_count(const pv_import_reader *r);

/*
 * The MACs of the file seen so far and the line of each, to report a MAC given
 * twice (issue 13: the last row silently won, and --restart flipped between the
 * two). Open addressing over the MAC's 48 bits; sized from the row count.
 */
typedef struct pv_import_seen {
    uint64_t *key; /* MAC + 1; 0 = empty slot */
    size_t *line;
    size_t cap;
} pv_import_seen;

void pv_import_seen_init(pv_import_seen *m, size_t rows);
void pv_import_seen_free(pv_import_seen *m);

/* A row the file itself gets wrong (not the server's data): malformed, or its MAC repeats an
 * earlier row's — true with the field ("row", "mac") and why. Checked on every run, before a
 * resume skips rows, so a re-run reports them again. A MAC the server would refuse is not a
 * fault here (the server says what is wrong with it). */
bool pv_import_fault(pv_import_seen *seen, const pv_import_row *row, const char **field,
                     char *msg, size_t size);

/* The job of a file: "csv-" and 16 hex digits of its SHA-256, so that the same file resumes the
 * same job (from the command line or the console). */
void pv_import_job_name(pv_slice file, char out[32]);

#endif
