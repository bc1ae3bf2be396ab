/* http_response.c — conditional requests, ranges, dates and heads; see http_response.h. */
#include "net/http_response.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

const char *pv_http_reason(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 206:
        return "Partial Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 303:
        return "See Other";
    case 304:
        return "Not Modified";
    case 307:
        return "Temporary Redirect";
    case 308:
        return "Permanent Redirect";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 411:
        return "Length Required";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 416:
        return "Range Not Satisfiable";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    case 507:
        return "Insufficient Storage";
    default:
        return "Unknown";
    }
}

void pv_http_format_date(time_t t, char out[32])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    if (strftime(out, 32, "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
        out[0] = '\0';
}

/*
 * The same, remembered: every answer carries Date (the current second) and
 * most carry Last-Modified (a file's mtime, the same again and again), while
 * gmtime_r() takes glibc's time zone lock and strftime() walks the locale.
 * A few per-thread slots make that once per second and value; the result is
 * the same, so the module stays pure to its callers.
 */
static const char *format_date_cached(time_t t)
{
    static _Thread_local struct {
        time_t t;
        bool set;
        char text[32];
    } slots[4];
    unsigned i = (unsigned)t & 3u;
    if (!slots[i].set || slots[i].t != t) {
        pv_http_format_date(t, slots[i].text);
        slots[i].t = t;
        slots[i].set = true;
    }
    return slots[i].text;
}

static void append_u64(pv_buf *out, uint64_t v)
{
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%" PRIu64, v); /* 20 digits at most: fits */
    pv_buf_append(out, digits, (size_t)n);
}

static void append_header(pv_buf *out, const char *name, const char *value)
{
    pv_buf_append_str(out, name);
    pv_buf_append_str(out, value);
    pv_buf_append(out, "\r\n", 2);
}

bool pv_http_parse_date(pv_slice s, time_t *out)
{
    /* IMF-fixdate, then the obsolete RFC 850 and asctime forms (RFC 9110 §5.6.7). */
    static const char *const formats[] = {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT",
                                          "%a %b %e %H:%M:%S %Y"};
    char text[64];
    if (s.len == 0 || s.len >= sizeof text)
        return false;
    memcpy(text, s.ptr, s.len);
    text[s.len] = '\0';
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        const char *end = strptime(text, formats[i], &tm);
        if (end != NULL && *end == '\0') {
            *out = timegm(&tm);
            return true;
        }
    }
    return false;
}

/* An entity tag without its weakness prefix, for weak comparison. */
static pv_slice opaque_tag(pv_slice t)
{
    if (t.len >= 2 && t.ptr[0] == 'W' && t.ptr[1] == '/')
        return pv_slice_make(t.ptr + 2, t.len - 2);
    return t;
}

bool pv_http_etag_list_matches(pv_slice list, const char *etag)
{
    if (etag == NULL || etag[0] == '\0')
        return false;
    pv_slice mine = opaque_tag(pv_slice_from(etag));
    size_t i = 0;
    while (i < list.len) {
        while (i < list.len && (list.ptr[i] == ' ' || list.ptr[i] == '\t' || list.ptr[i] == ','))
            i++;
        size_t start = i;
        if (i < list.len && list.ptr[i] == '*')
            return true; /* RFC 9110 §13.1.2: any current representation */
        if (i + 1 < list.len && list.ptr[i] == 'W' && list.ptr[i + 1] == '/')
            i += 2;
        if (i < list.len && list.ptr[i] == '"') {
            const char *close = memchr(list.ptr + i + 1, '"', list.len - i - 1);
            if (close == NULL)
                return false;
            i = (size_t)(close - list.ptr) + 1;
        } else {
            while (i < list.len && list.ptr[i] != ',')
                i++;
        }
        if (pv_slice_eq(opaque_tag(pv_slice_make(list.ptr + start, i - start)), mine))
            return true;
    }
    return false;
}

/* Parses decimal digits [*i, end); false when none or on overflow. */
static bool parse_u64(pv_slice s, size_t *i, uint64_t *out)
{
    uint64_t v = 0;
    size_t start = *i;
    while (*i < s.len && s.ptr[*i] >= '0' && s.ptr[*i] <= '9') {
        unsigned d = (unsigned)(s.ptr[*i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
        (*i)++;
    }
    *out = v;
    return *i > start;
}

pv_range_result pv_http_parse_range(pv_slice range, uint64_t size, uint64_t *first, uint64_t *last)
{
    range = pv_slice_trim(range);
    if (!pv_slice_starts_with(range, "bytes="))
        return PV_RANGE_NONE; /* an unknown unit is ignored (RFC 9110 §14.2) */
    pv_slice spec = pv_slice_trim(pv_slice_make(range.ptr + 6, range.len - 6));
    if (memchr(spec.ptr, ',', spec.len) != NULL)
        return PV_RANGE_NONE; /* several ranges: we answer the whole body with 200 */
    size_t i = 0;
    uint64_t a = 0, b = 0;
    if (spec.len > 0 && spec.ptr[0] == '-') { /* suffix-range: the last b bytes */
        i = 1;
        if (!parse_u64(spec, &i, &b) || i != spec.len)
            return PV_RANGE_NONE;
        if (b == 0 || size == 0)
            return PV_RANGE_UNSATISFIABLE;
        *first = b >= size ? 0 : size - b;
        *last = size - 1;
        return PV_RANGE_PARTIAL;
    }
    if (!parse_u64(spec, &i, &a) || i >= spec.len || spec.ptr[i] != '-')
        return PV_RANGE_NONE;
    i++;
    bool open_end = i == spec.len;
    if (!open_end && (!parse_u64(spec, &i, &b) || i != spec.len || b < a))
        return PV_RANGE_NONE; /* invalid ranges are ignored, not refused */
    if (a >= size)
        return PV_RANGE_UNSATISFIABLE; /* RFC 9110 §14.1.1 */
    *first = a;
    *last = open_end || b >= size ? size - 1 : b;
    return PV_RANGE_PARTIAL;
}

/* If-Range (RFC 9110 §13.1.5): a strong ETag match or the exact Last-Modified date. */
static bool if_range_holds(pv_slice v, const pv_response *resp)
{
    if (v.len == 0)
        return true;
    if (v.ptr[0] == '"' || pv_slice_starts_with(v, "W/"))
        return v.ptr[0] == '"' && resp->etag[0] == '"' && pv_slice_eq_cstr(v, resp->etag);
    time_t t;
    return resp->last_modified != 0 && pv_http_parse_date(v, &t) && t == resp->last_modified;
}

static pv_slice find_header(const pv_header *headers, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++) {
        if (pv_slice_case_eq_cstr(headers[i].name, name))
            return headers[i].value;
    }
    return pv_slice_make("", 0);
}

static bool not_modified(const pv_header *headers, size_t count, const pv_response *resp)
{
    pv_slice inm = find_header(headers, count, "If-None-Match");
    if (inm.len > 0) /* RFC 9110 §13.2.2: If-None-Match wins over If-Modified-Since */
        return pv_http_etag_list_matches(inm, resp->etag);
    pv_slice ims = find_header(headers, count, "If-Modified-Since");
    time_t since;
    return ims.len > 0 && resp->last_modified != 0 && pv_http_parse_date(ims, &since) &&
           resp->last_modified <= since;
}

void pv_http_plan_response(pv_method method, const pv_header *headers, size_t header_count,
                           const pv_response *resp, uint64_t total, pv_http_plan *plan)
{
    *plan = (pv_http_plan){.status = resp->status,
                           .offset = 0,
                           .length = total,
                           .total = total,
                           .send_body = method != PV_METHOD_HEAD};
    bool get_or_head = method == PV_METHOD_GET || method == PV_METHOD_HEAD;
    bool validators = resp->etag[0] != '\0' || resp->last_modified != 0;
    if (resp->status == 200 && get_or_head && validators &&
        not_modified(headers, header_count, resp)) {
        plan->status = 304; /* RFC 9110 §15.4.5 */
        plan->length = 0;
        plan->send_body = false;
        return;
    }
    if (resp->status == 200 && method == PV_METHOD_GET && resp->body_kind != PV_BODY_NONE) {
        pv_slice range = find_header(headers, header_count, "Range");
        uint64_t first = 0, last = 0;
        if (range.len > 0 && if_range_holds(find_header(headers, header_count, "If-Range"), resp)) {
            switch (pv_http_parse_range(range, total, &first, &last)) {
            case PV_RANGE_PARTIAL:
                plan->status = 206;
                plan->offset = first;
                plan->length = last - first + 1;
                break;
            case PV_RANGE_UNSATISFIABLE:
                plan->status = 416;
                plan->length = 0;
                plan->send_body = false;
                break;
            case PV_RANGE_NONE:
                break;
            }
        }
    }
    if (plan->status < 200 || plan->status == 204 || plan->status == 304)
        plan->send_body = false;
}

void pv_http_format_head(pv_buf *out, const pv_http_head_info *info)
{
    const pv_http_plan *plan = info->plan;
    const pv_response *resp = info->resp;
    /* Plain appends, no printf: this runs once per answer. */
    pv_buf_reserve(out, 256);
    pv_buf_append_str(out, "HTTP/1.1 ");
    if (plan->status >= 0)
        append_u64(out, (uint64_t)plan->status);
    else
        pv_buf_appendf(out, "%d", plan->status);
    pv_buf_append_char(out, ' ');
    pv_buf_append_str(out, pv_http_reason(plan->status));
    pv_buf_append_str(out, "\r\nDate: ");
    pv_buf_append_str(out, format_date_cached(info->now));
    pv_buf_append_str(out, "\r\nServer: provisor\r\n");
    bool bodyless_status = plan->status < 200 || plan->status == 204 || plan->status == 304;
    if (!bodyless_status) {
        /* HEAD announces the length a GET would send (RFC 9110 §9.3.2). */
        pv_buf_append_str(out, "Content-Length: ");
        append_u64(out, plan->length);
        pv_buf_append(out, "\r\n", 2);
        if (plan->status != 416)
            append_header(out, "Content-Type: ",
                          resp->content_type ? resp->content_type : "application/octet-stream");
    }
    if (resp->content_encoding != NULL && plan->status != 416)
        append_header(out, "Content-Encoding: ", resp->content_encoding);
    if (resp->etag[0] != '\0')
        append_header(out, "ETag: ", resp->etag);
    if (resp->last_modified != 0)
        append_header(out, "Last-Modified: ", format_date_cached(resp->last_modified));
    /* A file, whether sent from disk or from the small-file cache, takes ranges. */
    bool file = resp->body_kind == PV_BODY_FILE ||
                (resp->body_kind == PV_BODY_MEMORY && resp->last_modified != 0);
    if (file && (plan->status == 200 || plan->status == 206))
        pv_buf_append_str(out, "Accept-Ranges: bytes\r\n");
    if (plan->status == 206) {
        pv_buf_append_str(out, "Content-Range: bytes ");
        append_u64(out, plan->offset);
        pv_buf_append_char(out, '-');
        append_u64(out, plan->offset + plan->length - 1);
        pv_buf_append_char(out, '/');
        append_u64(out, plan->total);
        pv_buf_append(out, "\r\n", 2);
    }
    if (plan->status == 416) {
        pv_buf_append_str(out, "Content-Range: bytes */");
        append_u64(out, plan->total);
        pv_buf_append(out, "\r\n", 2);
    }
    if (resp->location != NULL)
        append_header(out, "Location: ", resp->location);
    if (resp->www_authenticate != NULL && resp->status == 401)
        append_header(out, "WWW-Authenticate: ", resp->www_authenticate);
    if (resp->retry_after != 0 && (resp->status == 503 || resp->status == 429)) {
        pv_buf_append_str(out, "Retry-After: "); /* RFC 9110 §10.2.3 */
        append_u64(out, resp->retry_after);
        pv_buf_append(out, "\r\n", 2);
    }
    if (resp->headers != NULL)
        pv_buf_append_str(out, resp->headers); /* checked line by line (http_conn.c) */
    if (info->allow_header)
        pv_buf_append_str(out, "Allow: GET, HEAD, POST, PUT\r\n");
    if (!info->keep_alive)
        pv_buf_append_str(out, "Connection: close\r\n");
    else if (info->http10)
        pv_buf_append_str(out, "Connection: keep-alive\r\n");
    pv_buf_append_str(out, "\r\n");
}
