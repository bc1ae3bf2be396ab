/*
 * rule.h — Profile_Rule, Upgrade_Rule and Report_Rule (spec 1, 6, 7.1).
 *
 * A profile rule is alternatives separated by `|`, each
 * `[ ( cond )? ] [ ( Name = "v" ; ... )! ] [ [options] url ]`; every
 * alternative but the last must carry a condition, and the first whose
 * condition holds (or that has none) is chosen (spec 1.1). An upgrade rule is
 * the same without options; on multiplatform phones its URLs must name a
 * server (spec 1.2, 6), older ones take the DHCP server's. A report rule
 * is one or two `[options] url` targets separated by white space or `;`, with
 * `--delta`, `--status`, `--key`, `--uid`, `--pwd` (spec 7.1). A value that
 * starts with `#` is commented out (spec 1.6).
 *
 * pv_rule_eval() follows spec 1.7: expand macros over the whole rule once
 * (SA..SD left literal), parse every alternative (so a syntax error anywhere
 * is reported, with its column in the expanded text and what was expected),
 * then evaluate conditions left to right. Arguments of --key/--uid/--pwd get a
 * second pass that expands only SA..SD. Single-letter assignment names a..p
 * are returned as GPP_A..GPP_P.
 *
 * The caller owns the pv_rule_result and must pass it to pv_rule_result_free()
 * whatever pv_rule_eval() returned; `expanded` is set even on a syntax error,
 * so that the column in the message can be shown against it.
 */
#ifndef PV_CORE_RULE_H
#define PV_CORE_RULE_H

#include "core/buf.h"
#include "core/error.h"
#include "core/macro.h"
#include "core/url.h"

#include <stdbool.h>
#include <stddef.h>

/* Longest rule accepted after macro expansion (bounded memory on any input). */
#define PV_RULE_MAX ((size_t)65536)
/* Most alternatives and most assignments in one alternative. */
#define PV_RULE_MAX_ALTERNATIVES 256
#define PV_RULE_MAX_ASSIGNMENTS 256
/* spec 7.1: a Report_Rule holds up to two rules. */
#define PV_RULE_MAX_TARGETS 2

typedef enum { PV_RULE_PROFILE, PV_RULE_UPGRADE, PV_RULE_REPORT } pv_rule_kind;

typedef enum {
    PV_RULE_SELECTED, /* an alternative was chosen (report: its targets parsed) */
    PV_RULE_NO_MATCH, /* every alternative has a condition and none holds */
    PV_RULE_EMPTY,    /* blank or commented out: the rule is skipped (spec 1.3) */
} pv_rule_outcome;

typedef struct pv_rule_assign {
    char *name;  /* element name; a..p given as GPP_A..GPP_P */
    char *value; /* macro-expanded */
} pv_rule_assign;

typedef struct pv_rule_options {
    char *key, *uid, *pwd; /* NULL when absent; SA..SD expanded (spec 2.2) */
    char post, alias;      /* 'a'..'p' (GPP register) or 0 */
    bool srv, delta, status;
} pv_rule_options;

typedef struct pv_rule_target {
    bool has_options;
    pv_rule_options opts;
    bool has_url;
    pv_url url;
} pv_rule_target;

typedef struct pv_rule_result {
    pv_rule_kind kind;
    pv_rule_outcome outcome;
    bool commented;         /* starts with '#' (spec 1.6) */
    char *expanded;         /* the rule after the one macro pass */
    size_t nalternatives;   /* parsed (report: targets) */
    size_t chosen;          /* 1-based index of the chosen alternative; 0 if none */
    bool chosen_conditional; /* the chosen alternative has a ( ... )? condition */
    pv_rule_assign *assign; /* of the chosen alternative */
    size_t nassign;
    pv_rule_target targets[PV_RULE_MAX_TARGETS]; /* profile/upgrade: at most one */
    size_t ntargets;
} pv_rule_result;

/*
 * Expands, parses and evaluates rule. Returns 0 with out->outcome telling what
 * happened, or a negative code: PV_ESYNTAX (column and expectation in err),
 * PV_EINVAL/PV_EFORMAT (a condition that cannot be evaluated), PV_ETOOBIG.
 */
int pv_rule_eval(pv_rule_kind kind, pv_slice rule, const pv_macro_env *env, pv_rule_result *out,
                 pv_error *err);

/* Flags of pv_rule_eval_flags(). */
enum {
    /* spec 1.2: a multiplatform (MPP phone, ATA 19x) Upgrade_Rule must name
     * its server; SPA and Sipura ones may use the DHCP server's
     * (`/spa2000/1-00-02/spa.bin`). */
    PV_RULE_UPGRADE_NEEDS_SERVER = 1u << 0,
};

/* pv_rule_eval() with flags: a bitwise or of PV_RULE_UPGRADE_NEEDS_SERVER. */
int pv_rule_eval_flags(pv_rule_kind kind, unsigned flags, pv_slice rule, const pv_macro_env *env,
                       pv_rule_result *out, pv_error *err);

void pv_rule_result_free(pv_rule_result *r);

const char *pv_rule_kind_name(pv_rule_kind k);       /* "profile", "upgrade", "report" */
const char *pv_rule_outcome_name(pv_rule_outcome o); /* "selected", "no-match", "empty" */

#endif
