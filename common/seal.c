/* seal: the at-rest encryption of vendor documents. Each ring key is derived
 * with HKDF from a table's configured key and IV, so the settings of the
 * original server need no change; its CBC format is still opened. */
#include "seal.h"

#include "crypto_fetch.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#define SEAL_PREFIX "v1."
#define SEAL_PREFIX_LEN 3
#define SEAL_ID_LEN 8
#define SEAL_HEADER_LEN (SEAL_PREFIX_LEN + SEAL_ID_LEN) /* "v1.<id>", also the AAD */
#define SEAL_NONCE_LEN 12
#define SEAL_TAG_LEN 16
#define SEAL_KEY_LEN 32

/* Fixed HKDF salt: the inputs are already secret; the salt only separates
 * this use of them from any other. */
static const char seal_salt[] = "payments seal salt v1";
static const char seal_info_prefix[] = "payments seal v1 ";
static const char seal_id_prefix[] = "payments key id";

/* HKDF-SHA-256(ikm = key || iv, info = prefix || label) into out. */
static int derive_key(const char *key, const char *iv, const char *label, unsigned char out[SEAL_KEY_LEN])
{
    size_t key_len = strlen(key), iv_len = strlen(iv), label_len = strlen(label);
    size_t info_len = sizeof seal_info_prefix - 1 + label_len;
    unsigned char *ikm = malloc(key_len + iv_len + 1);
    char *info = malloc(info_len + 1);
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    int rc = -1;
    if (ikm && info && ctx) {
        memcpy(ikm, key, key_len);
        memcpy(ikm + key_len, iv, iv_len);
        memcpy(info, seal_info_prefix, sizeof seal_info_prefix - 1);
        memcpy(info + sizeof seal_info_prefix - 1, label, label_len);
        char digest[] = "SHA256";
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, ikm, key_len + iv_len),
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)seal_salt, sizeof seal_salt - 1),
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, info_len),
            OSSL_PARAM_construct_end(),
        };
        rc = EVP_KDF_derive(ctx, out, SEAL_KEY_LEN, params) == 1 ? 0 : -1;
    }
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    if (ikm)
        OPENSSL_cleanse(ikm, key_len + iv_len);
    free(ikm);
    free(info);
    return rc;
}

/* id = the first 8 hex characters of SHA-256("payments key id" || key):
 * names the key in stored values without revealing anything about it. */
static int derive_id(const unsigned char key[SEAL_KEY_LEN], char id[SEAL_ID_LEN + 1])
{
    unsigned char hash[EVP_MAX_MD_SIZE];
    unsigned int hash_len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(ctx, seal_id_prefix, sizeof seal_id_prefix - 1) == 1 &&
             EVP_DigestUpdate(ctx, key, SEAL_KEY_LEN) == 1 && EVP_DigestFinal_ex(ctx, hash, &hash_len) == 1 &&
             hash_len >= SEAL_ID_LEN / 2;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return -1;
    for (size_t i = 0; i < SEAL_ID_LEN / 2; i++)
        snprintf(id + 2 * i, 3, "%02x", hash[i]);
    return 0;
}

int seal_ring_add(seal_ring *ring, const char *key, const char *iv, const char *label)
{
    if (!ring || !key || !iv || !label || ring->count >= SEAL_MAX_KEYS)
        return -1;
    seal_key *entry = &ring->keys[ring->count];
    memset(entry, 0, sizeof *entry);
    if (crypto_cbc_key_init(&entry->legacy, key, iv) < 0 || derive_key(key, iv, label, entry->key) < 0 ||
        derive_id(entry->key, entry->id) < 0) {
        OPENSSL_cleanse(entry, sizeof *entry);
        return -1;
    }
    ring->count++;
    return 0;
}

void seal_ring_clear(seal_ring *ring)
{
    if (ring)
        OPENSSL_cleanse(ring, sizeof *ring);
}

/* One AES-256-GCM pass. Encrypting writes the tag; decrypting checks it.
 * Returns 0, or -1 (on decrypt: the tag did not match). */
static int gcm_run(const seal_key *key, int encrypt, const unsigned char *nonce, const unsigned char *in, int len,
                   unsigned char *out, unsigned char tag[SEAL_TAG_LEN])
{
    char aad[SEAL_HEADER_LEN];
    memcpy(aad, SEAL_PREFIX, SEAL_PREFIX_LEN);
    memcpy(aad + SEAL_PREFIX_LEN, key->id, SEAL_ID_LEN);
    const EVP_CIPHER *gcm = crypto_fetch_cipher(CRYPTO_AES_256_GCM);
    EVP_CIPHER_CTX *ctx = gcm ? EVP_CIPHER_CTX_new() : NULL;
    if (!ctx)
        return -1;
    int aad_len = 0, data_len = 0, final_len = 0;
    int ok = EVP_CipherInit_ex(ctx, gcm, NULL, NULL, NULL, encrypt) == 1 &&
             EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SEAL_NONCE_LEN, NULL) == 1 &&
             EVP_CipherInit_ex(ctx, NULL, NULL, key->key, nonce, encrypt) == 1 &&
             EVP_CipherUpdate(ctx, NULL, &aad_len, (const unsigned char *)aad, SEAL_HEADER_LEN) == 1 &&
             (len == 0 || EVP_CipherUpdate(ctx, out, &data_len, in, len) == 1);
    if (ok && !encrypt)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SEAL_TAG_LEN, tag) == 1;
    /* GCM has no padding: the final call writes nothing; decrypting, it
     * checks the tag. */
    ok = ok && EVP_CipherFinal_ex(ctx, out + data_len, &final_len) == 1;
    if (ok && encrypt)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SEAL_TAG_LEN, tag) == 1;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -1;
}

/* "v1.<id>." followed by the base64 text. */
static char *format_sealed(const char *id, const char *text, size_t text_len)
{
    char *sealed = malloc(SEAL_HEADER_LEN + 1 + text_len + 1);
    if (!sealed)
        return NULL;
    memcpy(sealed, SEAL_PREFIX, SEAL_PREFIX_LEN);
    memcpy(sealed + SEAL_PREFIX_LEN, id, SEAL_ID_LEN);
    sealed[SEAL_HEADER_LEN] = '.';
    memcpy(sealed + SEAL_HEADER_LEN + 1, text, text_len + 1);
    return sealed;
}

char *seal_value(const seal_ring *ring, const void *plain, size_t len)
{
    if (!ring || ring->count == 0 || (!plain && len > 0) || len > (size_t)INT_MAX - SEAL_NONCE_LEN - SEAL_TAG_LEN)
        return NULL;
    const seal_key *key = &ring->keys[0];
    size_t box_len = SEAL_NONCE_LEN + len + SEAL_TAG_LEN;
    unsigned char *box = malloc(box_len);
    if (!box)
        return NULL;
    unsigned char *nonce = box, *cipher_text = box + SEAL_NONCE_LEN, *tag = cipher_text + len;
    char *sealed = NULL;
    if (RAND_bytes(nonce, SEAL_NONCE_LEN) == 1 && gcm_run(key, 1, nonce, plain, (int)len, cipher_text, tag) == 0) {
        size_t text_len = 0;
        char *text = crypto_base64_encode(box, box_len, &text_len);
        if (text)
            sealed = format_sealed(key->id, text, text_len);
        free(text);
    }
    free(box);
    return sealed;
}

/* Opens "v1.<id>.<base64>" with each ring key of that id (ids are short, so
 * two keys may share one; the tag tells them apart). */
static unsigned char *open_current(const seal_ring *ring, const char *sealed, size_t len, size_t *out_len)
{
    if (len <= SEAL_HEADER_LEN || sealed[SEAL_HEADER_LEN] != '.')
        return NULL;
    const char *id = sealed + SEAL_PREFIX_LEN;
    size_t box_len = 0;
    unsigned char *box = crypto_base64_decode(sealed + SEAL_HEADER_LEN + 1, len - SEAL_HEADER_LEN - 1, &box_len);
    if (!box)
        return NULL;
    unsigned char *plain = NULL;
    if (box_len >= SEAL_NONCE_LEN + SEAL_TAG_LEN && box_len <= (size_t)INT_MAX) {
        size_t plain_len = box_len - SEAL_NONCE_LEN - SEAL_TAG_LEN;
        for (size_t i = 0; i < ring->count && !plain; i++) {
            if (memcmp(ring->keys[i].id, id, SEAL_ID_LEN) != 0)
                continue;
            plain = malloc(plain_len + 1);
            if (!plain)
                break;
            if (gcm_run(&ring->keys[i], 0, box, box + SEAL_NONCE_LEN, (int)plain_len, plain,
                        box + SEAL_NONCE_LEN + plain_len) < 0) {
                /* Unauthenticated output must not survive. */
                OPENSSL_cleanse(plain, plain_len + 1);
                free(plain);
                plain = NULL;
                continue;
            }
            plain[plain_len] = '\0';
            if (out_len)
                *out_len = plain_len;
        }
    }
    free(box);
    return plain;
}

/* The original server's base64 AES-CBC, tried with each ring key's legacy
 * key and IV in turn. CBC carries no MAC: the padding check catches most
 * wrong keys, and callers validate what they get (it must parse as JSON). */
static unsigned char *open_legacy(const seal_ring *ring, const char *sealed, size_t len, size_t *out_len)
{
    for (size_t i = 0; i < ring->count; i++) {
        unsigned char *plain = crypto_cbc_decrypt_base64(&ring->keys[i].legacy, sealed, len, out_len);
        if (plain)
            return plain;
    }
    return NULL;
}

bool seal_authenticated(const char *sealed)
{
    /* base64 has no '.', so a legacy value never starts with "v1.". */
    return sealed && strncmp(sealed, SEAL_PREFIX, SEAL_PREFIX_LEN) == 0;
}

unsigned char *seal_open(const seal_ring *ring, const char *sealed, size_t *out_len)
{
    if (!ring || !sealed)
        return NULL;
    size_t len = strlen(sealed);
    if (seal_authenticated(sealed))
        return open_current(ring, sealed, len, out_len);
    return open_legacy(ring, sealed, len, out_len);
}
