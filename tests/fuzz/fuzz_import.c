/* Fuzz target: the bulk-import CSV reader (server/import): any bytes give a
 * header error with a message or rows; every row has a line number that
 * never goes back, and a field is never cut at a NUL nor
 * holds a control character (core/text.h); memory stays bounded by
 * PV_IMPORT_FIELD_MAX per field. */
#include "core/text.h"
#include "server/import.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pv_import_reader r;
    pv_error err = {""};
    if (pv_import_open(&r, pv_slice_make((const char *)data, size), &err) != 0) {
        if (err.msg[0] == '\0')
            __builtin_trap();
        return 0;
    }
    size_t left = pv_import_count(&r), rows = 0, last = 0;
    pv_import_row row;
    while (pv_import_next(&r, &row) == 1) {
        if (row.line < last || ++rows > size + 1)
            __builtin_trap();
        last = row.line;
        for (int c = 0; c < PV_IMPORT__COLS; c++) {
            const char *f = row.field[c];
            if (f == NULL)
                continue;
            if (strlen(f) > PV_IMPORT_FIELD_MAX ||
                pv_text_bad_at(pv_slice_from(f), PV_TEXT_NAME) != strlen(f))
                __builtin_trap();
        }
        pv_import_row_free(&row);
    }
    (void)left;
    return 0;
}
