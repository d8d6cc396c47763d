/* The vendors this server speaks to. Adding a vendor is writing its adapter
 * files and adding one line here; nothing else in the worker changes: the
 * API's vendor union, the stores file, the settings and the webhook routes
 * all come from this table. */
#include "vendor_internal.h"

#include "iamport.h"
#include "inicis.h"
#include "toss.h"

#include <string.h>

static const vendor_adapter *const vendor_adapters[] = {
    &iamport_adapter,
    &toss_adapter,
    &inicis_adapter,
};

#define VENDOR_COUNT (sizeof vendor_adapters / sizeof vendor_adapters[0])

size_t vendor_count(void)
{
    return VENDOR_COUNT;
}

const vendor_adapter *vendor_at(size_t i)
{
    return i < VENDOR_COUNT ? vendor_adapters[i] : NULL;
}

const vendor_adapter *vendor_find(const char *code)
{
    for (size_t i = 0; code && i < VENDOR_COUNT; i++)
        if (strcmp(vendor_adapters[i]->code, code) == 0)
            return vendor_adapters[i];
    return NULL;
}

const vendor_adapter *vendor_find_webhook(const char *name)
{
    for (size_t i = 0; name && i < VENDOR_COUNT; i++)
        if (strcmp(vendor_adapters[i]->webhook_name, name) == 0)
            return vendor_adapters[i];
    return NULL;
}

const char *const *vendor_codes(void)
{
    /* Filled from the table itself, so that no list of codes repeats it. */
    static const char *codes[VENDOR_COUNT + 1];
    if (!codes[0])
        for (size_t i = 0; i < VENDOR_COUNT; i++)
            codes[i] = vendor_adapters[i]->code;
    return codes;
}
