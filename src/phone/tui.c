/*
 * tui.c — the terminal phone (see tui.h).
 *
 * The screen is redrawn whole every 100 ms (the fast blink's 200 ms phases
 * need no finer tick) with cursor-home and clear-to-end-of-line sequences, so
 * no curses library is needed and tmux shows exactly what a person sees.
 */
#include "phone/tui.h"

#include "core/alloc.h"
#include "core/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ENTRY_MAX 240
#define IVR_RESET "****73738#" /* ATA IVR factory reset, then 1# to confirm (spec 12.2) */

typedef enum { MODE_MAIN, MODE_SETUP, MODE_CONFIRM_RESET } mode;

struct pv_tui {
    uv_loop_t *loop;
    pv_phone *phone;
    uv_tty_t in;
    uv_timer_t timer;
    int out_fd;
    mode m;
    char entry[ENTRY_MAX + 1];
    size_t entry_len;
    char keys[16]; /* the last keys typed, for the IVR sequence */
    char message[160];
    void (*quit)(void *data);
    void *quit_data;
    int open_handles;
    bool closing;
};

bool pv__tui_led_on(pv_agent_led led, uint64_t ms)
{
    const uint16_t *pat;
    size_t n = pv_agent_led_pattern(led, &pat);
    if (n == 0)
        return true;
    uint64_t period = 0;
    for (size_t i = 0; i < n; i++)
        period += pat[i];
    uint64_t t = ms % period;
    for (size_t i = 0; i < n; i++) { /* even phases are "on" */
        if (t < pat[i])
            return i % 2 == 0;
        t -= pat[i];
    }
    return false;
}

static void line(pv_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line(pv_buf *b, const char *fmt, ...)
{
    char text[256];
    va_list ap;
    va_start(ap, fmt);
    pv_vformat_cut(text, sizeof text, fmt, ap); /* cut at the terminal width we assume */
    va_end(ap);
    pv_buf_appendf(b, "%s\x1b[K\r\n", text);
}

static void render(pv_tui *t)
{
    pv_agent *a = pv_phone_agent(t->phone);
    pv_agent_led led = pv_agent_get_led(a);
    bool on = pv__tui_led_on(led, uv_now(t->loop));
    const char *rule = "";
    pv_agent_get(a, PV_AGENT_ADMIN, "Profile_Rule", &rule);
    const char *mac = pv_agent_mac(a);
    pv_buf b = {0};
    pv_buf_append_str(&b, "\x1b[H");
    line(&b, "+------------------------------------------------------------+");
    line(&b, "| %-22s MAC %c%c:%c%c:%c%c:%c%c:%c%c:%c%c", pv_agent_model(a), mac[0], mac[1], mac[2],
         mac[3], mac[4], mac[5], mac[6], mac[7], mac[8], mac[9], mac[10], mac[11]);
    line(&b, "| Provisioning: %s", pv_agent_prov_state_name(pv_agent_get_prov_state(a)));
    line(&b, "| Status LED:   %s  %s", on ? "(*)" : "( )", pv_agent_led_name(led));
    line(&b, "| Line 1:       %s", pv_agent_registered(a, 1) ? "registered" : "not registered");
    line(&b, "| Firmware:     %s", pv_agent_swver(a));
    line(&b, "| Last resync:  %.44s", pv_phone_last_result(t->phone));
    line(&b, "| Profile_Rule: %.44s", rule ? rule : "");
    line(&b, "|");
    if (t->m == MODE_SETUP) {
        line(&b, "| Setup > Profile Rule  (protocol://server[:port]/path)");
        line(&b, "| > %s_", t->entry);
        line(&b, "| [Enter] save   [Esc] cancel");
    } else if (t->m == MODE_CONFIRM_RESET) {
        line(&b, "| Factory reset? press 1# to confirm, any other key cancels");
        line(&b, "|");
        line(&b, "|");
    } else {
        line(&b, "| [S] Setup   [R] Resync   [Q] Quit");
        line(&b, "|");
        line(&b, "|");
    }
    line(&b, "| %s", t->message);
    line(&b, "+------------------------------------------------------------+");
    pv_buf_append_str(&b, "\x1b[J");
    ssize_t w = write(t->out_fd, b.data, b.len);
    (void)w; /* a terminal that cannot take the frame gets the next one */
    pv_buf_free(&b);
}

static void setup_key(pv_tui *t, char c)
{
    pv_agent *a = pv_phone_agent(t->phone);
    if (c == 27) { /* Esc */
        t->m = MODE_MAIN;
        snprintf(t->message, sizeof t->message, "setup cancelled");
    } else if (c == '\r' || c == '\n') {
        pv_error err = {{0}};
        int rc =
            pv_agent_set(a, pv_phone_now(t->phone), PV_AGENT_ADMIN, "Profile_Rule", t->entry, &err);
        pv_phone_kick(t->phone); /* the engine queued PERSIST */
        if (rc == 0)
            snprintf(t->message, sizeof t->message, "Profile_Rule saved");
        else
            snprintf(t->message, sizeof t->message, "not saved: %.140s", err.msg);
        t->m = MODE_MAIN;
    } else if (c == 21) { /* Ctrl-U: clear the line */
        t->entry_len = 0;
        t->entry[0] = '\0';
    } else if (c == 127 || c == 8) {
        if (t->entry_len > 0)
            t->entry[--t->entry_len] = '\0';
    } else if (c >= 0x20 && c < 0x7f && t->entry_len < ENTRY_MAX) {
        t->entry[t->entry_len++] = c;
        t->entry[t->entry_len] = '\0';
    }
}

static void main_key(pv_tui *t, char c)
{
    pv_agent *a = pv_phone_agent(t->phone);
    size_t kl = strlen(t->keys);
    if (kl + 1 >= sizeof t->keys) {
        memmove(t->keys, t->keys + 1, kl);
        kl--;
    }
    t->keys[kl] = c;
    t->keys[kl + 1] = '\0';
    size_t il = strlen(IVR_RESET);
    if (kl + 1 >= il && strcmp(t->keys + kl + 1 - il, IVR_RESET) == 0) {
        t->m = MODE_CONFIRM_RESET;
        t->keys[0] = '\0';
        return;
    }
    if (c == 's' || c == 'S') {
        const char *rule = "";
        pv_agent_get(a, PV_AGENT_ADMIN, "Profile_Rule", &rule);
        snprintf(t->entry, sizeof t->entry, "%s", rule ? rule : "");
        t->entry_len = strlen(t->entry);
        t->m = MODE_SETUP;
        t->message[0] = '\0';
    } else if (c == 'r' || c == 'R') {
        pv_error err = {{0}};
        int rc = pv_agent_resync(a, pv_phone_now(t->phone), NULL, &err);
        pv_phone_kick(t->phone);
        snprintf(t->message, sizeof t->message, "%s%.140s",
                 rc == 0 ? "resync started" : "resync refused: ", rc == 0 ? "" : err.msg);
    } else if (c == 'q' || c == 'Q') {
        t->quit(t->quit_data);
    }
}

static void confirm_key(pv_tui *t, char c)
{
    size_t kl = strlen(t->keys);
    if (kl + 1 < sizeof t->keys) {
        t->keys[kl] = c;
        t->keys[kl + 1] = '\0';
    }
    if (strcmp(t->keys, "1") == 0)
        return; /* wait for '#' */
    if (strcmp(t->keys, "1#") == 0) {
        pv_error err;
        int rc = pv_agent_ivr_factory_reset(pv_phone_agent(t->phone), pv_phone_now(t->phone), &err);
        pv_phone_kick(t->phone);
        snprintf(
            t->message, sizeof t->message, "%s%.140s",
            rc == 0 ? "factory reset done" : "factory reset refused: ", rc == 0 ? "" : err.msg);
    } else {
        snprintf(t->message, sizeof t->message, "factory reset cancelled");
    }
    t->keys[0] = '\0';
    t->m = MODE_MAIN;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    static char space[256]; /* one tty, one loop thread: reads never overlap */
    (void)h;
    (void)suggested;
    *buf = uv_buf_init(space, sizeof space);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    pv_tui *t = s->data;
    if (n < 0) { /* the terminal went away */
        if (!t->closing)
            t->quit(t->quit_data);
        return;
    }
    for (ssize_t i = 0; i < n && !t->closing; i++) {
        char c = buf->base[i];
        if (c == 3) { /* Ctrl-C in raw mode */
            t->quit(t->quit_data);
            return;
        }
        if (t->m == MODE_SETUP)
            setup_key(t, c);
        else if (t->m == MODE_CONFIRM_RESET)
            confirm_key(t, c);
        else
            main_key(t, c);
    }
    if (!t->closing)
        render(t);
}

static void on_tick(uv_timer_t *h)
{
    render(h->data);
}

int pv_tui_new(uv_loop_t *loop, pv_phone *phone, int in_fd, int out_fd, void (*quit)(void *data),
               void *data, pv_tui **out, pv_error *err)
{
    if (uv_guess_handle(in_fd) != UV_TTY)
        return pv_error_set(err, PV_EINVAL, "--tui needs a terminal on standard input");
    pv_tui *t = pv_calloc(1, sizeof *t);
    t->loop = loop;
    t->phone = phone;
    t->out_fd = out_fd;
    t->quit = quit;
    t->quit_data = data;
    if (uv_tty_init(loop, &t->in, in_fd, 0) != 0) {
        free(t);
        return pv_error_set(err, PV_EIO, "cannot open the terminal");
    }
    t->in.data = t;
    uv_tty_set_mode(&t->in, UV_TTY_MODE_RAW); /* keys one by one, no echo */
    uv_read_start((uv_stream_t *)&t->in, on_alloc, on_read);
    uv_timer_init(loop, &t->timer);
    t->timer.data = t;
    uv_timer_start(&t->timer, on_tick, 0, 100);
    t->open_handles = 2;
    ssize_t w = write(out_fd, "\x1b[2J", 4); /* clear once; frames overwrite in place */
    (void)w;
    *out = t;
    return 0;
}

static void on_closed(uv_handle_t *h)
{
    pv_tui *t = h->data;
    if (--t->open_handles == 0)
        free(t);
}

void pv_tui_close(pv_tui *t)
{
    if (t->closing)
        return;
    t->closing = true;
    uv_tty_reset_mode(); /* the shell gets its cooked terminal back */
    ssize_t w = write(t->out_fd, "\r\n", 2);
    (void)w;
    uv_close((uv_handle_t *)&t->in, on_closed);
    uv_close((uv_handle_t *)&t->timer, on_closed);
}
