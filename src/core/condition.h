/*
 * condition.h — the conditional expressions of rules and triggers (spec 1.4).
 *
 * A condition is comparisons joined by `and`; all must hold. Operators are
 * `=`/`eq`, `!=`/`ne`, `<`/`lt`, `<=`/`le`, `>`/`gt`, `>=`/`ge`, and the
 * legacy `!` alone for `!=`. Operands are double-quoted strings (eq/ne only),
 * integers (`-1`, `300`) or versions (`2.0.6(b)`, `sip88xx.11-3-1MPP-678`).
 * Two integers compare as integers; otherwise unquoted operands compare as
 * versions, so `$SWVER` written unquoted is a version and `"$SWVER"` a string.
 * Legacy rules leave out the left operand (`! 1.0.33`, `<1.0`): it is then
 * the device's software version.
 *
 * Text is given already macro-expanded. Parsing and evaluating are separate
 * so that a rule is checked whole before any alternative is chosen; a parsed
 * pv_condition borrows the text it was parsed from (slices into it) and owns
 * only its term array (pv_condition_free).
 *
 * Columns in messages are 1-based positions in the caller's text: the caller
 * passes the offset of the condition within it (col_base, 0 for a bare
 * Resync_Trigger).
 */
#ifndef PV_CORE_CONDITION_H
#define PV_CORE_CONDITION_H

#include "core/buf.h"
#include "core/error.h"
#include "core/macro.h"

#include <stdbool.h>
#include <stddef.h>

/* Most comparisons in one condition; more is PV_ETOOBIG (bounded memory). */
#define PV_CONDITION_MAX_TERMS 64

typedef enum {
    PV_COND_EQ,
    PV_COND_NE,
    PV_COND_LT,
    PV_COND_LE,
    PV_COND_GT,
    PV_COND_GE,
} pv_cond_op;

typedef struct pv_cond_operand {
    pv_slice text; /* without the quotes */
    bool quoted;   /* a string */
    bool implied;  /* legacy: no left operand, means the software version */
    size_t col;    /* 1-based column in the caller's text */
} pv_cond_operand;

typedef struct pv_cond_term {
    pv_cond_operand left, right;
    pv_cond_op op;
    size_t op_col;
} pv_cond_term;

typedef struct pv_condition {
    pv_cond_term *terms;
    size_t nterms;
} pv_condition;

/*
 * Mode for pv_condition_parse: PV_COND_BARE parses the whole of text (a
 * Resync_Trigger); PV_COND_WRAPPED expects text to start right after the
 * '(' of a rule's `( ... )?` and stops after the `)?`, storing in *used the
 * bytes consumed (including the `)?`).
 */
typedef enum { PV_COND_BARE, PV_COND_WRAPPED } pv_cond_mode;

int pv_condition_parse(pv_slice text, pv_cond_mode mode, size_t col_base, pv_condition *out,
                       size_t *used, pv_error *err);

/*
 * Evaluates c. swver is the device's software version, used for implied left
 * operands. Fails (PV_EINVAL / PV_EFORMAT) when operands cannot be compared:
 * a string with a number, `lt` on strings, an SPA with an MPP version.
 */
int pv_condition_eval(const pv_condition *c, pv_slice swver, bool *result, pv_error *err);

void pv_condition_free(pv_condition *c);

/* Parses a bare condition (a Resync_Trigger) and evaluates it. */
int pv_condition_test(pv_slice text, pv_slice swver, bool *result, pv_error *err);

/*
 * A Resync_Trigger_1/2 value as stored (spec 5.1, 5.4): expands macros once
 * with env, then evaluates the bare condition with $SWVER from env. *set is
 * false, and *result false, when the value is blank or starts with '#'
 * (spec 1.6) — the trigger is not configured; what that means (fire on the
 * timer, SPA; or no gate, MPP) is the caller's business.
 */
int pv_condition_trigger(pv_slice text, const pv_macro_env *env, bool *set, bool *result,
                         pv_error *err);

const char *pv_cond_op_name(pv_cond_op op);

#endif
