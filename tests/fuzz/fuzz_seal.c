/* Fuzz target of sealed values, as they come back from the database: an
 * even first byte hands the rest to seal_open (current "v1.<id>.<...>"
 * values under a two-key ring, and the original server's AES-CBC form); an
 * odd one seals the rest and checks that it opens to the same bytes. */
#include "fuzz_seal.h"
#include "fuzz_text.h"
#include "seal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static seal_ring ring;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (seal_ring_add(&ring, FUZZ_SEAL_KEY, FUZZ_SEAL_IV, FUZZ_SEAL_LABEL) != 0 ||
        seal_ring_add(&ring, FUZZ_SEAL_OLD_KEY, FUZZ_SEAL_OLD_IV, FUZZ_SEAL_LABEL) != 0)
        abort();
    return 0;
}

static void open_text(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    size_t len = 0;
    unsigned char *plain = seal_open(&ring, text, &len);
    if (plain && plain[len] != '\0')
        abort();
    (void)seal_authenticated(text);
    free(plain);
    free(text);
}

static void round_trip(const uint8_t *plain, size_t size)
{
    char *sealed = seal_value(&ring, plain, size);
    if (!sealed || !seal_authenticated(sealed))
        abort();
    size_t len = 0;
    unsigned char *opened = seal_open(&ring, sealed, &len);
    if (!opened || len != size || memcmp(opened, plain, size) != 0)
        abort();
    free(opened);
    free(sealed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 0)
        (data[0] & 1 ? round_trip : open_text)(data + 1, size - 1);
    return 0;
}
