/*
 * firmware.h — upgrade plans to Upgrade_Rule (spec 6) and firmware downloads.
 *
 * A plan (store.h pv_store_plan) names a model's target version and the
 * direct steps that are allowed, `[["A","B"],["B","C"]]`, when the vendor
 * does not allow a jump from A to C. The planner walks the steps back from
 * the target into a chain A → B → C and writes one alternative per stage,
 * ordered by version, each guarded by an unquoted `$SWVER` comparison (spec
 * 1.4: unquoted $SWVER is compared as a version):
 *
 *   ($SWVER lt B)? http://HOST/firmware/B.loads | ($SWVER lt C)? http://HOST/firmware/C.loads
 *
 * A phone on A takes B; after the reboot and the next resync, on B, it takes
 * C; on C no alternative holds and the rule selects nothing (no upgrade). The
 * images are the registered ones (store firmware, served from
 * `<data>/firmware/` with a `.loads` manifest's files side by side). Upgrade
 * rules must name a server (spec 1.2), hence the absolute base URL.
 */
#ifndef PV_SERVER_FIRMWARE_H
#define PV_SERVER_FIRMWARE_H

#include "core/buf.h"
#include "core/error.h"
#include "store/store.h"

#include <stddef.h>

/* URL path under which images are served: "/firmware/<file_name>". */
#define PV_FIRMWARE_PREFIX "/firmware/"

/*
 * Appends the Upgrade_Rule for plan to rule, with images (n of them, the
 * model's registered images) as download targets under base_url (e.g.
 * "http://prov.example.net:8080"). Errors name the plan's model and say what
 * is wrong: a step that goes down, a chain that does not reach the target, a
 * version without a registered image, a version the rule engine cannot parse.
 */
int pv_firmware_upgrade_rule(const pv_store_plan *plan, const pv_store_firmware *images, size_t n,
                             const char *base_url, pv_buf *rule, pv_error *err);

/* The same from the store: PV_ENOENT when the model has no plan. */
int pv_firmware_rule_for_model(pv_store *s, const char *model, const char *base_url, pv_buf *rule,
                               pv_error *err);

/* The same for a plan given as a value (a rollout's copy of the plan). */
int pv_firmware_rule_for_plan(pv_store *s, const pv_store_plan *plan, const char *base_url,
                              pv_buf *rule, pv_error *err);

/* A rollback (rollout.h): `($SWVER gt V)? <base>/firmware/<image of V>`. */
int pv_firmware_rollback_rule(pv_store *s, const char *model, const char *version,
                              const char *base_url, pv_buf *rule, pv_error *err);
/* The same among the model's images in hand (n of them: a render read them). */
int pv_firmware_rollback_rule_in(const pv_store_firmware *images, size_t n, const char *model,
                                 const char *version, const char *base_url, pv_buf *rule,
                                 pv_error *err);

#endif
