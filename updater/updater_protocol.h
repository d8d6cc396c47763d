/* The updater protocol, without any I/O: length-prefixed frames, the
 * challenge–response handshake that proves both sides know
 * PAYMENT_SYSTEM_PASSWORD without sending it, and the per-frame HMAC that
 * keeps an authenticated link from being spliced into afterwards.
 *
 * Frame: 4-byte big-endian length, then the body. During the handshake the
 * body is a JSON object; afterwards it is a 32-byte HMAC-SHA-256 tag followed
 * by the JSON object, the tag computed with the sender's direction key over a
 * 64-bit sequence number and the JSON.
 *
 *   server -> {"type":"challenge","protocol":1,"nonce":Ns}
 *   client -> {"type":"hello","role":R,"instance":I,"nonce":Nc,
 *              "proof":HMAC(secret, "hello" Ns Nc R I)}
 *   server -> {"type":"welcome","instance":S,"proof":HMAC(secret, "welcome" Ns Nc S)}
 *          or {"type":"refused","reason":...} and the connection closes.
 * Both nonces are 32 random bytes, so a recorded exchange is worth nothing
 * on a later connection. */
#ifndef PAYMENTS_UPDATER_PROTOCOL_H
#define PAYMENTS_UPDATER_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROTOCOL_VERSION 1
#define PROTOCOL_NONCE_BYTES 32
#define PROTOCOL_MAC_BYTES 32
#define PROTOCOL_MAX_FRAME (4u << 20)      /* an authenticated message */
#define PROTOCOL_MAX_HANDSHAKE_FRAME 4096u /* what an unauthenticated peer may send */
#define PROTOCOL_MAX_NAME 64               /* role and instance names */

/* Accumulates received bytes and cuts them into frames. */
typedef struct protocol_reader {
    unsigned char *buffer;
    size_t length; /* bytes held */
    size_t offset; /* bytes already handed out as frames */
    size_t capacity;
    size_t limit; /* largest body accepted */
} protocol_reader;

void protocol_reader_init(protocol_reader *r, size_t limit);
void protocol_reader_free(protocol_reader *r);
/* Returns 0, or -1 when out of memory. */
int protocol_reader_feed(protocol_reader *r, const void *data, size_t len);
/* 1: a frame body in *body and *len, valid until the next feed; 0: incomplete;
 * -1: the announced length exceeds the limit (the stream is unusable). */
int protocol_reader_next(protocol_reader *r, const unsigned char **body, size_t *len);

/* A frame (length prefix + body) in a malloc'd buffer, or NULL. */
unsigned char *protocol_frame(const void *body, size_t len, size_t *frame_len);

/* One side's view of one handshake. */
typedef struct protocol_handshake {
    unsigned char server_nonce[PROTOCOL_NONCE_BYTES];
    unsigned char client_nonce[PROTOCOL_NONCE_BYTES];
    char peer_role[PROTOCOL_MAX_NAME + 1];     /* server side: the client's role */
    char peer_instance[PROTOCOL_MAX_NAME + 1]; /* the other side's instance name */
} protocol_handshake;

/* Server: a fresh challenge (JSON text, malloc'd), or NULL. */
char *protocol_challenge(protocol_handshake *h);
/* Client: the hello answering a challenge, or NULL with the reason in err. */
char *protocol_hello(protocol_handshake *h, const char *secret, const char *challenge, const char *role,
                     const char *instance, char *err, size_t errlen);
/* Server: checks a hello. Always sets *reply (malloc'd JSON: a welcome, or a
 * refusal, or NULL when out of memory). Returns 0 when the client proved the
 * secret, -1 otherwise with the reason in err; peer_role and peer_instance
 * are filled when the hello was well formed, for the log. */
int protocol_check_hello(protocol_handshake *h, const char *secret, const char *hello, const char *server_instance,
                         char **reply, char *err, size_t errlen);
/* Client: checks the server's answer to the hello. Returns 0 when the server
 * proved the secret too, -1 with the reason in err (a refusal's reason, or
 * why the welcome is not believed). */
int protocol_check_welcome(protocol_handshake *h, const char *secret, const char *welcome, char *err, size_t errlen);

/* The keys and counters of an authenticated link. */
typedef struct protocol_session {
    unsigned char send_key[PROTOCOL_MAC_BYTES];
    unsigned char receive_key[PROTOCOL_MAC_BYTES];
    uint64_t send_sequence;
    uint64_t receive_sequence;
} protocol_session;

/* Derives the direction keys from the secret and both nonces. Returns 0 or -1. */
int protocol_session_init(protocol_session *s, const protocol_handshake *h, const char *secret, bool is_server);
void protocol_session_clear(protocol_session *s);
/* A whole frame carrying json under the next send sequence, or NULL. */
unsigned char *protocol_seal(protocol_session *s, const char *json, size_t len, size_t *frame_len);
/* Checks a received body's tag against the next receive sequence. Returns 0
 * with the JSON (not NUL-terminated) in *json and *len, or -1 (forged, replayed,
 * reordered or truncated). */
int protocol_open(protocol_session *s, const unsigned char *body, size_t body_len, const char **json, size_t *len);

/* A role or instance name is 1..64 characters of [A-Za-z0-9._:@-]. */
bool protocol_name_valid(const char *name);

#endif
