/* fake_answer: the one way a fake answers a request. Every answer passes
 * here so that it can be held for the latency setting (the effect already
 * made, only the answer late) and kept for a replay (Toss's Idempotency-Key)
 * without any handler knowing. */
#ifndef PAYMENTS_FAKE_ANSWER_H
#define PAYMENTS_FAKE_ANSWER_H

#include "http_server.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fake_server fake_server;

/* An answer kept to be sent later or again; it owns its strings. */
typedef struct fake_answer_copy {
    int status;
    char *content_type; /* NULL when the answer has none */
    char *body;         /* NUL-terminated; body_len excludes it */
    size_t body_len;
} fake_answer_copy;

/* Fills copy; returns 0, or -1 with nothing left allocated. */
int fake_answer_copy_make(fake_answer_copy *copy, int status, const char *content_type, const char *body, size_t len);
void fake_answer_copy_free(fake_answer_copy *copy);

/* The answer given to one exchange, copied as it is given. */
typedef struct fake_answer_capture {
    http_exchange *exchange; /* whose answer is copied */
    bool taken;              /* an answer was given and copied */
    fake_answer_copy answer;
    uint64_t delay_ms; /* how long the answer is held before it goes out */
} fake_answer_capture;

/* Answers ex (the body is copied): now, or after the latency the request's
 * path draws. The exchange's data must be its fake_server, or NULL for an
 * answer that goes out at once. */
void fake_respond(http_exchange *ex, int status, const char *content_type, const char *body, size_t len);
/* Answers with a JSON document (takes the reference) and status. */
void fake_respond_json(http_exchange *ex, int status, json_t *doc);

/* Copies the answer ex is given until fake_answer_capture_end. */
void fake_answer_capture_begin(fake_server *fs, fake_answer_capture *capture, http_exchange *ex);
/* Stops copying and frees the copy. */
void fake_answer_capture_end(fake_server *fs, fake_answer_capture *capture);

#endif
