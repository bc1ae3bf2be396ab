/* log.c — logfmt lines; see log.h. */
#include "core/log.h"

#include "core/text.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static void stderr_sink(pv_log_level level, const char *line, size_t len, void *data)
{
    /* One write(2) per line keeps lines whole between threads without stdio's lock, which
     * the loop threads would otherwise queue on once per request: the kernel appends a
     * write of up to PIPE_BUF bytes to a pipe whole, and serialises writes to a file. */
    char stack[PIPE_BUF];
    if (len + 1 <= sizeof stack) {
        memcpy(stack, line, len);
        stack[len] = '\n';
        size_t off = 0;
        while (off < len + 1) {
            ssize_t n = write(STDERR_FILENO, stack + off, len + 1 - off);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return; /* nowhere to log to */
            off += (size_t)n;
        }
    } else {
        flockfile(stderr);
        fwrite(line, 1, len, stderr);
        fputc('\n', stderr);
        funlockfile(stderr);
    }
}

static pv_log_sink log_sink = stderr_sink;
static void *log_sink_data;
static _Atomic int log_min_level = PV_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void pv_log_set_sink(pv_log_sink sink, void *data)
{
    log_sink = sink ? sink : stderr_sink;
    log_sink_data = data;
}

void pv_log_set_level(pv_log_level min_level)
{
    log_min_level = (int)min_level;
}

int pv_log_level_parse(const char *name)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(name, level_names[i]) == 0)
            return i;
    }
    return -1;
}

/*
 * A character shown as itself, or the length of what must be escaped. Valid UTF-8 passes
 * (an operator reads "…", not "\xe2\x80\xa6"); what a peer could use to forge a line or
 * drive a terminal does not: C0, DEL and C1 controls, U+2028/U+2029 (line breaks to some
 * readers), the bidirectional overrides (text shown in another order than written), and
 * bytes that are not UTF-8.
 */
typedef enum { CHAR_PLAIN, CHAR_ESCAPE_BYTES, CHAR_ESCAPE_CODEPOINT } char_kind;

static char_kind classify(pv_slice v, size_t i, size_t *n, int32_t *cp)
{
    *cp = pv_utf8_decode(v, i, n);
    if (*cp < 0) {
        *n = 1; /* one byte at a time: the next may start a valid sequence */
        return CHAR_ESCAPE_BYTES;
    }
    int32_t c = *cp;
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
        return CHAR_ESCAPE_CODEPOINT;
    if (c == 0x2028 || c == 0x2029 || (c >= 0x202a && c <= 0x202e) ||
        (c >= 0x2066 && c <= 0x2069) || c == 0x200e || c == 0x200f)
        return CHAR_ESCAPE_CODEPOINT;
    return CHAR_PLAIN;
}

static bool needs_quotes(pv_slice v)
{
    if (v.len == 0)
        return true;
    for (size_t i = 0, n = 1; i < v.len; i += n) {
        int32_t cp;
        char c = v.ptr[i];
        if (classify(v, i, &n, &cp) != CHAR_PLAIN || c == ' ' || c == '"' || c == '=' ||
            c == '\\')
            return true;
    }
    return false;
}

/* The characters of v between the quotes, escaped (see classify); a byte that is not UTF-8
 * is \xNN in logfmt, U+FFFD in JSON. */
static void append_escaped(pv_buf *b, pv_slice v, bool json)
{
    for (size_t i = 0, n = 1; i < v.len; i += n) {
        int32_t cp;
        char_kind kind = classify(v, i, &n, &cp);
        if (kind == CHAR_PLAIN) {
            if (v.ptr[i] == '"' || v.ptr[i] == '\\')
                pv_buf_append_char(b, '\\');
            pv_buf_append(b, v.ptr + i, n);
        } else if (cp == '\n') {
            pv_buf_append_str(b, "\\n");
        } else if (cp == '\r') {
            pv_buf_append_str(b, "\\r");
        } else if (cp == '\t') {
            pv_buf_append_str(b, "\\t");
        } else if (kind == CHAR_ESCAPE_CODEPOINT && (json || cp >= 0x80)) {
            pv_buf_appendf(b, "\\u%04x", (unsigned)cp);
        } else if (json) {
            pv_buf_append_str(b, "\\ufffd"); /* RFC 8259 §8.1: a JSON text is Unicode */
        } else {
            pv_buf_appendf(b, "\\x%02x", (unsigned char)v.ptr[i]);
        }
    }
}

void pv_logfmt_value(pv_buf *b, pv_slice v)
{
    if (!needs_quotes(v)) {
        pv_buf_append_slice(b, v);
        return;
    }
    pv_buf_append_char(b, '"');
    append_escaped(b, v, false);
    pv_buf_append_char(b, '"');
}

void pv_log_json_string(pv_buf *b, pv_slice v)
{
    pv_buf_append_char(b, '"');
    append_escaped(b, v, true);
    pv_buf_append_char(b, '"');
}

static _Atomic int log_format = PV_LOG_LOGFMT;

void pv_log_set_format(pv_log_format format)
{
    log_format = (int)format;
}

int pv_log_format_parse(const char *name)
{
    if (strcmp(name, "logfmt") == 0)
        return PV_LOG_LOGFMT;
    if (strcmp(name, "json") == 0)
        return PV_LOG_JSON;
    return -1;
}

void pv_log_begin(pv_log_line *line, pv_log_level level, const char *event)
{
    pv_buf_init(&line->buf);
    line->level = level;
    line->format = (pv_log_format)log_format;
    line->enabled = (int)level >= log_min_level;
    if (!line->enabled)
        return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    /* The seconds part is formatted once per second per thread: gmtime_r() takes glibc's
     * time zone lock, which every loop thread would otherwise take for every line. */
    static _Thread_local time_t ts_sec = -1;
    static _Thread_local char ts[40];
    if (tv.tv_sec != ts_sec) {
        struct tm tm;
        gmtime_r(&tv.tv_sec, &tm);
        if (strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S.", &tm) == 0)
            ts[0] = '\0';
        ts_sec = tv.tv_sec;
    }
    int ms = (int)(tv.tv_usec / 1000);
    char frac[4] = {(char)('0' + ms / 100), (char)('0' + ms / 10 % 10), (char)('0' + ms % 10), 'Z'};
    pv_buf_reserve(&line->buf, 200);
    bool json = line->format == PV_LOG_JSON;
    pv_buf_append_str(&line->buf, json ? "{\"ts\":\"" : "ts=");
    pv_buf_append_str(&line->buf, ts);
    pv_buf_append(&line->buf, frac, sizeof frac);
    pv_buf_append_str(&line->buf, json ? "\",\"level\":\"" : " level=");
    pv_buf_append_str(&line->buf, level_names[level]);
    pv_buf_append_str(&line->buf, json ? "\",\"event\":" : " event=");
    if (json)
        pv_log_json_string(&line->buf, pv_slice_from(event));
    else
        pv_buf_append_str(&line->buf, event);
}

/* Decimal digits of v, without printf (a log line has several numbers). */
static void append_u64(pv_buf *b, uint64_t v)
{
    char digits[20];
    size_t n = 0;
    do
        digits[sizeof digits - 1 - n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    pv_buf_append(b, digits + sizeof digits - n, n);
}

static void append_key_slice(pv_log_line *line, pv_slice key)
{
    if (line->format == PV_LOG_JSON) {
        pv_buf_append_char(&line->buf, ',');
        pv_log_json_string(&line->buf, key);
        pv_buf_append_char(&line->buf, ':');
        return;
    }
    /* A logfmt key is a bare word: anything else (only pv_log_fields reads keys from text)
     * becomes '_', so no key can break or forge the line. */
    pv_buf_append_char(&line->buf, ' ');
    for (size_t i = 0; i < key.len; i++) {
        char c = key.ptr[i];
        bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
        pv_buf_append_char(&line->buf, word ? c : '_');
    }
    pv_buf_append_char(&line->buf, '=');
}

static void append_key(pv_log_line *line, const char *key)
{
    append_key_slice(line, pv_slice_from(key));
}

static void append_text(pv_log_line *line, pv_slice value)
{
    if (line->format == PV_LOG_JSON)
        pv_log_json_string(&line->buf, value);
    else
        pv_logfmt_value(&line->buf, value);
}

void pv_log_slice(pv_log_line *line, const char *key, pv_slice value)
{
    if (!line->enabled)
        return;
    append_key(line, key);
    append_text(line, value);
}

void pv_log_str(pv_log_line *line, const char *key, const char *value)
{
    pv_log_slice(line, key, pv_slice_from(value ? value : ""));
}

void pv_log_int(pv_log_line *line, const char *key, int64_t value)
{
    if (!line->enabled)
        return;
    append_key(line, key);
    if (value < 0) {
        pv_buf_append_char(&line->buf, '-');
        append_u64(&line->buf, (uint64_t)0 - (uint64_t)value);
    } else {
        append_u64(&line->buf, (uint64_t)value);
    }
}

void pv_log_ms(pv_log_line *line, const char *key, double ms)
{
    if (!line->enabled)
        return;
    append_key(line, key);
    if (!(ms >= 0 && ms < 1e12)) { /* negative, huge or NaN: printf knows best */
        pv_buf_appendf(&line->buf, "%.3f", ms);
        return;
    }
    uint64_t micro = (uint64_t)(ms * 1000.0 + 0.5); /* "%.3f" of the same value */
    append_u64(&line->buf, micro / 1000);
    char frac[4] = {'.', (char)('0' + micro / 100 % 10), (char)('0' + micro / 10 % 10),
                    (char)('0' + micro % 10)};
    pv_buf_append(&line->buf, frac, sizeof frac);
}

void pv_log_redacted(pv_log_line *line, const char *key, pv_slice secret)
{
    if (!line->enabled)
        return;
    append_key(line, key);
    pv_buf tmp = {0};
    pv_buf_append(&tmp, secret.ptr, secret.len < 2 ? secret.len : 2);
    pv_buf_appendf(&tmp, "...(%zu)", secret.len);
    append_text(line, pv_buf_slice(&tmp));
    pv_buf_free(&tmp);
}

void pv_log_end(pv_log_line *line)
{
    if (line->enabled && line->format == PV_LOG_JSON)
        pv_buf_append_char(&line->buf, '}');
    if (line->enabled)
        log_sink(line->level, line->buf.data, line->buf.len, log_sink_data);
    pv_buf_free(&line->buf);
}

void pv_logf(pv_log_level level, const char *event, const char *fmt, ...)
{
    pv_log_line line;
    pv_log_begin(&line, level, event);
    if (line.enabled && fmt != NULL && fmt[0] != '\0') {
        va_list ap;
        va_start(ap, fmt);
        char text[1024];
        int n = vsnprintf(text, sizeof text, fmt, ap);
        va_end(ap);
        size_t len = n <= 0 ? 0 : (size_t)n < sizeof text ? (size_t)n : sizeof text - 1;
        if (line.format == PV_LOG_JSON) {
            pv_log_fields(&line, (pv_slice){text, len});
        } else if (len > 0) {
            pv_buf_append_char(&line.buf, ' ');
            pv_buf_append(&line.buf, text, len);
        }
    }
    pv_log_end(&line);
}

/* ---- logfmt text read back as fields (pv_logf in JSON) ---- */

/* A JSON number as RFC 8259 §6 writes one (no exponent: ours never have one). */
static bool is_json_number(pv_slice v)
{
    size_t i = 0;
    if (i < v.len && v.ptr[i] == '-')
        i++;
    size_t digits = i;
    while (i < v.len && v.ptr[i] >= '0' && v.ptr[i] <= '9')
        i++;
    if (i == digits || (v.ptr[digits] == '0' && i - digits > 1))
        return false;
    if (i < v.len && v.ptr[i] == '.') {
        size_t frac = ++i;
        while (i < v.len && v.ptr[i] >= '0' && v.ptr[i] <= '9')
            i++;
        if (i == frac)
            return false;
    }
    return i == v.len;
}

/* A quoted logfmt value from text[*i] (just after the opening quote), unescaped into out. */
static void read_quoted(pv_slice text, size_t *i, pv_buf *out)
{
    size_t p = *i;
    while (p < text.len && text.ptr[p] != '"') {
        char c = text.ptr[p++];
        if (c != '\\' || p >= text.len) {
            pv_buf_append_char(out, c);
            continue;
        }
        char e = text.ptr[p++];
        int hi, lo;
        if (e == 'n')
            pv_buf_append_char(out, '\n');
        else if (e == 'r')
            pv_buf_append_char(out, '\r');
        else if (e == 't')
            pv_buf_append_char(out, '\t');
        else if (e == 'x' && p + 1 < text.len && (hi = pv_hex_value(text.ptr[p])) >= 0 &&
                 (lo = pv_hex_value(text.ptr[p + 1])) >= 0) {
            pv_buf_append_char(out, (char)(hi << 4 | lo));
            p += 2;
        } else {
            pv_buf_append_char(out, e); /* \" \\ and anything else: the character itself */
        }
    }
    *i = p < text.len ? p + 1 : p; /* past the closing quote */
}

void pv_log_fields(pv_log_line *line, pv_slice text)
{
    if (!line->enabled)
        return;
    pv_buf value = {0}, words = {0};
    size_t i = 0;
    while (i < text.len) {
        while (i < text.len && text.ptr[i] == ' ')
            i++;
        size_t start = i;
        while (i < text.len && text.ptr[i] != ' ' && text.ptr[i] != '=')
            i++;
        pv_slice key = {text.ptr + start, i - start};
        if (i >= text.len || text.ptr[i] != '=' || key.len == 0) {
            /* A word, not a field: kept, in order, in "msg". */
            while (i < text.len && text.ptr[i] != ' ')
                i++;
            if (i > start) {
                if (words.len > 0)
                    pv_buf_append_char(&words, ' ');
                pv_buf_append(&words, text.ptr + start, i - start);
            }
            continue;
        }
        i++; /* '=' */
        pv_buf_reset(&value);
        bool quoted = i < text.len && text.ptr[i] == '"';
        if (quoted) {
            i++;
            read_quoted(text, &i, &value);
        } else {
            size_t v = i;
            while (i < text.len && text.ptr[i] != ' ')
                i++;
            pv_buf_append(&value, text.ptr + v, i - v);
        }
        append_key_slice(line, key);
        pv_slice vs = {value.data ? value.data : "", value.len};
        if (!quoted && is_json_number(vs))
            pv_buf_append_slice(&line->buf, vs);
        else
            append_text(line, vs);
    }
    if (words.len > 0) {
        append_key(line, "msg");
        append_text(line, pv_buf_slice(&words));
    }
    pv_buf_free(&value);
    pv_buf_free(&words);
}
