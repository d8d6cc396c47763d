/* fake_state: the state is one zeroed allocation whose store members the spec
 * names by offset (as nginx names configuration fields), so a fake declares
 * its stores in a table instead of writing their set-up and tear-down. */
#include "fake_state.h"

#include <stdlib.h>

static fake_store **state_store(void *state, const fake_store_slot *slot)
{
    return (fake_store **)((char *)state + slot->offset);
}

int fake_state_create(fake_server *fs, const fake_server_spec *spec)
{
    if (spec->state_size == 0)
        return 0;
    fs->vendor = calloc(1, spec->state_size);
    if (!fs->vendor)
        return -1;
    const fake_settings *settings = &fs->settings;
    for (size_t i = 0; i < spec->store_count; i++) {
        const fake_store_slot *slot = &spec->stores[i];
        uint64_t ttl_ms = slot->lifetime == FAKE_LIFETIME_TOKEN ? settings->token_ttl_ms : settings->ttl_ms;
        /* Tokens expire on read in every mode: a client must see its token
         * refused once its lifetime is over, as with the original fakes. */
        fake_store_expiry expiry =
            slot->lifetime == FAKE_LIFETIME_TOKEN || settings->strict ? FAKE_EXPIRY_ON_READ : FAKE_EXPIRY_ON_STORE;
        fake_store *store = fake_store_create(settings->capacity, ttl_ms, expiry);
        if (!store) {
            fake_state_destroy(fs, spec);
            return -1;
        }
        *state_store(fs->vendor, slot) = store;
    }
    return 0;
}

void fake_state_destroy(fake_server *fs, const fake_server_spec *spec)
{
    if (!fs->vendor)
        return;
    for (size_t i = 0; i < spec->store_count; i++)
        fake_store_destroy(*state_store(fs->vendor, &spec->stores[i]));
    free(fs->vendor);
    fs->vendor = NULL;
}
