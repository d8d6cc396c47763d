/* The updater protocol without I/O (see updater_protocol.h), so that the
 * daemon (libuv), the command line (blocking sockets) and the unit test share
 * one implementation of the framing and of every MAC. Every comparison of a
 * MAC is constant-time; the secret only ever enters HMAC as its key. */
#include "updater_protocol.h"

#include "crypto_fetch.h"

#include "hex.h"

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LABEL_HELLO "payments-updater 1 hello"
#define LABEL_WELCOME "payments-updater 1 welcome"
#define LABEL_CLIENT_KEY "payments-updater 1 key client-to-server"
#define LABEL_SERVER_KEY "payments-updater 1 key server-to-client"

/* ---- framing ---- */

void protocol_reader_init(protocol_reader *r, size_t limit)
{
    memset(r, 0, sizeof *r);
    r->limit = limit;
}

void protocol_reader_free(protocol_reader *r)
{
    free(r->buffer);
    memset(r, 0, sizeof *r);
}

int protocol_reader_feed(protocol_reader *r, const void *data, size_t len)
{
    if (r->offset > 0) { /* frames handed out earlier are no longer referenced */
        memmove(r->buffer, r->buffer + r->offset, r->length - r->offset);
        r->length -= r->offset;
        r->offset = 0;
    }
    if (r->length + len > r->capacity) {
        size_t capacity = r->capacity ? r->capacity : 4096;
        while (capacity < r->length + len)
            capacity *= 2;
        unsigned char *grown = realloc(r->buffer, capacity);
        if (!grown)
            return -1;
        r->buffer = grown;
        r->capacity = capacity;
    }
    if (len)
        memcpy(r->buffer + r->length, data, len);
    r->length += len;
    return 0;
}

int protocol_reader_next(protocol_reader *r, const unsigned char **body, size_t *len)
{
    size_t available = r->length - r->offset;
    if (available < 4)
        return 0;
    const unsigned char *p = r->buffer + r->offset;
    size_t announced = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | (size_t)p[3];
    if (announced > r->limit)
        return -1;
    if (available - 4 < announced)
        return 0;
    *body = p + 4;
    *len = announced;
    r->offset += 4 + announced;
    return 1;
}

unsigned char *protocol_frame(const void *body, size_t len, size_t *frame_len)
{
    if (len > PROTOCOL_MAX_FRAME)
        return NULL;
    unsigned char *frame = malloc(4 + len);
    if (!frame)
        return NULL;
    frame[0] = (unsigned char)(len >> 24);
    frame[1] = (unsigned char)(len >> 16);
    frame[2] = (unsigned char)(len >> 8);
    frame[3] = (unsigned char)len;
    if (len)
        memcpy(frame + 4, body, len);
    *frame_len = 4 + len;
    return frame;
}

/* ---- HMAC helpers ---- */

typedef struct mac_part {
    const void *data;
    size_t len;
} mac_part;

/* HMAC-SHA-256 of the parts, each followed by a newline so that no two
 * different lists of parts produce the same input. */
static int hmac_parts(const void *key, size_t key_len, const mac_part *parts, size_t count,
                      unsigned char out[PROTOCOL_MAC_BYTES])
{
    EVP_MAC *mac = crypto_fetch_hmac();
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
                           OSSL_PARAM_construct_end()};
    int ok = ctx && EVP_MAC_init(ctx, key, key_len, params) == 1;
    for (size_t i = 0; ok && i < count; i++)
        ok = EVP_MAC_update(ctx, parts[i].data, parts[i].len) == 1 &&
             EVP_MAC_update(ctx, (const unsigned char *)"\n", 1) == 1;
    size_t written = 0;
    ok = ok && EVP_MAC_final(ctx, out, &written, PROTOCOL_MAC_BYTES) == 1 && written == PROTOCOL_MAC_BYTES;
    EVP_MAC_CTX_free(ctx);
    return ok ? 0 : -1;
}

static mac_part text_part(const char *text)
{
    return (mac_part){text, strlen(text)};
}

bool protocol_name_valid(const char *name)
{
    size_t len = name ? strlen(name) : 0;
    if (len == 0 || len > PROTOCOL_MAX_NAME)
        return false;
    for (const char *p = name; *p; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                  c == ':' || c == '@' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

/* ---- handshake ---- */

static char *dump(json_t *doc)
{
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    return text;
}

/* The proofs: what each side computes and what the other checks. */
static int hello_proof(const protocol_handshake *h, const char *secret, const char *role, const char *instance,
                       unsigned char out[PROTOCOL_MAC_BYTES])
{
    mac_part parts[] = {text_part(LABEL_HELLO),
                        {h->server_nonce, PROTOCOL_NONCE_BYTES},
                        {h->client_nonce, PROTOCOL_NONCE_BYTES},
                        text_part(role),
                        text_part(instance)};
    return hmac_parts(secret, strlen(secret), parts, sizeof parts / sizeof parts[0], out);
}

static int welcome_proof(const protocol_handshake *h, const char *secret, const char *instance,
                         unsigned char out[PROTOCOL_MAC_BYTES])
{
    mac_part parts[] = {text_part(LABEL_WELCOME),
                        {h->server_nonce, PROTOCOL_NONCE_BYTES},
                        {h->client_nonce, PROTOCOL_NONCE_BYTES},
                        text_part(instance)};
    return hmac_parts(secret, strlen(secret), parts, sizeof parts / sizeof parts[0], out);
}

char *protocol_challenge(protocol_handshake *h)
{
    memset(h, 0, sizeof *h);
    if (RAND_bytes(h->server_nonce, PROTOCOL_NONCE_BYTES) != 1)
        return NULL;
    char nonce[2 * PROTOCOL_NONCE_BYTES + 1];
    hex_encode(h->server_nonce, PROTOCOL_NONCE_BYTES, nonce);
    return dump(json_pack("{s:s, s:i, s:s}", "type", "challenge", "protocol", PROTOCOL_VERSION, "nonce", nonce));
}

/* Parses text as a JSON object whose "type" is type; NULL with err set otherwise. */
static json_t *parse_message(const char *text, const char *type, char *err, size_t errlen)
{
    json_t *doc = text ? json_loads(text, 0, NULL) : NULL;
    const char *actual = json_string_value(json_object_get(doc, "type"));
    if (!json_is_object(doc) || !actual) {
        snprintf(err, errlen, "malformed handshake message");
        json_decref(doc);
        return NULL;
    }
    if (strcmp(actual, type) != 0) {
        const char *reason = json_string_value(json_object_get(doc, "reason"));
        if (strcmp(actual, "refused") == 0)
            snprintf(err, errlen, "refused: %s", reason ? reason : "no reason given");
        else
            snprintf(err, errlen, "expected a %s, got a %s", type, actual);
        json_decref(doc);
        return NULL;
    }
    return doc;
}

char *protocol_hello(protocol_handshake *h, const char *secret, const char *challenge, const char *role,
                     const char *instance, char *err, size_t errlen)
{
    memset(h, 0, sizeof *h);
    json_t *doc = parse_message(challenge, "challenge", err, errlen);
    if (!doc)
        return NULL;
    int version = (int)json_integer_value(json_object_get(doc, "protocol"));
    int bad_nonce = hex_decode(json_string_value(json_object_get(doc, "nonce")), h->server_nonce, PROTOCOL_NONCE_BYTES);
    json_decref(doc);
    if (version != PROTOCOL_VERSION || bad_nonce) {
        snprintf(err, errlen, "the server speaks another protocol (version %d)", version);
        return NULL;
    }
    unsigned char proof[PROTOCOL_MAC_BYTES];
    if (!protocol_name_valid(role) || !protocol_name_valid(instance) ||
        RAND_bytes(h->client_nonce, PROTOCOL_NONCE_BYTES) != 1 || hello_proof(h, secret, role, instance, proof) < 0) {
        snprintf(err, errlen, "cannot build the hello (bad role or instance name, or no randomness)");
        return NULL;
    }
    char nonce_hex[2 * PROTOCOL_NONCE_BYTES + 1], proof_hex[2 * PROTOCOL_MAC_BYTES + 1];
    hex_encode(h->client_nonce, PROTOCOL_NONCE_BYTES, nonce_hex);
    hex_encode(proof, PROTOCOL_MAC_BYTES, proof_hex);
    return dump(json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "hello", "role", role, "instance", instance, "nonce",
                          nonce_hex, "proof", proof_hex));
}

static char *refusal(const char *reason)
{
    return dump(json_pack("{s:s, s:s}", "type", "refused", "reason", reason));
}

/* Reads the hello's fields into h; -1 when any is missing or malformed. */
static int read_hello(protocol_handshake *h, json_t *doc, unsigned char proof[PROTOCOL_MAC_BYTES])
{
    const char *role = json_string_value(json_object_get(doc, "role"));
    const char *instance = json_string_value(json_object_get(doc, "instance"));
    if (!protocol_name_valid(role) || !protocol_name_valid(instance))
        return -1;
    snprintf(h->peer_role, sizeof h->peer_role, "%s", role);
    snprintf(h->peer_instance, sizeof h->peer_instance, "%s", instance);
    if (hex_decode(json_string_value(json_object_get(doc, "nonce")), h->client_nonce, PROTOCOL_NONCE_BYTES) < 0 ||
        hex_decode(json_string_value(json_object_get(doc, "proof")), proof, PROTOCOL_MAC_BYTES) < 0)
        return -1;
    return 0;
}

int protocol_check_hello(protocol_handshake *h, const char *secret, const char *hello, const char *server_instance,
                         char **reply, char *err, size_t errlen)
{
    *reply = NULL;
    json_t *doc = parse_message(hello, "hello", err, errlen);
    unsigned char claimed[PROTOCOL_MAC_BYTES], expected[PROTOCOL_MAC_BYTES];
    if (!doc || read_hello(h, doc, claimed) < 0) {
        if (doc)
            snprintf(err, errlen, "malformed hello");
        json_decref(doc);
        *reply = refusal("malformed hello");
        return -1;
    }
    json_decref(doc);
    if (hello_proof(h, secret, h->peer_role, h->peer_instance, expected) < 0) {
        snprintf(err, errlen, "cannot compute the proof");
        *reply = refusal("internal error");
        return -1;
    }
    if (CRYPTO_memcmp(claimed, expected, PROTOCOL_MAC_BYTES) != 0) {
        snprintf(err, errlen, "authentication failed");
        *reply = refusal("authentication failed");
        return -1;
    }
    unsigned char proof[PROTOCOL_MAC_BYTES];
    if (welcome_proof(h, secret, server_instance, proof) < 0) {
        snprintf(err, errlen, "cannot compute the proof");
        *reply = refusal("internal error");
        return -1;
    }
    char proof_hex[2 * PROTOCOL_MAC_BYTES + 1];
    hex_encode(proof, PROTOCOL_MAC_BYTES, proof_hex);
    *reply = dump(json_pack("{s:s, s:s, s:s}", "type", "welcome", "instance", server_instance, "proof", proof_hex));
    return 0;
}

int protocol_check_welcome(protocol_handshake *h, const char *secret, const char *welcome, char *err, size_t errlen)
{
    json_t *doc = parse_message(welcome, "welcome", err, errlen);
    if (!doc)
        return -1;
    const char *instance = json_string_value(json_object_get(doc, "instance"));
    unsigned char claimed[PROTOCOL_MAC_BYTES], expected[PROTOCOL_MAC_BYTES];
    int ok = protocol_name_valid(instance) &&
             hex_decode(json_string_value(json_object_get(doc, "proof")), claimed, PROTOCOL_MAC_BYTES) == 0;
    if (ok)
        snprintf(h->peer_instance, sizeof h->peer_instance, "%s", instance);
    json_decref(doc);
    if (!ok || welcome_proof(h, secret, h->peer_instance, expected) < 0 ||
        CRYPTO_memcmp(claimed, expected, PROTOCOL_MAC_BYTES) != 0) {
        snprintf(err, errlen, "the server did not prove that it knows the secret");
        return -1;
    }
    return 0;
}

/* ---- authenticated frames ---- */

static int direction_key(const protocol_handshake *h, const char *secret, const char *label,
                         unsigned char out[PROTOCOL_MAC_BYTES])
{
    mac_part parts[] = {
        text_part(label), {h->server_nonce, PROTOCOL_NONCE_BYTES}, {h->client_nonce, PROTOCOL_NONCE_BYTES}};
    return hmac_parts(secret, strlen(secret), parts, sizeof parts / sizeof parts[0], out);
}

int protocol_session_init(protocol_session *s, const protocol_handshake *h, const char *secret, bool is_server)
{
    memset(s, 0, sizeof *s);
    const char *send_label = is_server ? LABEL_SERVER_KEY : LABEL_CLIENT_KEY;
    const char *receive_label = is_server ? LABEL_CLIENT_KEY : LABEL_SERVER_KEY;
    if (direction_key(h, secret, send_label, s->send_key) < 0 ||
        direction_key(h, secret, receive_label, s->receive_key) < 0) {
        protocol_session_clear(s);
        return -1;
    }
    return 0;
}

void protocol_session_clear(protocol_session *s)
{
    OPENSSL_cleanse(s, sizeof *s);
}

static int frame_tag(const unsigned char key[PROTOCOL_MAC_BYTES], uint64_t sequence, const char *json, size_t len,
                     unsigned char out[PROTOCOL_MAC_BYTES])
{
    unsigned char counter[8];
    for (int i = 0; i < 8; i++)
        counter[i] = (unsigned char)(sequence >> (56 - 8 * i));
    mac_part parts[] = {{counter, sizeof counter}, {json, len}};
    return hmac_parts(key, PROTOCOL_MAC_BYTES, parts, 2, out);
}

unsigned char *protocol_seal(protocol_session *s, const char *json, size_t len, size_t *frame_len)
{
    if (len > PROTOCOL_MAX_FRAME - PROTOCOL_MAC_BYTES)
        return NULL;
    unsigned char *body = malloc(PROTOCOL_MAC_BYTES + len);
    if (!body || frame_tag(s->send_key, s->send_sequence, json, len, body) < 0) {
        free(body);
        return NULL;
    }
    memcpy(body + PROTOCOL_MAC_BYTES, json, len);
    unsigned char *frame = protocol_frame(body, PROTOCOL_MAC_BYTES + len, frame_len);
    free(body);
    if (frame)
        s->send_sequence++;
    return frame;
}

int protocol_open(protocol_session *s, const unsigned char *body, size_t body_len, const char **json, size_t *len)
{
    if (body_len < PROTOCOL_MAC_BYTES)
        return -1;
    const char *text = (const char *)body + PROTOCOL_MAC_BYTES;
    size_t text_len = body_len - PROTOCOL_MAC_BYTES;
    unsigned char expected[PROTOCOL_MAC_BYTES];
    if (frame_tag(s->receive_key, s->receive_sequence, text, text_len, expected) < 0 ||
        CRYPTO_memcmp(expected, body, PROTOCOL_MAC_BYTES) != 0)
        return -1;
    s->receive_sequence++;
    *json = text;
    *len = text_len;
    return 0;
}
