/* The vendors this server speaks to. Adding a vendor is writing its adapter
 * file and adding one line here; nothing else in the worker changes. */
#include "vendor_internal.h"

#include <string.h>

static const vendor_adapter *const vendor_adapters[] = {
    &iamport_adapter,
    &toss_adapter,
};

const vendor_adapter *vendor_find(const char *code)
{
    for (size_t i = 0; code && i < sizeof vendor_adapters / sizeof vendor_adapters[0]; i++)
        if (strcmp(vendor_adapters[i]->code, code) == 0)
            return vendor_adapters[i];
    return NULL;
}
