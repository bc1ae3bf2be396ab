/* log.c — logfmt lines; see log.h. */
#include "core/log.h"

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

static bool needs_quotes(pv_slice v)
{
    if (v.len == 0)
        return true;
    for (size_t i = 0; i < v.len; i++) {
        unsigned char c = (unsigned char)v.ptr[i];
        if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c >= 0x7f)
            return true;
    }
    return false;
}

void pv_logfmt_value(pv_buf *b, pv_slice v)
{
    if (!needs_quotes(v)) {
        pv_buf_append_slice(b, v);
        return;
    }
    pv_buf_append_char(b, '"');
    for (size_t i = 0; i < v.len; i++) {
        unsigned char c = (unsigned char)v.ptr[i];
        switch (c) {
        case '"':
            pv_buf_append_str(b, "\\\"");
            break;
        case '\\':
            pv_buf_append_str(b, "\\\\");
            break;
        case '\n':
            pv_buf_append_str(b, "\\n");
            break;
        case '\r':
            pv_buf_append_str(b, "\\r");
            break;
        case '\t':
            pv_buf_append_str(b, "\\t");
            break;
        default:
            /* Control bytes and non-ASCII from the network are escaped, so a
             * peer can never forge a log line or a terminal sequence. */
            if (c < 0x20 || c >= 0x7f)
                pv_buf_appendf(b, "\\x%02x", c);
            else
                pv_buf_append_char(b, (char)c);
        }
    }
    pv_buf_append_char(b, '"');
}

void pv_log_begin(pv_log_line *line, pv_log_level level, const char *event)
{
    pv_buf_init(&line->buf);
    line->level = level;
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
        if (strftime(ts, sizeof ts, "ts=%Y-%m-%dT%H:%M:%S.", &tm) == 0)
            ts[0] = '\0';
        ts_sec = tv.tv_sec;
    }
    int ms = (int)(tv.tv_usec / 1000);
    char frac[5] = {(char)('0' + ms / 100), (char)('0' + ms / 10 % 10), (char)('0' + ms % 10), 'Z',
                    ' '};
    pv_buf_reserve(&line->buf, 200);
    pv_buf_append_str(&line->buf, ts);
    pv_buf_append(&line->buf, frac, sizeof frac);
    pv_buf_append_str(&line->buf, "level=");
    pv_buf_append_str(&line->buf, level_names[level]);
    pv_buf_append_str(&line->buf, " event=");
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

static void append_key(pv_log_line *line, const char *key)
{
    pv_buf_append_char(&line->buf, ' ');
    pv_buf_append_str(&line->buf, key);
    pv_buf_append_char(&line->buf, '=');
}

void pv_log_slice(pv_log_line *line, const char *key, pv_slice value)
{
    if (!line->enabled)
        return;
    append_key(line, key);
    pv_logfmt_value(&line->buf, value);
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
    pv_logfmt_value(&line->buf, pv_buf_slice(&tmp));
    pv_buf_free(&tmp);
}

void pv_log_end(pv_log_line *line)
{
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
        if (n > 0) {
            pv_buf_append_char(&line.buf, ' ');
            pv_buf_append(&line.buf, text, (size_t)n < sizeof text ? (size_t)n : sizeof text - 1);
        }
    }
    pv_log_end(&line);
}
