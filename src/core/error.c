/* error.c — PV_E* codes to text; see error.h. */
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>

const char *pv_strerror(int err)
{
    switch (err) {
    case PV_OK:
        return "success";
#define PV_ERRNO_TEXT(name, text)                                              \
    case PV_##name:                                                            \
        return text;
        PV_ERRNO_MAP(PV_ERRNO_TEXT)
#undef PV_ERRNO_TEXT
    default:
        return "unknown error";
    }
}

const char *pv_err_name(int err)
{
    switch (err) {
    case PV_OK:
        return "OK";
#define PV_ERRNO_NAME(name, text)                                              \
    case PV_##name:                                                            \
        return #name;
        PV_ERRNO_MAP(PV_ERRNO_NAME)
#undef PV_ERRNO_NAME
    default:
        return "EUNKNOWN";
    }
}

int pv_error_set(pv_error *err, int code, const char *fmt, ...)
{
    if (err != NULL) {
        va_list ap;
        va_start(ap, fmt);
        /* Truncation is acceptable here: the message is for people. */
        (void)vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}
