/* Unit tests of the updater protocol: frames cut correctly from any split of
 * the byte stream, oversized frames refused, the handshake accepting only a
 * peer that knows the secret (in both directions) without the secret ever
 * appearing on the wire, and sealed frames refusing forgery, replay,
 * reordering and reflection. */
#include "unit.h"
#include "updater_protocol.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define SECRET "correct horse battery staple"
#define WRONG "correct horse battery stapler"

UNIT_CASE(frames_any_split, NULL)
{
    const char *bodies[] = {"{\"a\":1}", "", "{\"type\":\"x\",\"text\":\"hello world\"}"};
    unsigned char stream[256];
    size_t stream_len = 0;
    for (size_t i = 0; i < 3; i++) {
        size_t len = 0;
        unsigned char *frame = protocol_frame(bodies[i], strlen(bodies[i]), &len);
        CHECK(frame != NULL && len == 4 + strlen(bodies[i]));
        memcpy(stream + stream_len, frame, len);
        stream_len += len;
        free(frame);
    }
    /* every chunk size from 1 byte to the whole stream yields the same frames */
    for (size_t chunk = 1; chunk <= stream_len; chunk++) {
        protocol_reader r;
        protocol_reader_init(&r, 1024);
        size_t seen = 0;
        int mismatches = 0;
        for (size_t off = 0; off < stream_len; off += chunk) {
            size_t n = off + chunk > stream_len ? stream_len - off : chunk;
            CHECK(protocol_reader_feed(&r, stream + off, n) == 0);
            const unsigned char *body;
            size_t len;
            while (protocol_reader_next(&r, &body, &len) == 1) {
                if (seen >= 3 || len != strlen(bodies[seen]) || memcmp(body, bodies[seen], len) != 0)
                    mismatches++;
                seen++;
            }
        }
        CHECK(seen == 3);
        CHECK(mismatches == 0);
        protocol_reader_free(&r);
    }
}

UNIT_CASE(oversized_frame_refused, NULL)
{
    protocol_reader r;
    protocol_reader_init(&r, 16);
    const unsigned char header[4] = {0, 0, 0, 17};
    CHECK(protocol_reader_feed(&r, header, 4) == 0);
    const unsigned char *body;
    size_t len;
    CHECK(protocol_reader_next(&r, &body, &len) == -1);
    protocol_reader_free(&r);
    /* a huge announced length is refused before any body arrives */
    protocol_reader_init(&r, PROTOCOL_MAX_HANDSHAKE_FRAME);
    const unsigned char huge[4] = {0x7f, 0xff, 0xff, 0xff};
    CHECK(protocol_reader_feed(&r, huge, 4) == 0);
    CHECK(protocol_reader_next(&r, &body, &len) == -1);
    protocol_reader_free(&r);
    /* a partial header is just incomplete */
    protocol_reader_init(&r, 16);
    CHECK(protocol_reader_feed(&r, header, 3) == 0);
    CHECK(protocol_reader_next(&r, &body, &len) == 0);
    protocol_reader_free(&r);
}

typedef struct handshake_outcome {
    int server_rc;
    int client_rc;
    char server_err[160];
    char client_err[160];
    protocol_handshake server;
    protocol_handshake client;
    int secret_on_wire;
} handshake_outcome;

/* Runs the whole handshake between a server knowing server_secret and a
 * client knowing client_secret. */
static handshake_outcome run_handshake(const char *server_secret, const char *client_secret)
{
    handshake_outcome o;
    memset(&o, 0, sizeof o);
    o.server_rc = o.client_rc = -2;
    char *challenge = protocol_challenge(&o.server);
    char *hello = challenge ? protocol_hello(&o.client, client_secret, challenge, "slave", "instance-b", o.client_err,
                                             sizeof o.client_err)
                            : NULL;
    char *reply = NULL;
    if (hello) {
        o.server_rc = protocol_check_hello(&o.server, server_secret, hello, "instance-a", &reply, o.server_err,
                                           sizeof o.server_err);
        o.client_rc =
            reply ? protocol_check_welcome(&o.client, client_secret, reply, o.client_err, sizeof o.client_err) : -2;
    }
    for (const char *m[] = {challenge, hello, reply}, **p = m; p < m + 3; p++)
        if (*p && (strstr(*p, SECRET) || strstr(*p, WRONG)))
            o.secret_on_wire = 1;
    free(challenge);
    free(hello);
    free(reply);
    return o;
}

UNIT_CASE(handshake_accepts_the_secret, NULL)
{
    handshake_outcome o = run_handshake(SECRET, SECRET);
    CHECK(o.server_rc == 0);
    CHECK(o.client_rc == 0);
    CHECK_STR(o.server.peer_role, "slave");
    CHECK_STR(o.server.peer_instance, "instance-b");
    CHECK_STR(o.client.peer_instance, "instance-a");
    CHECK(!o.secret_on_wire);
    /* both sides agree on the nonces */
    CHECK(memcmp(o.server.server_nonce, o.client.server_nonce, PROTOCOL_NONCE_BYTES) == 0);
    CHECK(memcmp(o.server.client_nonce, o.client.client_nonce, PROTOCOL_NONCE_BYTES) == 0);
}

UNIT_CASE(handshake_refuses_a_wrong_secret, NULL)
{
    handshake_outcome o = run_handshake(SECRET, WRONG);
    CHECK(o.server_rc == -1);
    CHECK_STR(o.server_err, "authentication failed");
    CHECK(o.client_rc == -1); /* the client reads the refusal */
    CHECK_STR(o.client_err, "refused: authentication failed");
    CHECK(!o.secret_on_wire);
}

UNIT_CASE(client_refuses_a_server_without_the_secret, NULL)
{
    /* a server that accepts anything (it "checks" with the client's secret)
     * but cannot prove the real one: its welcome must not be believed */
    protocol_handshake server, client;
    char err[160], *reply = NULL;
    char *challenge = protocol_challenge(&server);
    char *hello = protocol_hello(&client, SECRET, challenge, "client", "cli", err, sizeof err);
    CHECK(protocol_check_hello(&server, SECRET, hello, "master", &reply, err, sizeof err) == 0);
    json_t *welcome = json_loads(reply, 0, NULL);
    json_object_set_new(welcome, "proof",
                        json_string("00000000000000000000000000000000"
                                    "00000000000000000000000000000000"));
    char *forged = json_dumps(welcome, JSON_COMPACT);
    CHECK(protocol_check_welcome(&client, SECRET, forged, err, sizeof err) == -1);
    CHECK(strstr(err, "did not prove") != NULL);
    /* and a server with the wrong secret fails the same way */
    protocol_handshake server2, client2;
    char *reply2 = NULL;
    char *challenge2 = protocol_challenge(&server2);
    char *hello2 = protocol_hello(&client2, SECRET, challenge2, "client", "cli", err, sizeof err);
    protocol_check_hello(&server2, WRONG, hello2, "master", &reply2, err, sizeof err);
    CHECK(protocol_check_welcome(&client2, SECRET, reply2, err, sizeof err) == -1);
    json_decref(welcome);
    free(forged);
    free(challenge);
    free(hello);
    free(reply);
    free(challenge2);
    free(hello2);
    free(reply2);
}

UNIT_CASE(hello_is_bound_to_its_challenge_and_names, NULL)
{
    protocol_handshake server1, server2, client;
    char err[160], *reply = NULL;
    char *challenge1 = protocol_challenge(&server1);
    char *challenge2 = protocol_challenge(&server2);
    CHECK(strcmp(challenge1, challenge2) != 0); /* fresh nonces */
    char *hello = protocol_hello(&client, SECRET, challenge1, "slave", "b", err, sizeof err);
    /* replayed against another connection's challenge */
    CHECK(protocol_check_hello(&server2, SECRET, hello, "a", &reply, err, sizeof err) == -1);
    free(reply);
    /* the role changed in transit */
    json_t *doc = json_loads(hello, 0, NULL);
    json_object_set_new(doc, "role", json_string("client"));
    char *altered = json_dumps(doc, JSON_COMPACT);
    CHECK(protocol_check_hello(&server1, SECRET, altered, "a", &reply, err, sizeof err) == -1);
    free(reply);
    /* names outside the alphabet are refused before any MAC is computed */
    json_object_set_new(doc, "role", json_string("sla ve\n"));
    char *bad_name = json_dumps(doc, JSON_COMPACT);
    CHECK(protocol_check_hello(&server1, SECRET, bad_name, "a", &reply, err, sizeof err) == -1);
    CHECK_STR(err, "malformed hello");
    free(reply);
    /* garbage */
    CHECK(protocol_check_hello(&server1, SECRET, "not json", "a", &reply, err, sizeof err) == -1);
    CHECK(reply != NULL && strstr(reply, "refused") != NULL);
    free(reply);
    json_decref(doc);
    free(altered);
    free(bad_name);
    free(challenge1);
    free(challenge2);
    free(hello);
}

/* Opens a sealed frame as the receiver; returns the JSON text or NULL. */
static char *open_frame(protocol_session *receiver, const unsigned char *frame, size_t frame_len)
{
    protocol_reader r;
    protocol_reader_init(&r, PROTOCOL_MAX_FRAME);
    const unsigned char *body;
    size_t len;
    char *text = NULL;
    const char *json;
    size_t json_len;
    if (protocol_reader_feed(&r, frame, frame_len) == 0 && protocol_reader_next(&r, &body, &len) == 1 &&
        protocol_open(receiver, body, len, &json, &json_len) == 0)
        text = strndup(json, json_len);
    protocol_reader_free(&r);
    return text;
}

static void check_opens_to(protocol_session *receiver, const unsigned char *frame, size_t len, const char *expected)
{
    char *text = open_frame(receiver, frame, len);
    CHECK_STR(text, expected);
    free(text);
}

static void check_refused(protocol_session *receiver, const unsigned char *frame, size_t len)
{
    char *text = open_frame(receiver, frame, len);
    CHECK(text == NULL);
    free(text);
}

static unsigned char *seal_text(protocol_session *sender, const char *text, size_t *len)
{
    return protocol_seal(sender, text, strlen(text), len);
}

/* Both ends of a connection after a handshake with the right secret. */
typedef struct session_pair {
    handshake_outcome handshake;
    protocol_session server, client;
} session_pair;

static void pair_open(session_pair *p)
{
    p->handshake = run_handshake(SECRET, SECRET);
    CHECK(protocol_session_init(&p->server, &p->handshake.server, SECRET, true) == 0);
    CHECK(protocol_session_init(&p->client, &p->handshake.client, SECRET, false) == 0);
}

static void pair_close(session_pair *p)
{
    protocol_session_clear(&p->server);
    protocol_session_clear(&p->client);
}

/* A replayed frame fails, as the sequence moved on; a failed open does not
 * advance the sequence, so the next genuine frame still opens. */
UNIT_CASE(sealed_frame_replayed, NULL)
{
    session_pair p;
    pair_open(&p);
    size_t len1, len2;
    unsigned char *first = seal_text(&p.client, "{\"type\":\"update\"}", &len1);
    unsigned char *second = seal_text(&p.client, "{\"type\":\"instances\"}", &len2);
    check_opens_to(&p.server, first, len1, "{\"type\":\"update\"}");
    check_refused(&p.server, first, len1);
    check_opens_to(&p.server, second, len2, "{\"type\":\"instances\"}");
    free(first);
    free(second);
    pair_close(&p);
}

UNIT_CASE(sealed_frame_tampered, NULL)
{
    session_pair p;
    pair_open(&p);
    size_t len;
    unsigned char *frame = seal_text(&p.client, "{\"type\":\"x\"}", &len);
    frame[len - 3] ^= 0x01; /* a bit of the JSON */
    check_refused(&p.server, frame, len);
    free(frame);
    /* a body shorter than a tag */
    const char *json;
    size_t json_len;
    CHECK(protocol_open(&p.server, (const unsigned char *)"short", 5, &json, &json_len) == -1);
    pair_close(&p);
}

/* A frame the server sent cannot be fed back to it. */
UNIT_CASE(sealed_frame_reflected, NULL)
{
    session_pair p;
    pair_open(&p);
    size_t len;
    unsigned char *answer = seal_text(&p.server, "{\"type\":\"result\"}", &len);
    check_refused(&p.server, answer, len);
    check_opens_to(&p.client, answer, len, "{\"type\":\"result\"}");
    free(answer);
    pair_close(&p);
}

/* Keys derived with another secret open nothing, at the right sequence. */
UNIT_CASE(sealed_frame_wrong_secret, NULL)
{
    session_pair p;
    pair_open(&p);
    protocol_session wrong;
    CHECK(protocol_session_init(&wrong, &p.handshake.server, WRONG, true) == 0);
    size_t len;
    unsigned char *frame = seal_text(&p.client, "{\"type\":\"y\"}", &len);
    check_refused(&wrong, frame, len);
    check_opens_to(&p.server, frame, len, "{\"type\":\"y\"}");
    free(frame);
    protocol_session_clear(&wrong);
    pair_close(&p);
}

UNIT_CASE(names, NULL)
{
    CHECK(protocol_name_valid("host-1.example:37821"));
    CHECK(protocol_name_valid("payments-cli@ops"));
    CHECK(!protocol_name_valid(""));
    CHECK(!protocol_name_valid("with space"));
    CHECK(!protocol_name_valid("new\nline"));
    char long_name[80];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    CHECK(!protocol_name_valid(long_name));
}
