/* secret_strength: a password that appears in examples, tests or habit is
 * the first one an attacker tries, whatever its length, so length alone is
 * not enough; the list holds the defaults people actually leave in place. */
#include "secret_strength.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Shorter defaults ("password", "changeme", "admin") already fail the length
 * rule; these are the long ones, the test suites' included. */
static const char *const known_defaults[] = {
    "test-system-password", "your-system-password", "system-password-here", "change-this-password",
    "passwordpassword",     "password1234567890",   "changemechangeme",     "adminadminadminadmin",
    "secretsecretsecret",   "0123456789abcdef",     "1234567890123456",     "12345678901234567890",
    "abcdefghijklmnop",     "qwertyuiopasdfgh",     "payments-password",    "payments-system-password",
};

static int is_known_default(const char *password)
{
    for (size_t i = 0; i < sizeof known_defaults / sizeof known_defaults[0]; i++)
        if (strcasecmp(password, known_defaults[i]) == 0)
            return 1;
    return 0;
}

/* One character repeated ("aaaaaaaaaaaaaaaa") meets any length rule. */
static int is_one_character(const char *password)
{
    return password[0] && strspn(password, (char[]){password[0], '\0'}) == strlen(password);
}

int secret_strength_password(const char *name, const char *password, char *err, size_t errlen)
{
    if (strlen(password) < SECRET_STRENGTH_PASSWORD_MIN) {
        snprintf(err, errlen, "%s must be at least %d characters in dev and real mode", name,
                 SECRET_STRENGTH_PASSWORD_MIN);
        return -1;
    }
    if (is_known_default(password) || is_one_character(password)) {
        snprintf(err, errlen, "%s is a well-known default; dev and real mode need a random one", name);
        return -1;
    }
    return 0;
}

int secret_strength_key(const char *name, const char *secret, char *err, size_t errlen)
{
    if (strlen(secret) < SECRET_STRENGTH_KEY_MIN) {
        snprintf(err, errlen, "%s must be at least %d characters in dev and real mode (e.g. openssl rand -hex 32)",
                 name, SECRET_STRENGTH_KEY_MIN);
        return -1;
    }
    return 0;
}
