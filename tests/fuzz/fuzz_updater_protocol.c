/* Fuzz target of the updater's link protocol: the input is the byte stream
 * one side receives, cut into chunks at places it chooses (fuzz_split),
 * framed by protocol_reader, and read as the link does: the handshake (the
 * server checks a hello; a client answers a challenge and checks the
 * welcome), then authenticated frames opened with the session keys. The
 * server's nonce is fixed (fuzz_updater_protocol.h), so that a saved hello
 * and the frames sealed after it verify again; a client's nonce stays
 * random, so its side is fuzzed up to the welcome's proof. */
#include "fuzz_split.h"
#include "fuzz_text.h"
#include "fuzz_updater_protocol.h"
#include "updater_protocol.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

typedef enum stage { STAGE_CHALLENGE, STAGE_HELLO, STAGE_WELCOME, STAGE_SESSION, STAGE_CLOSED } stage;

typedef struct link_view {
    stage stage;
    bool is_server;
    protocol_reader reader;
    protocol_handshake handshake;
    protocol_session session;
} link_view;

static void become_ready(link_view *link)
{
    if (protocol_session_init(&link->session, &link->handshake, FUZZ_UPDATER_SECRET, link->is_server) < 0)
        abort();
    link->reader.limit = PROTOCOL_MAX_FRAME;
    link->stage = STAGE_SESSION;
}

static void read_handshake(link_view *link, const char *text)
{
    char err[160], *reply = NULL;
    switch (link->stage) {
    case STAGE_HELLO:
        if (protocol_check_hello(&link->handshake, FUZZ_UPDATER_SECRET, text, FUZZ_UPDATER_SERVER, &reply, err,
                                 sizeof err) == 0)
            become_ready(link);
        else
            link->stage = STAGE_CLOSED;
        if (!reply) /* a welcome or a refusal, always */
            abort();
        free(reply);
        break;
    case STAGE_CHALLENGE:
        reply =
            protocol_hello(&link->handshake, FUZZ_UPDATER_SECRET, text, "slave", FUZZ_UPDATER_CLIENT, err, sizeof err);
        link->stage = reply ? STAGE_WELCOME : STAGE_CLOSED;
        free(reply);
        break;
    case STAGE_WELCOME:
        if (protocol_check_welcome(&link->handshake, FUZZ_UPDATER_SECRET, text, err, sizeof err) == 0)
            become_ready(link);
        else
            link->stage = STAGE_CLOSED;
        break;
    default:
        abort();
    }
}

static void read_frame(link_view *link, const unsigned char *body, size_t len)
{
    if (link->stage != STAGE_SESSION) {
        char *text = fuzz_text(body, len); /* as the link hands it on */
        read_handshake(link, text);
        free(text);
        return;
    }
    const char *json;
    size_t json_len;
    if (protocol_open(&link->session, body, len, &json, &json_len) != 0) {
        link->stage = STAGE_CLOSED; /* forged or replayed: the link closes */
        return;
    }
    json_t *message = json_loadb(json, json_len, 0, NULL);
    json_decref(message);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    link_view link = {.is_server = data[0] == FUZZ_UPDATER_TO_SERVER};
    link.stage = link.is_server ? STAGE_HELLO : STAGE_CHALLENGE;
    memset(link.handshake.server_nonce, FUZZ_UPDATER_SERVER_NONCE_BYTE, PROTOCOL_NONCE_BYTES);
    protocol_reader_init(&link.reader, PROTOCOL_MAX_HANDSHAKE_FRAME);
    fuzz_split split;
    fuzz_split_init(&split, data + 1, size - 1);
    const uint8_t *chunk;
    size_t chunk_len;
    while (link.stage != STAGE_CLOSED && (chunk_len = fuzz_split_next(&split, &chunk)) > 0) {
        if (protocol_reader_feed(&link.reader, chunk, chunk_len) != 0)
            abort();
        const unsigned char *body;
        size_t len;
        int rc;
        while (link.stage != STAGE_CLOSED && (rc = protocol_reader_next(&link.reader, &body, &len)) != 0) {
            if (rc < 0)
                link.stage = STAGE_CLOSED; /* a frame larger than allowed */
            else
                read_frame(&link, body, len);
        }
    }
    protocol_reader_free(&link.reader);
    protocol_session_clear(&link.session);
    return 0;
}
