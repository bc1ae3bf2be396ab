/*
 * tui.h — `provisor phone --tui`: the phone's screen and keypad on a
 * terminal, in plain ANSI (no curses).
 *
 * The screen shows the model, MAC, provisioning state, the status indicator
 * blinking in real time with the two patterns of the origin chapter (server
 * unreachable: 1.0 s on, 1.0 s off; file missing or corrupt: 0.2 on, 0.2 off,
 * 0.2 on, 1.4 off), the firmware, Profile_Rule and the last resync result.
 * Keys, read raw from the tty: S = Setup → Profile Rule entry
 * (`protocol://server[:port]/path`, defaults of spec 1.2; Enter saves, Esc
 * cancels, Ctrl-U clears), R = Resync, Q = quit; the ATA IVR sequence `****73738#` asks for
 * a factory reset (spec 12.2), confirmed with `1#`.
 *
 * Ownership: the caller owns the loop and the phone; the tui owns its tty,
 * its timer and the terminal modes it changed (restored on close).
 */
#ifndef PV_PHONE_TUI_H
#define PV_PHONE_TUI_H

#include "phone/phone.h"
#include "core/error.h"

#include <uv.h>

typedef struct pv_tui pv_tui;

/* in_fd must be a terminal; quit runs when the user presses Q. */
int pv_tui_new(uv_loop_t *loop, pv_phone *phone, int in_fd, int out_fd, void (*quit)(void *data),
               void *data, pv_tui **out, pv_error *err);
void pv_tui_close(pv_tui *t);

/* ---- exposed for the unit test ---- */

/* Is the indicator lit at ms into its pattern? (steady: always) */
bool pv__tui_led_on(pv_agent_led led, uint64_t ms);

#endif
