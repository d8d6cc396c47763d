/* crypto_fetch: the OpenSSL algorithms of the hot paths, fetched from the
 * provider once per process. OpenSSL 3 looks an algorithm up (under a lock)
 * on every init given EVP_aes_128_cbc() or a fresh EVP_MAC_fetch; with an
 * explicitly fetched one it does not. The fetched objects live as long as
 * the process and must not be freed. NULL when OpenSSL lacks one. */
#ifndef PAYMENTS_CRYPTO_FETCH_H
#define PAYMENTS_CRYPTO_FETCH_H

#include <openssl/evp.h>

typedef enum crypto_cipher_id {
    CRYPTO_AES_128_CBC,
    CRYPTO_AES_256_CBC,
    CRYPTO_AES_256_GCM,
    CRYPTO_CIPHER_COUNT,
} crypto_cipher_id;

const EVP_CIPHER *crypto_fetch_cipher(crypto_cipher_id id);
EVP_MAC *crypto_fetch_hmac(void);

#endif
