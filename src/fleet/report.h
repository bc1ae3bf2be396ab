/*
 * report.h — what a fleet run tells people and machines: a text report, a
 * JSON document (--json) and a plot of arrivals, completions and latency
 * over time, as SVG (written here) and PNG (rendered from the SVG by
 * `rsvg-convert`, Debian's librsvg2-bin, when it is installed).
 *
 * The SVG is ours so that the plot needs no library and reads well in a
 * browser or a pull request; the PNG is a convenience for tools that do not
 * show SVG, so it is made by an external renderer rather than by a
 * rasterizer of our own (docs/fleet.md, docs/architecture.md).
 *
 * Ownership: output buffers and files belong to the caller.
 */
#ifndef PV_FLEET_REPORT_H
#define PV_FLEET_REPORT_H

#include "core/buf.h"
#include "core/error.h"
#include "fleet/fleet.h"

void pv_fleet_report_text(const pv_fleet *f, pv_buf *out);
/* One JSON object (jansson, compact keys documented in docs/fleet.md). */
void pv_fleet_report_json(const pv_fleet *f, pv_buf *out);
void pv_fleet_report_svg(const pv_fleet *f, pv_buf *out);

/*
 * Writes report.txt, report.json, plot.svg and, when rsvg-convert is
 * found, plot.png into dir (created if missing). *png_made tells whether
 * the PNG was written.
 */
int pv_fleet_report_write(const pv_fleet *f, const char *dir, bool *png_made, pv_error *err);

#endif
