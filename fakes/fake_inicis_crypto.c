/* The two pieces of cryptography INIAPI asks of a merchant: hashData, a hex
 * SHA-512 over the INIAPI key and the request's fields, and the [ENC]
 * fields (a refund account number), AES-128-CBC with the INIAPI key and IV
 * as raw bytes, PKCS#7, base64 (manual.inicis.com/iniapi, "AES 암호화"). */
#include "crypto.h"
#include "fake_inicis.h"
#include "hex.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

int fake_inicis_sha512_hex(const char *text, size_t len, char out[FAKE_INICIS_HASH_HEX_LEN])
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    if (EVP_Digest(text, len, digest, &digest_len, EVP_sha512(), NULL) != 1 || digest_len != 64)
        return -1;
    hex_encode(digest, digest_len, out);
    return 0;
}

char *fake_inicis_decrypt_field(const char *key, const char *iv, const char *encrypted)
{
    crypto_cbc_key cbc;
    if (!key || !iv || strlen(key) != 16 || crypto_cbc_key_init(&cbc, key, iv) != 0)
        return NULL;
    size_t len = 0;
    unsigned char *plain = crypto_cbc_decrypt_base64(&cbc, encrypted, strlen(encrypted), &len);
    crypto_cbc_key_clear(&cbc);
    /* A NUL inside would cut the text short without anyone noticing. */
    if (plain && memchr(plain, '\0', len)) {
        free(plain);
        return NULL;
    }
    return (char *)plain;
}
