/* Writes the seeds that only our code can make, since they carry keys: the
 * updater's handshakes and sealed frames (fixed nonces, the fuzz secret),
 * sealed values under the fuzz ring, and encrypted request bodies under the
 * api_body target's connection key. Run by tests/fuzz/make-seeds; its output
 * is committed in corpus/. */
#include "crypto.h"
#include "fuzz_api_body.h"
#include "fuzz_seal.h"
#include "fuzz_updater_protocol.h"
#include "seal.h"
#include "updater_protocol.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *corpus;

/* mode byte, then parts one after the other. */
static void write_seed(const char *target, const char *name, int mode, const void *const *parts, const size_t *lengths,
                       size_t count)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s/%s", corpus, target, name);
    FILE *file = fopen(path, "wb");
    if (!file) {
        perror(path);
        exit(1);
    }
    if (mode >= 0)
        fputc(mode, file);
    for (size_t i = 0; i < count; i++)
        fwrite(parts[i], 1, lengths[i], file);
    if (fclose(file) != 0)
        exit(1);
}

static void must(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "make_seeds: %s failed\n", what);
        exit(1);
    }
}

/* ---- updater: the server's side receives a hello and sealed frames ---- */

static const char *const session_messages[] = {
    "{\"type\":\"ping\"}",
    "{\"type\":\"update\",\"round\":1}",
    "{\"type\":\"progress\",\"round\":1,\"step\":\"build\",\"message\":\"building\"}",
    "{\"type\":\"result\",\"round\":1,\"result\":{\"ok\":true,\"instance\":\"a:37821\"}}",
};

static unsigned char *frame_of(const char *text, size_t *len)
{
    unsigned char *frame = protocol_frame(text, strlen(text), len);
    must(frame != NULL, "protocol_frame");
    return frame;
}

/* Four-byte split seed: 0 leaves the cuts to the generator's default state. */
static const unsigned char split_seed[4] = {0, 0, 0, 0};

/* The challenge of a server whose nonce is the fixed one. */
static void fixed_challenge(char *out, size_t cap)
{
    char nonce[2 * PROTOCOL_NONCE_BYTES + 1];
    for (int i = 0; i < PROTOCOL_NONCE_BYTES; i++)
        snprintf(nonce + 2 * i, 3, "%02x", FUZZ_UPDATER_SERVER_NONCE_BYTE);
    snprintf(out, cap, "{\"type\":\"challenge\",\"protocol\":%d,\"nonce\":\"%s\"}", PROTOCOL_VERSION, nonce);
}

static void updater_to_server(void)
{
    char challenge[256], err[160];
    fixed_challenge(challenge, sizeof challenge);
    protocol_handshake client;
    char *hello =
        protocol_hello(&client, FUZZ_UPDATER_SECRET, challenge, "slave", FUZZ_UPDATER_CLIENT, err, sizeof err);
    must(hello != NULL, "protocol_hello");
    protocol_session session;
    must(protocol_session_init(&session, &client, FUZZ_UPDATER_SECRET, false) == 0, "protocol_session_init");
    size_t lengths[8];
    const void *parts[8];
    parts[0] = split_seed;
    lengths[0] = sizeof split_seed;
    parts[1] = frame_of(hello, &lengths[1]);
    write_seed("updater_protocol", "hello", FUZZ_UPDATER_TO_SERVER, parts, lengths, 2);
    size_t count = 2;
    for (size_t i = 0; i < sizeof session_messages / sizeof session_messages[0]; i++, count++)
        parts[count] = protocol_seal(&session, session_messages[i], strlen(session_messages[i]), &lengths[count]);
    write_seed("updater_protocol", "hello-then-session", FUZZ_UPDATER_TO_SERVER, parts, lengths, count);
    for (size_t i = 1; i < count; i++)
        free((void *)parts[i]);
    free(hello);
}

/* ---- updater: a client receives a challenge, then a welcome or a refusal ---- */

static void updater_to_client(void)
{
    char challenge[256], err[160];
    fixed_challenge(challenge, sizeof challenge);
    protocol_handshake client, server;
    char *hello =
        protocol_hello(&client, FUZZ_UPDATER_SECRET, challenge, "slave", FUZZ_UPDATER_CLIENT, err, sizeof err);
    must(hello != NULL, "protocol_hello");
    memset(&server, 0, sizeof server);
    memset(server.server_nonce, FUZZ_UPDATER_SERVER_NONCE_BYTE, PROTOCOL_NONCE_BYTES);
    char *welcome = NULL, *refusal = NULL;
    must(protocol_check_hello(&server, FUZZ_UPDATER_SECRET, hello, FUZZ_UPDATER_SERVER, &welcome, err, sizeof err) == 0,
         "protocol_check_hello");
    must(protocol_check_hello(&server, "another secret", hello, FUZZ_UPDATER_SERVER, &refusal, err, sizeof err) < 0,
         "a refused hello");
    size_t lengths[3] = {sizeof split_seed};
    const void *parts[3] = {split_seed, frame_of(challenge, &lengths[1]), frame_of(welcome, &lengths[2])};
    write_seed("updater_protocol", "challenge-welcome", FUZZ_UPDATER_TO_CLIENT, parts, lengths, 3);
    free((void *)parts[2]);
    parts[2] = frame_of(refusal, &lengths[2]);
    write_seed("updater_protocol", "challenge-refused", FUZZ_UPDATER_TO_CLIENT, parts, lengths, 3);
    free((void *)parts[1]);
    free((void *)parts[2]);
    free(hello);
    free(welcome);
    free(refusal);
}

/* ---- seal: values sealed now, under an older key, and legacy ones ---- */

static const char vendor_document[] =
    "{\"paymentKey\":\"toss_pay_0001\",\"orderId\":\"8b7c5f0e-0000-4000-8000-000000000001\","
    "\"status\":\"DONE\",\"totalAmount\":25000,\"approvedAt\":\"2026-11-23T18:30:00+09:00\"}";

static void seal_seed(const char *name, const seal_ring *ring, bool legacy)
{
    size_t len = strlen(vendor_document);
    char *sealed = legacy ? crypto_cbc_encrypt_base64(&ring->keys[0].legacy, vendor_document, len, NULL)
                          : seal_value(ring, vendor_document, len);
    must(sealed != NULL, "sealing");
    const void *parts[] = {sealed};
    size_t lengths[] = {strlen(sealed)};
    write_seed("seal", name, 0, parts, lengths, 1);
    free(sealed);
}

static void seal_seeds(void)
{
    seal_ring ring = {0}, old_ring = {0};
    must(seal_ring_add(&ring, FUZZ_SEAL_KEY, FUZZ_SEAL_IV, FUZZ_SEAL_LABEL) == 0 &&
             seal_ring_add(&old_ring, FUZZ_SEAL_OLD_KEY, FUZZ_SEAL_OLD_IV, FUZZ_SEAL_LABEL) == 0,
         "seal_ring_add");
    seal_seed("current", &ring, false);
    seal_seed("older-key", &old_ring, false);
    seal_seed("legacy", &ring, true);
    seal_seed("legacy-older-key", &old_ring, true);
    const void *parts[] = {vendor_document};
    size_t lengths[] = {strlen(vendor_document)};
    write_seed("seal", "round-trip", 1, parts, lengths, 1);
    seal_ring_clear(&ring);
    seal_ring_clear(&old_ring);
}

/* ---- api_body: each route's body, as JSON text and as it arrives ---- */

static const struct {
    const char *name;
    int route; /* the target's order: history, cancel, reservation, lookup */
    const char *json;
} bodies[] = {
    {"history", 0,
     "{\"vendor\":{\"code\":\"iamport\",\"store_id\":\"imp12345678\",\"uid\":\"imp_000000000001\"},"
     "\"source\":{\"schema\":\"shopping\",\"table\":\"orders\",\"id\":\"8b7c5f0e-0000-4000-8000-000000000001\"},"
     "\"price\":25000,\"password\":\"secret-password\",\"webhook_url\":\"http://127.0.0.1:37810/webhook\"}"},
    {"cancel", 1,
     "{\"source\":{\"schema\":\"shopping\",\"table\":\"orders\",\"id\":\"8b7c5f0e-0000-4000-8000-000000000001\"},"
     "\"password\":\"secret-password\",\"price\":10000,\"reason\":\"conformance cancel\",\"account\":null}"},
    {"cancel-account", 1,
     "{\"source\":{\"schema\":\"shopping\",\"table\":\"orders\",\"id\":\"8b7c5f0e-0000-4000-8000-000000000001\"},"
     "\"password\":\"secret-password\",\"price\":10000,\"reason\":\"refund\",\"account\":{\"bank\":\"088\","
     "\"account\":\"110123456789\",\"holder\":\"\\ud64d\\uae38\\ub3d9\",\"mobile\":\"01012345678\"}}"},
    {"reservation", 2,
     "{\"vendor\":{\"code\":\"toss.payments\",\"store_id\":\"toss-store\",\"uid\":\"billing-key-0001\"},"
     "\"source\":{\"schema\":\"shopping\",\"table\":\"subscriptions\",\"id\":\"8b7c5f0e-0000-4000-8000-000000000002\"},"
     "\"title\":\"monthly plan\",\"password\":\"secret-password\"}"},
    {"lookup", 3,
     "{\"schema\":\"shopping\",\"table\":\"orders\",\"id\":\"8b7c5f0e-0000-4000-8000-000000000001\","
     "\"password\":\"secret-password\"}"},
};

static void api_body_seeds(void)
{
    crypto_cbc_key key;
    must(crypto_cbc_key_init(&key, FUZZ_API_BODY_KEY, FUZZ_API_BODY_IV) == 0, "crypto_cbc_key_init");
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        char name[64];
        size_t len = strlen(bodies[i].json);
        const void *parts[] = {bodies[i].json};
        size_t lengths[] = {len};
        snprintf(name, sizeof name, "%s.json", bodies[i].name);
        write_seed("api_body", name, bodies[i].route << 1 | 1, parts, lengths, 1);
        size_t sealed_len;
        char *sealed = crypto_cbc_encrypt_base64(&key, bodies[i].json, len, &sealed_len);
        must(sealed != NULL, "encrypting a body");
        parts[0] = sealed;
        lengths[0] = sealed_len;
        snprintf(name, sizeof name, "%s.sealed", bodies[i].name);
        write_seed("api_body", name, bodies[i].route << 1, parts, lengths, 1);
        free(sealed);
    }
    crypto_cbc_key_clear(&key);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_seeds CORPUS_DIR\n");
        return 2;
    }
    corpus = argv[1];
    updater_to_server();
    updater_to_client();
    seal_seeds();
    api_body_seeds();
    return 0;
}
