/* webhook_delivery: build, sign, send, record. The notification is built
 * afresh from the stored record at each attempt, so nothing but the outbox
 * row has to survive a crash; the signature's timestamp is the attempt's. */
#include "webhook_delivery.h"

#include "api_body.h"
#include "history_json.h"
#include "log.h"
#include "response_text.h"
#include "sealed_json.h"
#include "webhook_signature.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct webhook_delivery {
    webhook_delivery_env *env;
    webhook_claimed *row;
    bool check_addresses; /* the policy judges each address connected to */
    uint64_t started_ns;
    void (*done)(void *data);
    void *data;
} webhook_delivery;

/* ---- the outcome ---- */

static void on_recorded(const app_error *err, void *data)
{
    (void)err; /* logged by the store; the claim's expiry recovers */
    webhook_delivery *delivery = data;
    void (*done)(void *) = delivery->done;
    void *done_data = delivery->data;
    webhook_claimed_free(delivery->row);
    free(delivery);
    done(done_data);
}

static void record(webhook_delivery *delivery, webhook_attempt *attempt)
{
    attempt->row = delivery->row;
    uint64_t elapsed_ns = uv_hrtime() - delivery->started_ns;
    attempt->duration_ms = elapsed_ns / 1000000;
    webhook_delivery_env *env = delivery->env;
    if (env->observe && attempt->outcome != WEBHOOK_RELEASED)
        env->observe(env->observe_data, attempt->outcome == WEBHOOK_DELIVERED, elapsed_ns / 1000);
    webhook_store_finish(delivery->env->db, attempt, on_recorded, delivery);
}

/* A uniform random number in [0, 1) for the jitter. */
static double random_unit(void)
{
    uint32_t value = 0;
    if (uv_random(NULL, NULL, &value, sizeof value, 0, NULL) != 0)
        return 0.5;
    return value / 4294967296.0;
}

/* Not delivered: again after the schedule's next delay, or failed for good. */
static void schedule_next(const webhook_delivery *delivery, webhook_attempt *attempt)
{
    const webhook_claimed *row = delivery->row;
    long made = strtol(row->attempt, NULL, 10) - strtol(row->schedule_start, NULL, 10);
    if (made > 0 && webhook_schedule_next(delivery->env->schedule, (unsigned)made, random_unit(), &attempt->delay_ms)) {
        attempt->outcome = WEBHOOK_RETRY;
        return;
    }
    attempt->outcome = WEBHOOK_FAILED;
    char answer[32];
    snprintf(answer, sizeof answer, "HTTP %ld", attempt->status);
    log_warn("webhooks: notification %s of history %s failed after %s attempts (last: %s)", row->webhook_id,
             row->history_id, row->attempt, attempt->error ? attempt->error : answer);
}

/* The destination resolved to an address the policy refuses: failed for
 * good, said in the outbox and the log (the history and the address, never
 * the URL). */
static void refuse_address(const webhook_delivery *delivery, const http_client_response *res, webhook_attempt *attempt,
                           char *why, size_t why_len)
{
    snprintf(why, why_len, "not sent: webhook_url resolves to an internal address (%s)", res->error);
    attempt->error = why;
    attempt->outcome = WEBHOOK_FAILED;
    log_warn("webhooks: notification %s of history %s %s; marked failed (PAYMENT_WEBHOOK_ALLOW_HOSTS can allow it)",
             delivery->row->webhook_id, delivery->row->history_id, why);
}

static void on_answer(const http_client_response *res, void *data)
{
    webhook_delivery *delivery = data;
    webhook_attempt attempt = {.status = res->status, .error = res->error};
    char *body = res->error ? NULL : response_text_printable(res->body, res->body_len);
    attempt.body = body;
    char why[200];
    if (res->address_refused)
        refuse_address(delivery, res, &attempt, why, sizeof why);
    else if (!res->error && res->status >= 200 && res->status < 300)
        attempt.outcome = WEBHOOK_DELIVERED;
    else if (res->error && delivery->env->stopping)
        attempt.outcome = WEBHOOK_RELEASED;
    else
        schedule_next(delivery, &attempt);
    record(delivery, &attempt);
    free(body);
}

/* ---- the request ---- */

/* IPaymentWebhookHistory {id, source, previous, current} as JSON text,
 * encrypted (a subscription's event: the subscription before and after,
 * and the event); NULL when the stored documents cannot be opened. */
static char *notification_body(const webhook_delivery_env *env, const webhook_claimed *row, size_t *len)
{
    json_text text;
    json_text_init(&text);
    json_text_open(&text, '{');
    json_text_key(&text, "id");
    json_text_string(&text, row->webhook_id);
    json_text_key(&text, "source");
    history_json_source_text(&text, row->source_schema, row->source_table, row->source_id);
    json_text_key(&text, "previous");
    int opened = sealed_json_append(&text, env->history_seal, row->previous);
    json_text_key(&text, "current");
    opened = opened == 0 ? sealed_json_append(&text, env->history_seal, row->current) : -1;
    if (row->event) {
        json_text_key(&text, "event");
        opened = opened == 0 ? sealed_json_append(&text, env->history_seal, row->event) : -1;
    }
    json_text_close(&text, '}');
    size_t printed_len = 0;
    const char *printed = opened == 0 ? json_text_result(&text, &printed_len) : NULL;
    char *sealed = printed ? crypto_cbc_encrypt_base64(env->connection_key, printed, printed_len, len) : NULL;
    json_text_free(&text);
    return sealed;
}

/* An alert (subscription_alert.h): the {"text": ...} of a Slack-compatible
 * incoming webhook, plain JSON, since a chat cannot open our encryption; it
 * holds no secret. The signature headers still come with it, ignored by a
 * chat and checked by any receiver of ours. */
static char *alert_body(const webhook_claimed *row, size_t *len)
{
    json_text text;
    json_text_init(&text);
    json_text_open(&text, '{');
    json_text_key(&text, "text");
    json_text_string(&text, row->alert);
    json_text_close(&text, '}');
    const char *printed = json_text_result(&text, len);
    char *body = printed ? strndup(printed, *len) : NULL;
    json_text_free(&text);
    return body;
}

/* POSTs body with its signature headers. Returns 0, or -1 (nothing sent). */
static int send_signed(webhook_delivery *delivery, const char *body, size_t len)
{
    const webhook_delivery_env *env = delivery->env;
    char timestamp[24], signature[WEBHOOK_SIGNATURE_SIZE];
    snprintf(timestamp, sizeof timestamp, "%" PRId64, (int64_t)time(NULL));
    if (webhook_signature_make(env->secret, timestamp, body, len, signature) < 0)
        return -1;
    char timestamp_header[64], signature_header[96], id_header[96];
    snprintf(timestamp_header, sizeof timestamp_header, WEBHOOK_TIMESTAMP_HEADER ": %s", timestamp);
    snprintf(signature_header, sizeof signature_header, WEBHOOK_SIGNATURE_HEADER ": %s", signature);
    snprintf(id_header, sizeof id_header, "X-Payments-Webhook-Id: %s", delivery->row->webhook_id);
    const char *content_type = delivery->row->alert ? "Content-Type: application/json" : "Content-Type: text/plain";
    const char *headers[] = {content_type, timestamp_header, signature_header, id_header, NULL};
    http_client_request req = {
        .method = "POST",
        .url = delivery->row->webhook_url,
        .headers = headers,
        .body = body,
        .body_len = len,
        .timeout_ms = env->timeout_ms,
        .address_filter = delivery->check_addresses ? webhook_destination_address_allowed : NULL,
        .address_filter_data = &delivery->env->destinations,
    };
    return http_client_send(env->client, &req, on_answer, delivery);
}

/* An attempt that ended before reaching the network. */
static void end_early(webhook_delivery *delivery, webhook_outcome outcome, const char *error)
{
    webhook_attempt attempt = {.outcome = outcome, .error = error};
    if (outcome == WEBHOOK_FAILED)
        log_error("webhooks: notification %s of history %s: %s", delivery->row->webhook_id, delivery->row->history_id,
                  error);
    else if (outcome != WEBHOOK_RELEASED)
        schedule_next(delivery, &attempt);
    record(delivery, &attempt);
}

void webhook_delivery_start(webhook_delivery_env *env, webhook_claimed *row, void (*done)(void *data), void *data)
{
    webhook_delivery *delivery = calloc(1, sizeof *delivery);
    if (!delivery) {
        log_error("webhooks: out of memory; notification %s goes out when its claim expires", row->webhook_id);
        webhook_claimed_free(row);
        done(data);
        return;
    }
    *delivery = (webhook_delivery){.env = env, .row = row, .started_ns = uv_hrtime(), .done = done, .data = data};
    if (env->stopping) {
        end_early(delivery, WEBHOOK_RELEASED, "not sent: the worker was stopping");
        return;
    }
    /* Also here: a history recorded before these checks existed, or under
     * another mode or allow-list, may hold a URL refused now. */
    const char *refusal = webhook_destination_refusal(&env->destinations, row->webhook_url, &delivery->check_addresses);
    if (refusal) {
        char why[160];
        snprintf(why, sizeof why, "not sent: webhook_url %s", refusal);
        end_early(delivery, WEBHOOK_FAILED, why);
        return;
    }
    size_t len = 0;
    char *body = row->alert ? alert_body(row, &len) : notification_body(env, row, &len);
    if (!body) {
        end_early(delivery, WEBHOOK_FAILED, "the stored notification cannot be opened (wrong or rotated-out key?)");
        return;
    }
    int sent = send_signed(delivery, body, len);
    free(body);
    if (sent < 0)
        end_early(delivery, WEBHOOK_RETRY, "the request could not be started");
}
