/* fake_settings: how a fake's settings are read. Defaults first, then
 * <PREFIX>* environment variables, then flags, so a flag wins over the
 * environment; every value is checked and a bad one is named in one line. */
#ifndef PAYMENTS_FAKE_SETTINGS_H
#define PAYMENTS_FAKE_SETTINGS_H

#include "fake_server.h"

#define FAKE_DEFAULT_HOST "127.0.0.1"
#define FAKE_DEFAULT_TTL_MS 180000u
#define FAKE_DEFAULT_CAPACITY 1000u
#define FAKE_DEFAULT_TOKEN_TTL_MS 1800000u

typedef enum fake_settings_outcome {
    FAKE_SETTINGS_RUN,   /* settings are complete: start the server */
    FAKE_SETTINGS_HELP,  /* usage was printed: exit 0 */
    FAKE_SETTINGS_ERROR, /* one line went to stderr: exit 2 */
} fake_settings_outcome;

/* Fills out (which owns its strings afterwards, also on error). */
fake_settings_outcome fake_settings_load(fake_settings *out, int argc, char **argv, const fake_server_spec *spec);
void fake_settings_free(fake_settings *settings);

#endif
