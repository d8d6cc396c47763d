/* INIAPI requests as KG Inicis wants them: form fields, the common ones on
 * every call, a hashData that proves we hold the INIAPI key (SHA-512 over
 * the key and the fields in an order fixed per request type) and the [ENC]
 * fields, AES-encrypted with the key and IV. */
#include "inicis.h"

#include "crypto.h"
#include "hex.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* INIAPI asks for the merchant server's address; Inicis may check it
 * against the address registered for the merchant, which this server
 * cannot know behind a proxy. The loopback address is what Inicis'
 * samples send and what the fake accepts (README, Vendors). */
#define INICIS_CLIENT_IP "127.0.0.1"
#define INICIS_KOREA_OFFSET_SECONDS (9 * 3600)

/* Now in Korea as YYYYMMDDhhmmss. */
static bool form_timestamp(char out[15])
{
    time_t shifted = time(NULL) + INICIS_KOREA_OFFSET_SECONDS;
    struct tm parts;
    return gmtime_r(&shifted, &parts) && strftime(out, 15, "%Y%m%d%H%M%S", &parts) == 14;
}

bool inicis_form_set(json_t *form, const char *name, const char *value)
{
    return json_object_set_new(form, name, json_string(value)) == 0;
}

bool inicis_form_set_price(json_t *form, const char *name, double amount)
{
    char text[32];
    snprintf(text, sizeof text, "%.0f", amount);
    return inicis_form_set(form, name, text);
}

json_t *inicis_form_new(const char *mid, const char *type, const char *paymethod)
{
    char stamp[15];
    json_t *form = json_object();
    if (!form || !form_timestamp(stamp) || !inicis_form_set(form, "type", type) ||
        !inicis_form_set(form, "paymethod", paymethod) || !inicis_form_set(form, "timestamp", stamp) ||
        !inicis_form_set(form, "clientIp", INICIS_CLIENT_IP) || !inicis_form_set(form, "mid", mid)) {
        json_decref(form);
        return NULL;
    }
    return form;
}

static const char *form_value(const json_t *form, const char *name)
{
    const char *value = json_string_value(json_object_get(form, name));
    return value ? value : "";
}

bool inicis_form_sign(json_t *form, const char *key, const char *const *hashed)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    bool ok = md && EVP_DigestInit_ex(md, EVP_sha512(), NULL) == 1 && EVP_DigestUpdate(md, key, strlen(key)) == 1;
    for (const char *const *name = hashed; ok && *name; name++) {
        const char *value = form_value(form, *name);
        ok = EVP_DigestUpdate(md, value, strlen(value)) == 1;
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    ok = ok && EVP_DigestFinal_ex(md, digest, &digest_len) == 1 && digest_len == 64;
    EVP_MD_CTX_free(md);
    if (!ok)
        return false;
    char hex[129];
    hex_encode(digest, digest_len, hex);
    return inicis_form_set(form, "hashData", hex);
}

char *inicis_encrypt(const char *key, const char *iv, const char *plain)
{
    crypto_cbc_key cbc;
    if (!key || !iv || strlen(key) != 16 || strlen(iv) != 16 || crypto_cbc_key_init(&cbc, key, iv) != 0)
        return NULL;
    char *encrypted = crypto_cbc_encrypt_base64(&cbc, plain, strlen(plain), NULL);
    crypto_cbc_key_clear(&cbc);
    return encrypted;
}
