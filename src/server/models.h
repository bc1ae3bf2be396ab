/*
 * models.h — the phone and adapter models Provisor knows (issue 13: a bulk
 * import took any model, so a typo became a device whose model layer and
 * firmware plan never applied).
 *
 * The built-in table lists the Cisco SPA/PAP2T, ATA and multiplatform (3PCC)
 * models the reference describes; a provider with others adds them in the
 * configuration: `[provisioning] known_models = MODEL, MODEL` (a comma list,
 * docs/configuration.md). Names compare case-insensitively. Stateless.
 */
#ifndef PV_SERVER_MODELS_H
#define PV_SERVER_MODELS_H

#include <stdbool.h>

/* True when model is in the built-in table or in extra (a comma list; may be NULL). */
bool pv_model_known(const char *model, const char *extra);

#endif
