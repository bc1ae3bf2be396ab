/* models.c — the table of known models; see models.h. */
#include "server/models.h"

#include "server/prov_policy.h"

#include <strings.h>

/* The families whose guides the reference rests on (spec 0): SPA and PAP2T
 * adapters and phones, the ATA19x, the multiplatform (3PCC) phones. */
static const char *const builtin[] = {
    "PAP2T",        "SPA1001",      "SPA2002",      "SPA2102",      "SPA3102",      "SPA8000",
    "SPA9000",      "SPA100",       "SPA112",       "SPA122",       "SPA200",       "SPA301",
    "SPA303",       "SPA501G",      "SPA502G",      "SPA504G",      "SPA508G",      "SPA509G",
    "SPA512G",      "SPA514G",      "SPA525G",      "SPA525G2",     "SPA901",       "SPA921",
    "SPA922",       "SPA941",       "SPA942",       "SPA962",       "WIP310",       "ATA191",
    "ATA192",       "ATA191-MPP",   "ATA192-MPP",   "CP-6821-3PCC", "CP-6841-3PCC", "CP-6851-3PCC",
    "CP-6861-3PCC", "CP-6871-3PCC", "CP-7811-3PCC", "CP-7821-3PCC", "CP-7832-3PCC", "CP-7841-3PCC",
    "CP-7861-3PCC", "CP-8811-3PCC", "CP-8832-3PCC", "CP-8841-3PCC", "CP-8845-3PCC", "CP-8851-3PCC",
    "CP-8861-3PCC", "CP-8865-3PCC",
};

bool pv_model_known(const char *model, const char *extra)
{
    if (model == NULL || model[0] == '\0')
        return false;
    for (unsigned i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
        if (strcasecmp(model, builtin[i]) == 0)
            return true;
    return extra != NULL && extra[0] != '\0' && pv_prov_model_in(extra, model);
}
