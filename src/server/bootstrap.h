/*
 * bootstrap.h — what a factory-default phone gets (state MFG-RESET → SP-CUST,
 * spec 12.2 step 2).
 *
 * Out of the box a phone asks for its default Profile_Rule name (spec 1.3):
 * MPP `/$PSN.xml` (`/8841-3PCC.xml`, DESIGN: $PSN = model-3PCC), SPA
 * `/spa$PSN.cfg` (`/spa2102.cfg`, `/spa504G.cfg`), ATA191/192 MPP
 * `/ata$PSN.cfg` (`/ata191.cfg`), PAP2T `/init.cfg`; and, when pointed at us
 * by DHCP or by hand, `/$MA.xml` or `/$MA.cfg`. The answer is a small
 * profile that moves it to the provider: Profile_Rule = the bootstrap URL
 * (by default `https://HOST:PORT/$MA.xml`, where a phone with its
 * certificate gets its keys) plus the DESIGN 8 storm schedule, so that a
 * power cut that reboots ten thousand phones does not send them all at once
 * nor leave them waiting an hour after a failure.
 *
 * SPA phones (binding.h "legacy") trust only Cisco's server CA (spec 4.4), so
 * an HTTPS URL under our CA is a dead end for them: they get
 * `legacy_bootstrap_url` when the operator runs a listener they can verify,
 * else, with `legacy_plain_key`, `http://HOST:PORT/$MA.xml` (their first key
 * in the clear, once: docs/security.md), else the common bootstrap URL.
 */
#ifndef PV_SERVER_BOOTSTRAP_H
#define PV_SERVER_BOOTSTRAP_H

#include "core/buf.h"
#include "core/error.h"
#include "server/prov_policy.h"

#include <stdbool.h>
#include <stddef.h>

/*
 * True when path (with or without a leading '/') is a factory default rule
 * name; model (size bytes, may be NULL) receives the model it implies
 * ("CP-8841-3PCC", "SPA2102", "ATA191", "PAP2T").
 */
bool pv_bootstrap_path(pv_slice path, char *model, size_t size);

/* Appends the bootstrap XML profile for a phone of model (may be NULL or ""). */
int pv_bootstrap_profile(const pv_prov_policy *pol, const char *host, const char *model,
                         pv_buf *out, pv_error *err);

#endif
