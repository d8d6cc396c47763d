/* fake_random: characters drawn from uv_random in pools of 64 bytes; a byte
 * at or above the largest multiple of the alphabet's size is drawn again, so
 * that every character is as likely as the others. */
#include "fake_random.h"

#include <string.h>
#include <uv.h>

static int random_from(const char *alphabet, char *out, size_t len)
{
    size_t size = strlen(alphabet);
    unsigned limit = 256 - 256 % (unsigned)size;
    unsigned char pool[64];
    size_t used = sizeof pool;
    for (size_t filled = 0; filled < len;) {
        if (used == sizeof pool) {
            if (uv_random(NULL, NULL, pool, sizeof pool, 0, NULL) != 0)
                return -1;
            used = 0;
        }
        unsigned char byte = pool[used++];
        if (byte < limit)
            out[filled++] = alphabet[byte % size];
    }
    out[len] = '\0';
    return 0;
}

int fake_random_text(char *out, size_t len)
{
    return random_from("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", out, len);
}

int fake_random_digits(char *out, size_t len)
{
    return random_from("0123456789", out, len);
}
