/* crypto_fetch: one pthread_once fetches everything, so the thread pool
 * (which hashes passwords) and the loop may ask first at the same time. */
#include "crypto_fetch.h"

#include <pthread.h>

static EVP_CIPHER *ciphers[CRYPTO_CIPHER_COUNT];
static EVP_MAC *hmac;
static pthread_once_t fetched = PTHREAD_ONCE_INIT;

static void fetch_all(void)
{
    static const char *const names[CRYPTO_CIPHER_COUNT] = {"AES-128-CBC", "AES-256-CBC", "AES-256-GCM"};
    for (int i = 0; i < CRYPTO_CIPHER_COUNT; i++)
        ciphers[i] = EVP_CIPHER_fetch(NULL, names[i], NULL);
    hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

const EVP_CIPHER *crypto_fetch_cipher(crypto_cipher_id id)
{
    if (id < 0 || id >= CRYPTO_CIPHER_COUNT || pthread_once(&fetched, fetch_all) != 0)
        return NULL;
    return ciphers[id];
}

EVP_MAC *crypto_fetch_hmac(void)
{
    return pthread_once(&fetched, fetch_all) == 0 ? hmac : NULL;
}
