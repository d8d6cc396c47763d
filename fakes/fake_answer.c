/* fake_answer: an answer is drawn a delay from the fake's latency, copied
 * when a capture waits for it, then sent now or handed to fake_hold. The
 * exchange's data slot carries the fake, since handlers pass only ex. */
#include "fake_answer.h"

#include "fake_hold.h"
#include "fake_server.h"

#include <stdlib.h>
#include <string.h>

int fake_answer_copy_make(fake_answer_copy *copy, int status, const char *content_type, const char *body, size_t len)
{
    memset(copy, 0, sizeof *copy);
    copy->status = status;
    copy->body = malloc(len + 1);
    if (!copy->body)
        return -1;
    if (len > 0)
        memcpy(copy->body, body, len);
    copy->body[len] = '\0';
    copy->body_len = len;
    if (content_type && !(copy->content_type = strdup(content_type))) {
        fake_answer_copy_free(copy);
        return -1;
    }
    return 0;
}

void fake_answer_copy_free(fake_answer_copy *copy)
{
    free(copy->content_type);
    free(copy->body);
    memset(copy, 0, sizeof *copy);
}

static void answer_capture(fake_server *fs, http_exchange *ex, int status, const char *content_type, const char *body,
                           size_t len)
{
    fake_answer_capture *capture = fs->capture;
    if (!capture || capture->exchange != ex || capture->taken)
        return;
    capture->taken = fake_answer_copy_make(&capture->answer, status, content_type, body, len) == 0;
}

void fake_respond(http_exchange *ex, int status, const char *content_type, const char *body, size_t len)
{
    fake_server *fs = http_exchange_data(ex);
    if (!fs) {
        http_respond(ex, status, content_type, body, len);
        return;
    }
    answer_capture(fs, ex, status, content_type, body, len);
    uint64_t delay_ms =
        fake_latency_pick(&fs->latency, http_exchange_request(ex)->method_name, http_exchange_request(ex)->path);
    if (delay_ms > 0 && fake_hold_answer(fs, ex, delay_ms, status, content_type, body, len) != 0)
        delay_ms = 0;
    if (fs->capture && fs->capture->exchange == ex)
        fs->capture->delay_ms = delay_ms;
    if (delay_ms == 0)
        http_respond(ex, status, content_type, body, len);
}

void fake_respond_json(http_exchange *ex, int status, json_t *doc)
{
    char *body = doc ? json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(doc);
    if (!body) {
        http_respond_error(ex, 500, "cannot encode the response");
        return;
    }
    fake_respond(ex, status, "application/json; charset=utf-8", body, strlen(body));
    free(body);
}

void fake_answer_capture_begin(fake_server *fs, fake_answer_capture *capture, http_exchange *ex)
{
    memset(capture, 0, sizeof *capture);
    capture->exchange = ex;
    fs->capture = capture;
}

void fake_answer_capture_end(fake_server *fs, fake_answer_capture *capture)
{
    if (fs->capture == capture)
        fs->capture = NULL;
    fake_answer_copy_free(&capture->answer);
    capture->taken = false;
}
