/* Crypto: AES-CBC with PKCS#7 padding and base64, byte-compatible with the
 * original server (key and IV used as raw ASCII bytes; 16-byte key: AES-128,
 * 32-byte key: AES-256), through OpenSSL EVP. */
#ifndef PAYMENTS_CRYPTO_H
#define PAYMENTS_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

typedef struct crypto_cbc_key {
    unsigned char key[32];
    size_t key_len; /* 16 or 32 */
    unsigned char iv[16];
} crypto_cbc_key;

/* Returns 0, or -1 when the lengths are wrong. */
int crypto_cbc_key_init(crypto_cbc_key *k, const char *key, const char *iv);
/* Wipes the key material (OPENSSL_cleanse); call before the key goes away. */
void crypto_cbc_key_clear(crypto_cbc_key *k);
/* Wipes a secret string (a password, a shared secret) and frees it, so that
 * it does not linger in freed memory; NULL is fine. */
void crypto_secret_free(char *secret);

/* base64(AES-CBC(plain)). Returns a NUL-terminated malloc'd string (length in
 * *out_len when not NULL), or NULL. */
char *crypto_cbc_encrypt_base64(const crypto_cbc_key *k, const void *plain, size_t len, size_t *out_len);
/* Inverse; NULL on bad base64, bad padding or wrong key. The result is
 * NUL-terminated (not counted in *out_len). CBC carries no MAC: a wrong key is
 * caught by the padding check only, which about 1 in 256 wrong keys pass;
 * callers must still validate what they decrypted (e.g. parse it as JSON). */
unsigned char *crypto_cbc_decrypt_base64(const crypto_cbc_key *k, const char *text, size_t len, size_t *out_len);
/* The same for cipher text already decoded from base64. */
unsigned char *crypto_cbc_decrypt(const crypto_cbc_key *k, const unsigned char *cipher_text, size_t cipher_len,
                                  size_t *out_len);
/* Every block of cipher_text decrypted, padding included and unchecked:
 * cipher_len bytes, malloc'd and NUL-terminated (not counted); NULL when
 * cipher_len is not a whole number of blocks. For a caller that must not
 * reveal whether the padding held (a padding oracle decrypts any captured
 * body): it checks the padding with crypto_pkcs7_unpadded_length. */
unsigned char *crypto_cbc_decrypt_unpadded(const crypto_cbc_key *k, const unsigned char *cipher_text,
                                           size_t cipher_len);
/* The length of plain (len bytes, whole blocks) without its PKCS#7 padding,
 * and in *valid whether that padding is well formed. Takes the same time
 * whatever the bytes hold; when the padding is not valid, returns len, so
 * that the caller can go on with the same work over the same bytes. */
size_t crypto_pkcs7_unpadded_length(const unsigned char *plain, size_t len, bool *valid);

/* Standard base64 with padding. Encode returns a NUL-terminated malloc'd string. */
char *crypto_base64_encode(const void *data, size_t len, size_t *out_len);
/* Accepts padded or unpadded input, ignores surrounding whitespace; NULL when
 * invalid. Result is NUL-terminated (not counted). */
unsigned char *crypto_base64_decode(const char *text, size_t len, size_t *out_len);

#endif
