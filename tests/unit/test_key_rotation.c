/* Unit tests of key rotation: a ring of the current and previous keys
 * (opens what either sealed, seals with the current one) and a record
 * password under the previous password secret. The settings' forms are
 * tested with the rest of the configuration (test_dotenv_config.c). */
#include "config.h"
#include "password.h"
#include "seal_columns.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>

static const char *required[][2] = {
    {"PAYMENT_MODE", "local"},
    {"PAYMENT_SYSTEM_PASSWORD", "secret"},
    {"PAYMENT_CONNECTION_ENCRYPTION_KEY", "connection-key-B"},
    {"PAYMENT_CONNECTION_ENCRYPTION_IV", "connection-iv-B1"},
    {"PAYMENT_HISTORY_ENCRYPTION_KEY", "history-key-B-0123456789abcdef01"},
    {"PAYMENT_HISTORY_ENCRYPTION_IV", "history-iv-B-012"},
    {"PAYMENT_RESERVATION_ENCRYPTION_KEY", "reservation-keyB"},
    {"PAYMENT_RESERVATION_ENCRYPTION_IV", "reservation-ivB1"},
    {"PAYMENT_CANCEL_HISTORY_ENCRYPTION_KEY", "cancel-key-B-012"},
    {"PAYMENT_CANCEL_HISTORY_ENCRYPTION_IV", "cancel-iv-B-0123"},
};

static const char *const rotation_names[] = {
    "PAYMENT_HISTORY_ENCRYPTION_KEYS_PREVIOUS",
    "PAYMENT_RESERVATION_ENCRYPTION_KEYS_PREVIOUS",
    "PAYMENT_CANCEL_HISTORY_ENCRYPTION_KEYS_PREVIOUS",
    "PAYMENT_PASSWORD_SECRET_PREVIOUS",
    "PAYMENT_CONNECTION_ENCRYPTION_KEY_PREVIOUS",
    "PAYMENT_CONNECTION_ENCRYPTION_IV_PREVIOUS",
    "PAYMENT_CONNECTION_KEY_GRACE_UNTIL",
};

static bool set_required(void)
{
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        setenv(required[i][0], required[i][1], 1);
    for (size_t i = 0; i < sizeof rotation_names / sizeof rotation_names[0]; i++)
        unsetenv(rotation_names[i]);
    setenv("PAYMENT_ENV_FILE", "", 1);
    return true;
}

static const unit_fixture rotation_environment = {"required settings", set_required, NULL};

UNIT_CASE(ring_opens_previous_keys, &rotation_environment)
{
    cfg c;
    char err[256] = "";
    seal_ring old_ring, rotated;
    /* Keys A current: a value sealed then. */
    setenv("PAYMENT_HISTORY_ENCRYPTION_KEY", "history-key-A-0123456789abcdef01", 1);
    setenv("PAYMENT_HISTORY_ENCRYPTION_IV", "history-iv-A-012", 1);
    CHECK(cfg_load(&c, err, sizeof err) == 0);
    CHECK(seal_ring_configure(&old_ring, &c, SEAL_RING_HISTORY) == 0);
    cfg_free(&c);
    char *under_a = seal_value(&old_ring, "{\"a\":1}", 7);
    CHECK(under_a != NULL);
    /* Rotated: B current, A previous. */
    set_required();
    setenv("PAYMENT_HISTORY_ENCRYPTION_KEYS_PREVIOUS", "history-key-A-0123456789abcdef01:history-iv-A-012", 1);
    CHECK(cfg_load(&c, err, sizeof err) == 0);
    CHECK(seal_ring_configure(&rotated, &c, SEAL_RING_HISTORY) == 0);
    cfg_free(&c);
    CHECK(rotated.count == 2);
    size_t len = 0;
    unsigned char *plain = seal_open(&rotated, under_a, &len);
    CHECK(plain && len == 7 && memcmp(plain, "{\"a\":1}", 7) == 0);
    free(plain);
    char *under_b = seal_value(&rotated, "{\"b\":2}", 7);
    CHECK(under_b && strncmp(under_b + 3, rotated.keys[0].id, 8) == 0);
    CHECK(strncmp(under_a + 3, old_ring.keys[0].id, 8) == 0);
    /* The old ring alone cannot open what the new key sealed. */
    CHECK(seal_open(&old_ring, under_b, &len) == NULL);
    free(under_a);
    free(under_b);
    seal_ring_clear(&old_ring);
    seal_ring_clear(&rotated);
}

UNIT_CASE(password_under_previous_secret, NULL)
{
    password_secret old_secret, new_secret;
    CHECK(password_secret_init(&old_secret, "password-secret-A-0123456789abcdef") == 0);
    CHECK(password_secret_init(&new_secret, "password-secret-B-0123456789abcdef") == 0);
    char *hash = password_hash(&old_secret, "record-password");
    CHECK(hash != NULL);
    CHECK(password_matches(&old_secret, hash, "record-password"));
    CHECK(!password_matches(&new_secret, hash, "record-password"));
    CHECK(!password_matches(&old_secret, hash, "another-password"));
    CHECK(!password_matches(&old_secret, "$2b$10$notours", "record-password"));
    free(hash);
    password_secret_clear(&old_secret);
    password_secret_clear(&new_secret);
}
