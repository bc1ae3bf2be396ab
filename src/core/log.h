/*
 * log.h — one line per event, logfmt (DESIGN decision 10) or JSON.
 *
 *   ts=2026-11-25T14:00:00.123Z level=info event=http.request peer=127.0.0.1:5555 status=200
 *   {"ts":"2026-11-25T14:00:00.123Z","level":"info","event":"http.request","status":200}
 *
 * A line is a list of key-value fields: built with pv_log_begin(), fields
 * appended with pv_log_str() / pv_log_int() / pv_log_ms(), and emitted by
 * pv_log_end(). The format (`provisor serve --log-format`) is chosen once per
 * process and read at pv_log_begin(), so a caller never knows which one it
 * writes: any module that logs one line per event (the per-request line of
 * src/net) calls these and nothing else.
 *
 * Text is written as UTF-8: a valid UTF-8 sequence ("…", "é") appears as
 * itself. What could forge a line or drive a terminal is escaped: C0 and C1
 * control characters, DEL, the Unicode line separators and bidirectional
 * overrides, and bytes that are not UTF-8 (as \xNN in logfmt; as U+FFFD in
 * JSON, whose strings must be Unicode).
 *
 * The sink defaults to standard error and is set once by the program (tests
 * capture lines through it). Never log a key, a password or a whole binding
 * code: callers pass pv_log_redacted() for those.
 */
#ifndef PV_CORE_LOG_H
#define PV_CORE_LOG_H

#include "core/buf.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum { PV_LOG_DEBUG, PV_LOG_INFO, PV_LOG_WARN, PV_LOG_ERROR } pv_log_level;
typedef enum { PV_LOG_LOGFMT, PV_LOG_JSON } pv_log_format;

/* Receives one complete line, without the newline; must be thread-safe. */
typedef void (*pv_log_sink)(pv_log_level level, const char *line, size_t len, void *data);

typedef struct pv_log_line {
    pv_buf buf;
    pv_log_level level;
    pv_log_format format; /* the process's format when the line began */
    bool enabled;         /* false when level is below the configured minimum */
} pv_log_line;

void pv_log_set_sink(pv_log_sink sink, void *data);
void pv_log_set_level(pv_log_level min_level);
/* Parses "debug", "info", "warn", "error"; returns -1 when unknown. */
int pv_log_level_parse(const char *name);
void pv_log_set_format(pv_log_format format);
/* Parses "logfmt", "json"; returns -1 when unknown. */
int pv_log_format_parse(const char *name);

void pv_log_begin(pv_log_line *line, pv_log_level level, const char *event);
void pv_log_str(pv_log_line *line, const char *key, const char *value);
void pv_log_slice(pv_log_line *line, const char *key, pv_slice value);
void pv_log_int(pv_log_line *line, const char *key, int64_t value);
/* Milliseconds with three decimals, e.g. duration=1.250 */
void pv_log_ms(pv_log_line *line, const char *key, double ms);
/* Logs only the first 2 characters of a secret followed by "…" and its length. */
void pv_log_redacted(pv_log_line *line, const char *key, pv_slice secret);
void pv_log_end(pv_log_line *line);

/* One-shot: pv_logf(PV_LOG_INFO, "listener.ready", "proto=%s addr=%s", ...) — the
 * format produces already-formatted logfmt fields (a value with spaces in "quotes");
 * in JSON they are read back as fields, numbers as JSON numbers. The text is bounded
 * (1 KiB). */
void pv_logf(pv_log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Appends value to b as a logfmt value (quoted and escaped when needed). */
void pv_logfmt_value(pv_buf *b, pv_slice value);
/* Appends value to b as a JSON string, quotes included. */
void pv_log_json_string(pv_buf *b, pv_slice value);
/*
 * Reads the logfmt fields of text ("a=1 b=\"x y\"") and appends each to line: the
 * JSON writer's view of pv_logf()'s text, exposed for its fuzz target. A word
 * without '=' joins a "msg" field; an unterminated quote ends at the end of text.
 */
void pv_log_fields(pv_log_line *line, pv_slice text);

#endif
