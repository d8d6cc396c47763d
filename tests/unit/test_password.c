/* Unit tests of password: our keyed hashes (checked at once), bcrypt hashes
 * of a migrated database (checked on the thread pool, answered on the loop
 * thread), and malformed stored strings, each with exactly one callback. */
#include "password.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>

/* Real bcrypt hashes, made with Python 3.11's crypt module (libxcrypt):
 *   python3 -c "import crypt; print(crypt.crypt('secret',
 *     crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))"
 * and the same for 'correct horse'. Cost 4 keeps the test quick. */
static const char bcrypt_secret[] = "$2b$04$4Xab1hQrxwddiNMDjziuBu3OYgbDgS.Q63ZFz1CNOdBFRdkxmEsny";
static const char bcrypt_horse[] = "$2b$04$ZiEJNcroZuBshCc.mWmxM.M5T2t34K9JqqsAUITOO1Xu0fXule5qi";

typedef struct verdict {
    int calls;
    bool match;
    uv_thread_t thread;
} verdict;

static void on_verified(bool match, void *data)
{
    verdict *v = data;
    v->calls++;
    v->match = match;
    v->thread = uv_thread_self();
}

/* Verifies a current-format hash: must answer before returning. */
static int verify_now(const password_secret *secret, const char *stored, const char *password)
{
    verdict v = {0};
    password_verify(NULL, secret, stored, password, on_verified, &v);
    CHECK(v.calls == 1);
    return v.calls == 1 && v.match;
}

UNIT_CASE(hash_and_verify, NULL)
{
    password_secret secret, other;
    CHECK(password_secret_init(&secret, "server secret one") == 0);
    CHECK(password_secret_init(&other, "server secret two") == 0);
    char *stored = password_hash(&secret, "p@ssw0rd");
    CHECK(stored != NULL);
    if (!stored)
        return;
    CHECK(strncmp(stored, "h1$", 3) == 0);
    CHECK(strlen(stored) == 3 + 24 + 1 + 44);
    CHECK(strstr(stored, "p@ssw0rd") == NULL);
    CHECK(password_is_current(stored));
    CHECK(verify_now(&secret, stored, "p@ssw0rd"));
    CHECK(!verify_now(&secret, stored, "p@ssw0rD"));
    CHECK(!verify_now(&secret, stored, "p@ssw0rd "));
    CHECK(!verify_now(&secret, stored, ""));
    /* Keyed: another server secret does not verify it. */
    CHECK(!verify_now(&other, stored, "p@ssw0rd"));
    /* Salted: the same password hashes differently each time. */
    char *again = password_hash(&secret, "p@ssw0rd");
    CHECK(again && strcmp(again, stored) != 0);
    CHECK(again && verify_now(&secret, again, "p@ssw0rd"));
    free(again);
    /* The same configured string always gives the same key. */
    password_secret same;
    CHECK(password_secret_init(&same, "server secret one") == 0);
    CHECK(memcmp(same.key, secret.key, sizeof same.key) == 0);
    CHECK(verify_now(&same, stored, "p@ssw0rd"));
    free(stored);

    stored = password_hash(&secret, "");
    CHECK(stored && verify_now(&secret, stored, ""));
    CHECK(stored && !verify_now(&secret, stored, "x"));
    free(stored);
    CHECK(password_hash(&secret, NULL) == NULL);
    CHECK(password_hash(NULL, "x") == NULL);
    password_secret_clear(&same);
    password_secret_clear(&other);
    password_secret_clear(&secret);
    CHECK(secret.keyed == NULL);
    password_secret_clear(NULL);
}

UNIT_CASE(malformed, NULL)
{
    password_secret secret;
    CHECK(password_secret_init(&secret, "server secret") == 0);
    char *stored = password_hash(&secret, "pw");
    CHECK(stored != NULL);
    if (!stored)
        return;
    /* Every truncation of a good hash, answered at once and false. */
    size_t len = strlen(stored);
    char *cut = malloc(len + 8);
    for (size_t n = 0; n < len; n++) {
        memcpy(cut, stored, n);
        cut[n] = '\0';
        CHECK(!verify_now(&secret, cut, "pw"));
        CHECK(!password_is_current(cut));
    }
    memcpy(cut, stored, len + 1);
    strcat(cut, "$AAAA");
    CHECK(!verify_now(&secret, cut, "pw"));
    CHECK(!password_is_current(cut));
    memcpy(cut, stored, len + 1);
    cut[5] = '*';
    CHECK(!verify_now(&secret, cut, "pw"));
    free(cut);
    free(stored);

    const char *bad[] = {"",        "h1",         "h1$",        "h1$$",         "h1$AAAA$AAAA",
                         "pw",      "$1$abc$def", "$2x$04$abc", "$6$salt$hash", "h2$AAAAAAAAAAAAAAAAAAAAAA==$AAAA",
                         "\xff\xfe"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(!verify_now(&secret, bad[i], "pw"));
        CHECK(!password_is_current(bad[i]));
    }
    CHECK(!password_is_current(NULL));
    CHECK(!password_is_current(bcrypt_secret));
    CHECK(!verify_now(&secret, NULL, "pw"));
    CHECK(!verify_now(&secret, bcrypt_secret + 1, "secret"));
    verdict v = {0};
    password_verify(NULL, NULL, "h1$", "pw", on_verified, &v);
    CHECK(v.calls == 1 && !v.match);
    password_secret_clear(&secret);
}

/* Runs one bcrypt verify on a fresh loop; checks it is answered on the loop
 * thread, during uv_run and not before, exactly once. */
static bool verify_bcrypt(const password_secret *secret, const char *stored, const char *password)
{
    uv_loop_t loop;
    CHECK(uv_loop_init(&loop) == 0);
    verdict v = {0};
    uv_thread_t self = uv_thread_self();
    password_verify(&loop, secret, stored, password, on_verified, &v);
    CHECK(v.calls == 0);
    CHECK(uv_run(&loop, UV_RUN_DEFAULT) == 0);
    CHECK(v.calls == 1);
    CHECK(uv_thread_equal(&v.thread, &self));
    CHECK(uv_loop_close(&loop) == 0);
    return v.calls == 1 && v.match;
}

UNIT_CASE(bcrypt, NULL)
{
    password_secret secret;
    CHECK(password_secret_init(&secret, "server secret") == 0);
    CHECK(verify_bcrypt(&secret, bcrypt_secret, "secret"));
    CHECK(!verify_bcrypt(&secret, bcrypt_secret, "Secret"));
    CHECK(!verify_bcrypt(&secret, bcrypt_secret, ""));
    CHECK(verify_bcrypt(&secret, bcrypt_horse, "correct horse"));
    CHECK(!verify_bcrypt(&secret, bcrypt_horse, "secret"));
    /* $2y$ (PHP) and $2a$ hashes of ASCII passwords are the same hash. */
    char variant[sizeof bcrypt_secret];
    memcpy(variant, bcrypt_secret, sizeof variant);
    variant[2] = 'y';
    CHECK(verify_bcrypt(&secret, variant, "secret"));
    variant[2] = 'a';
    CHECK(verify_bcrypt(&secret, variant, "secret"));
    CHECK(!verify_bcrypt(&secret, variant, "wrong"));
    /* A bcrypt hash is not in the current format (to be replaced). */
    CHECK(!password_is_current(bcrypt_secret));
    /* Malformed bcrypt strings go to the pool and come back false. */
    const char *bad[] = {"$2b$", "$2b$04$", "$2b$04$short", "$2b$99$4Xab1hQrxwddiNMDjziuBu3OYgbDgS.Q63ZFz1CNOdB",
                         "$2b$04$4Xab1hQrxwddiNMDjziuBu3OYgbDgS.Q63ZFz1CNOdBFRdkxmEsn"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(!verify_bcrypt(&secret, bad[i], "secret"));
    /* bcrypt without a loop cannot run: answered at once, false. */
    CHECK(!verify_now(&secret, bcrypt_secret, "secret"));
    password_secret_clear(&secret);
}

/* Several checks in flight at once: each answered once, with its own result. */
UNIT_CASE(bcrypt_concurrent, NULL)
{
    password_secret secret;
    CHECK(password_secret_init(&secret, "server secret") == 0);
    uv_loop_t loop;
    CHECK(uv_loop_init(&loop) == 0);
    verdict v[8] = {0};
    for (int i = 0; i < 8; i++)
        password_verify(&loop, &secret, i % 2 ? bcrypt_horse : bcrypt_secret, i % 4 < 2 ? "secret" : "correct horse",
                        on_verified, &v[i]);
    CHECK(uv_run(&loop, UV_RUN_DEFAULT) == 0);
    for (int i = 0; i < 8; i++) {
        bool expected = (i % 2 == 0 && i % 4 < 2) || (i % 2 == 1 && i % 4 >= 2);
        CHECK(v[i].calls == 1);
        CHECK(v[i].match == expected);
    }
    CHECK(uv_loop_close(&loop) == 0);
    password_secret_clear(&secret);
}
