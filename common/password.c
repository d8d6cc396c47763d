/* password: record passwords. Ours are one keyed HMAC, cheap enough to check
 * on the loop; bcrypt hashes from a migrated database cost milliseconds each
 * and go to the libuv thread pool. */
#include "password.h"

#include "crypto.h"
#include "crypto_fetch.h"
#include "request_id.h"

#include <crypt.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#define PASSWORD_PREFIX "h1$"
#define PASSWORD_PREFIX_LEN 3
#define PASSWORD_SALT_LEN 16
#define PASSWORD_MAC_LEN 32
/* Padded base64 lengths: one spelling per hash, no unpadded variants. */
#define PASSWORD_SALT_TEXT_LEN 24
#define PASSWORD_MAC_TEXT_LEN 44

static const char password_secret_prefix[] = "payments password v1";

/* The HMAC context keyed with secret->key, or NULL. */
static EVP_MAC_CTX *keyed_mac(const password_secret *secret)
{
    EVP_MAC *hmac = crypto_fetch_hmac();
    EVP_MAC_CTX *ctx = hmac ? EVP_MAC_CTX_new(hmac) : NULL;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    if (ctx && EVP_MAC_init(ctx, secret->key, sizeof secret->key, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

int password_secret_init(password_secret *secret, const char *configured)
{
    if (!secret)
        return -1;
    if (!configured)
        configured = "";
    memset(secret, 0, sizeof *secret);
    unsigned int len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(ctx, password_secret_prefix, sizeof password_secret_prefix - 1) == 1 &&
             EVP_DigestUpdate(ctx, configured, strlen(configured)) == 1 &&
             EVP_DigestFinal_ex(ctx, secret->key, &len) == 1 && len == sizeof secret->key;
    EVP_MD_CTX_free(ctx);
    if (ok)
        ok = (secret->keyed = keyed_mac(secret)) != NULL;
    if (!ok) {
        OPENSSL_cleanse(secret, sizeof *secret);
        return -1;
    }
    return 0;
}

void password_secret_clear(password_secret *secret)
{
    if (!secret)
        return;
    EVP_MAC_CTX_free(secret->keyed); /* cleanses the key pads */
    OPENSSL_cleanse(secret, sizeof *secret);
}

/* HMAC-SHA-256(secret, salt || password), without copying the password. */
static int compute_mac(const password_secret *secret, const unsigned char salt[PASSWORD_SALT_LEN], const char *password,
                       unsigned char mac[PASSWORD_MAC_LEN])
{
    EVP_MAC_CTX *ctx = secret->keyed ? EVP_MAC_CTX_dup(secret->keyed) : NULL;
    size_t mac_len = 0;
    int ok = ctx && EVP_MAC_update(ctx, salt, PASSWORD_SALT_LEN) == 1 &&
             EVP_MAC_update(ctx, (const unsigned char *)password, strlen(password)) == 1 &&
             EVP_MAC_final(ctx, mac, &mac_len, PASSWORD_MAC_LEN) == 1 && mac_len == PASSWORD_MAC_LEN;
    EVP_MAC_CTX_free(ctx);
    return ok ? 0 : -1;
}

char *password_hash(const password_secret *secret, const char *password)
{
    if (!secret || !password)
        return NULL;
    unsigned char salt[PASSWORD_SALT_LEN], mac[PASSWORD_MAC_LEN];
    if (RAND_bytes(salt, sizeof salt) != 1 || compute_mac(secret, salt, password, mac) < 0)
        return NULL;
    size_t salt_text_len = 0, mac_text_len = 0;
    char *salt_text = crypto_base64_encode(salt, sizeof salt, &salt_text_len);
    char *mac_text = crypto_base64_encode(mac, sizeof mac, &mac_text_len);
    char *stored = NULL;
    if (salt_text && mac_text)
        stored = malloc(PASSWORD_PREFIX_LEN + salt_text_len + 1 + mac_text_len + 1);
    if (stored) {
        char *out = stored;
        memcpy(out, PASSWORD_PREFIX, PASSWORD_PREFIX_LEN);
        out += PASSWORD_PREFIX_LEN;
        memcpy(out, salt_text, salt_text_len);
        out += salt_text_len;
        *out++ = '$';
        memcpy(out, mac_text, mac_text_len + 1);
    }
    free(salt_text);
    free(mac_text);
    return stored;
}

/* Splits "h1$<salt>$<mac>" into its decoded parts. Returns 0, or -1 when
 * stored is not exactly that shape. */
static int parse_current(const char *stored, unsigned char salt[PASSWORD_SALT_LEN], unsigned char mac[PASSWORD_MAC_LEN])
{
    if (strncmp(stored, PASSWORD_PREFIX, PASSWORD_PREFIX_LEN) != 0)
        return -1;
    const char *salt_text = stored + PASSWORD_PREFIX_LEN;
    const char *dollar = strchr(salt_text, '$');
    if (!dollar || dollar - salt_text != PASSWORD_SALT_TEXT_LEN || strlen(dollar + 1) != PASSWORD_MAC_TEXT_LEN)
        return -1;
    size_t salt_len = 0, mac_len = 0;
    unsigned char *salt_bytes = crypto_base64_decode(salt_text, PASSWORD_SALT_TEXT_LEN, &salt_len);
    unsigned char *mac_bytes = crypto_base64_decode(dollar + 1, PASSWORD_MAC_TEXT_LEN, &mac_len);
    int ok = salt_bytes && mac_bytes && salt_len == PASSWORD_SALT_LEN && mac_len == PASSWORD_MAC_LEN;
    if (ok) {
        memcpy(salt, salt_bytes, PASSWORD_SALT_LEN);
        memcpy(mac, mac_bytes, PASSWORD_MAC_LEN);
    }
    free(salt_bytes);
    free(mac_bytes);
    return ok ? 0 : -1;
}

static bool verify_current(const password_secret *secret, const char *stored, const char *password)
{
    unsigned char salt[PASSWORD_SALT_LEN], expected[PASSWORD_MAC_LEN], actual[PASSWORD_MAC_LEN];
    if (parse_current(stored, salt, expected) < 0 || compute_mac(secret, salt, password, actual) < 0)
        return false;
    return CRYPTO_memcmp(expected, actual, PASSWORD_MAC_LEN) == 0;
}

bool password_matches(const password_secret *secret, const char *stored, const char *password)
{
    return secret && secret->keyed && stored && password && verify_current(secret, stored, password);
}

bool password_is_current(const char *stored)
{
    unsigned char salt[PASSWORD_SALT_LEN], mac[PASSWORD_MAC_LEN];
    return stored && parse_current(stored, salt, mac) == 0;
}

static bool is_bcrypt(const char *stored)
{
    return strncmp(stored, "$2a$", 4) == 0 || strncmp(stored, "$2b$", 4) == 0 || strncmp(stored, "$2y$", 4) == 0;
}

/* One bcrypt check on the thread pool. The job owns its copies of the
 * password and the hash; job_free is the one place they go. */
typedef struct password_job {
    uv_work_t work;
    char *password;
    size_t password_len;
    char *stored;
    bool match;
    password_verify_cb cb;
    void *data;
    request_id caller; /* the ambient request id, again for the callback */
} password_job;

static void job_free(password_job *job)
{
    if (job->password)
        OPENSSL_cleanse(job->password, job->password_len);
    free(job->password);
    free(job->stored);
    free(job);
}

/* Runs on a pool thread: touches only the job. crypt_rn hashes with the
 * stored hash's own salt and cost; equal output means the same password. */
static void bcrypt_work(uv_work_t *work)
{
    password_job *job = work->data;
    struct crypt_data *state = calloc(1, sizeof *state); /* ~32 KiB: not on a pool thread's stack */
    if (!state)
        return;
    const char *result = crypt_rn(job->password, job->stored, state, (int)sizeof *state);
    OPENSSL_cleanse(job->password, job->password_len);
    size_t stored_len = strlen(job->stored);
    job->match = result && strlen(result) == stored_len && CRYPTO_memcmp(result, job->stored, stored_len) == 0;
    OPENSSL_cleanse(state, sizeof *state);
    free(state);
}

static void bcrypt_after(uv_work_t *work, int status)
{
    password_job *job = work->data;
    bool match = status == 0 && job->match;
    password_verify_cb cb = job->cb;
    void *data = job->data;
    request_id caller = job->caller, saved;
    job_free(job);
    request_id_enter(&caller, &saved);
    cb(match, data);
    request_id_restore(&saved);
}

/* Queues the bcrypt check; false when it could not be queued (the caller
 * then answers at once). */
static bool queue_bcrypt(uv_loop_t *loop, const char *stored, const char *password, password_verify_cb cb, void *data)
{
    password_job *job = calloc(1, sizeof *job);
    if (!job)
        return false;
    job->work.data = job;
    job->password_len = strlen(password);
    job->password = strdup(password);
    job->stored = strdup(stored);
    job->cb = cb;
    job->data = data;
    request_id_capture(&job->caller);
    if (!job->password || !job->stored || uv_queue_work(loop, &job->work, bcrypt_work, bcrypt_after) != 0) {
        job_free(job);
        return false;
    }
    return true;
}

void password_verify(uv_loop_t *loop, const password_secret *secret, const char *stored, const char *password,
                     password_verify_cb cb, void *data)
{
    if (!cb)
        return;
    if (!secret || !stored || !password) {
        cb(false, data);
        return;
    }
    if (strncmp(stored, PASSWORD_PREFIX, PASSWORD_PREFIX_LEN) == 0) {
        cb(verify_current(secret, stored, password), data);
        return;
    }
    if (loop && is_bcrypt(stored) && queue_bcrypt(loop, stored, password, cb, data))
        return;
    cb(false, data);
}
