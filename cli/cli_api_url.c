/* cli_api_url: a deployment's dev and real APIs sit behind TLS (the
 * original's monitor speaks HTTPS to them); a local server, or a dev box
 * reached over a tunnel, speaks plain HTTP, which the setting allows. */
#include "cli_api_url.h"

#include "settings.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

int cli_api_url(const dotenv *env, const char *mode, const char *host, int port, char *out, size_t outlen, char *err,
                size_t errlen)
{
    char name[64];
    size_t used = (size_t)snprintf(name, sizeof name, "PAYMENT_API_SCHEME_");
    for (const char *p = mode; *p && used < sizeof name - 1; p++)
        name[used++] = (char)toupper((unsigned char)*p);
    name[used] = '\0';
    const char *scheme = settings_get(env, name, strcmp(mode, "local") == 0 ? "http" : "https");
    if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        snprintf(err, errlen, "%s must be http or https", name);
        return -1;
    }
    int n = snprintf(out, outlen, strchr(host, ':') ? "%s://[%s]:%d" : "%s://%s:%d", scheme, host, port);
    if (n < 0 || (size_t)n >= outlen) {
        snprintf(err, errlen, "the API address is too long");
        return -1;
    }
    return 0;
}
