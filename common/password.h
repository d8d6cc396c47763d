/* password: record passwords (the `password` of a history or reservation).
 * Stored as "h1$<base64 salt>$<base64 HMAC-SHA-256(secret, salt | password)>",
 * keyed with a server secret, compared in constant time. bcrypt hashes
 * ($2a$/$2b$/$2y$) from a database migrated from the original server are
 * verified with crypt(3) on the libuv thread pool, never on the loop. */
#ifndef PAYMENTS_PASSWORD_H
#define PAYMENTS_PASSWORD_H

#include <openssl/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

typedef struct password_secret {
    unsigned char key[32];
    /* HMAC-SHA-256 keyed once; each hash starts from a copy of it, which
     * spares OpenSSL's algorithm look-up and key set-up per password. */
    EVP_MAC_CTX *keyed;
} password_secret;

/* Derives the HMAC key from a configured secret string (cfg.password_secret).
 * Returns 0, or -1 when OpenSSL fails (the key is then all zero: refuse to
 * start rather than run with it). */
int password_secret_init(password_secret *secret, const char *configured);
/* Frees and wipes what init made. */
void password_secret_clear(password_secret *secret);

/* Returns a NUL-terminated malloc'd hash for storage, or NULL. */
char *password_hash(const password_secret *secret, const char *password);

typedef void (*password_verify_cb)(bool match, void *data);
/* Compares password with a stored hash (ours or bcrypt). Ours is checked at
 * once (the callback runs before this returns); bcrypt goes to the thread
 * pool. An unknown format never matches. The callback runs exactly once. */
void password_verify(uv_loop_t *loop, const password_secret *secret, const char *stored, const char *password,
                     password_verify_cb cb, void *data);
/* True when stored is in our format and was made from password with secret
 * (checked at once, constant time); false for any other format. A rotated
 * secret: the caller tries the previous one when the current one fails. */
bool password_matches(const password_secret *secret, const char *stored, const char *password);
/* True when stored is in our current format (a bcrypt hash may be replaced
 * after a successful verify). */
bool password_is_current(const char *stored);

#endif
