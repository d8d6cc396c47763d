/* Unit test of the vendor adapters against our fake vendor servers, started
 * here on free loopback ports: payments are made through the fakes' own APIs,
 * then each adapter must read, confirm, cancel and look up billing keys as
 * the routes expect, and turn every failure (refusal, unknown uid, vendor
 * down, silent, malformed, wrong credentials) into the right status. A
 * counting proxy in front of the iamport fake shows tokens are reused. */
#include "vendor_internal.h"

#include "config.h"
#include "crypto.h"
#include "http_server.h"
#include "unit.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define TOSS_SECRET "test_ak_ZORzdMaqN3wQd5k6ygr5AkYXQGwy"
#define TEST_TIMEOUT_MS 5000
#define SILENT_TIMEOUT_MS 300

/* ---- the fake servers, as child processes ---------------------------------- */

typedef struct fake_process {
    pid_t pid;
    int port;
    char log_path[64];
} fake_process;

/* The port from the fake's "listening on 127.0.0.1:PORT" log line. */
static int fake_wait_listening(fake_process *fp)
{
    for (int attempt = 0; attempt < 500; attempt++) {
        FILE *log = fopen(fp->log_path, "r");
        char line[512];
        while (log && fgets(line, sizeof line, log)) {
            const char *at = strstr(line, "listening on ");
            const char *colon = at ? strrchr(at, ':') : NULL;
            if (colon && strchr(colon, '\n')) { /* a whole line, not one still being written */
                fclose(log);
                return atoi(colon + 1);
            }
        }
        if (log)
            fclose(log);
        if (waitpid(fp->pid, NULL, WNOHANG) == fp->pid) {
            fp->pid = 0; /* exited: nothing left to stop */
            return -1;
        }
        usleep(20000);
    }
    return -1;
}

/* Starts a fake with the credentials this test uses, whatever FAKE_* the
 * environment holds. key is NULL for Toss; token_ttl_ms may be NULL. */
static int fake_start(fake_process *fp, const char *binary, const char *name, const char *key,
                      const char *token_ttl_ms)
{
    snprintf(fp->log_path, sizeof fp->log_path, "/tmp/test_vendors_%s_%d.log", name, (int)getpid());
    posix_spawn_file_actions_t actions;
    if (posix_spawn_file_actions_init(&actions) != 0)
        return -1;
    posix_spawn_file_actions_addopen(&actions, 1, fp->log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    char *argv[12] = {(char *)binary, "--host", "127.0.0.1", "--port", "0", "--secret",
                      key ? "test_imp_secret" : TOSS_SECRET};
    int argc = 7;
    if (key) {
        argv[argc++] = "--key";
        argv[argc++] = (char *)key;
    }
    if (token_ttl_ms) {
        argv[argc++] = "--token-ttl-ms";
        argv[argc++] = (char *)token_ttl_ms;
    }
    int rc = posix_spawn(&fp->pid, binary, &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        fprintf(stderr, "cannot start %s: %s\n", binary, strerror(rc));
        return -1;
    }
    fp->port = fake_wait_listening(fp);
    if (fp->port <= 0) {
        fprintf(stderr, "%s did not report listening; see %s\n", binary, fp->log_path);
        return -1;
    }
    return 0;
}

static void fake_stop(fake_process *fp)
{
    if (fp->pid <= 0)
        return;
    kill(fp->pid, SIGTERM);
    waitpid(fp->pid, NULL, 0);
    unlink(fp->log_path);
    fp->pid = 0;
}

/* ---- the test's state ------------------------------------------------------ */

typedef enum proxy_mode {
    PROXY_FORWARD,           /* forward everything to proxy_target */
    PROXY_REFUSE_TOKEN,      /* answer the next authorized request with 401, then forward */
    PROXY_GARBAGE,           /* answer 200 with a body that is not JSON */
    PROXY_ALREADY_PROCESSED, /* answer POSTs as Toss does for a payment confirmed before */
} proxy_mode;

typedef struct test_env {
    uv_loop_t loop;
    http_client *client;
    vendor_context *ctx;
    char iamport_url[64], toss_url[64], proxy_url[64];
    char short_token_url[64]; /* an iamport fake whose tokens live 2 s */
    char closed_url[64], silent_url[64];
    char iamport_token[128];
    char toss_authorization[128];
    int silent_fd;
    int order_counter;
    /* the counting proxy, in front of one of the fakes */
    http_server *proxy;
    const char *proxy_target;
    proxy_mode proxy_mode;
    int proxy_get_token_count;
    int proxy_refused;
} test_env;

typedef struct test_wait {
    const bool *done;
    bool timed_out;
} test_wait;

static void wait_guard_fired(uv_timer_t *timer)
{
    test_wait *w = timer->data;
    w->timed_out = true;
}

/* Before the loop would block for I/O: stop once the awaited callback ran,
 * which may have been in this very iteration's timers. */
static void wait_check(uv_prepare_t *prepare)
{
    test_wait *w = prepare->data;
    if (*w->done || w->timed_out)
        uv_stop(prepare->loop);
}

/* Runs the loop until *done; a guard ends a wait that would never end. */
static void run_until(test_env *t, const bool *done)
{
    test_wait w = {.done = done};
    uv_timer_t guard;
    uv_prepare_t check;
    uv_timer_init(&t->loop, &guard);
    uv_prepare_init(&t->loop, &check);
    guard.data = &w;
    check.data = &w;
    uv_timer_start(&guard, wait_guard_fired, 20000, 0);
    uv_prepare_start(&check, wait_check);
    while (!*done && !w.timed_out)
        uv_run(&t->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&guard, NULL);
    uv_close((uv_handle_t *)&check, NULL);
    uv_run(&t->loop, UV_RUN_NOWAIT);
    CHECK(!w.timed_out); /* 20 s: far beyond every timeout in this test */
}

/* ---- plain HTTP calls to the fakes (to make payments) ---------------------- */

typedef struct http_result {
    bool done;
    long status;
    json_t *doc;
} http_result;

static void http_answered(const http_client_response *res, void *data)
{
    http_result *r = data;
    r->status = res->status;
    r->doc = res->error ? NULL : json_loadb(res->body, res->body_len, 0, NULL);
    r->done = true;
}

/* The answer as JSON (caller frees), NULL on failure; takes body. */
static json_t *http_json(test_env *t, const char *method, const char *url, const char *authorization, json_t *body,
                         long *status)
{
    char header[256];
    snprintf(header, sizeof header, "Authorization: %s", authorization ? authorization : "");
    const char *headers[] = {"Content-Type: application/json", header, NULL};
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    http_client_request req = {.method = method, .url = url, .headers = headers, .body = text,
                               .body_len = text ? strlen(text) : 0, .timeout_ms = TEST_TIMEOUT_MS};
    http_result r = {0};
    if (http_client_send(t->client, &req, http_answered, &r) != 0) {
        free(text);
        return NULL;
    }
    free(text);
    run_until(t, &r.done);
    if (status)
        *status = r.status;
    return r.doc;
}

static void next_order_id(test_env *t, char *out, size_t cap)
{
    snprintf(out, cap, "order-%d-%d", (int)getpid(), ++t->order_counter);
}

/* ---- iamport set-up through its own API ------------------------------------ */

static int iamport_login(test_env *t)
{
    char url[128];
    snprintf(url, sizeof url, "%s/users/getToken", t->iamport_url);
    json_t *doc = http_json(t, "POST", url, NULL,
                            json_pack("{s:s, s:s}", "imp_key", "test_imp_key", "imp_secret", "test_imp_secret"), NULL);
    const char *token = json_string_value(json_object_get(json_object_get(doc, "response"), "access_token"));
    int rc = token ? 0 : -1;
    if (token)
        snprintf(t->iamport_token, sizeof t->iamport_token, "%s", token);
    json_decref(doc);
    return rc;
}

/* The imp_uid of a new iamport payment (out), paid by card or a virtual account. */
static bool iamport_make(test_env *t, bool vbank, double amount, char *order_id, char *imp_uid, size_t cap)
{
    char url[128];
    next_order_id(t, order_id, cap);
    json_t *body;
    if (vbank) {
        snprintf(url, sizeof url, "%s/vbanks", t->iamport_url);
        body = json_pack("{s:s, s:f, s:s, s:I, s:s}", "merchant_uid", order_id, "amount", amount, "vbank_code", "004",
                         "vbank_due", (json_int_t)time(NULL) + 86400, "vbank_holder", "Holder");
    } else {
        snprintf(url, sizeof url, "%s/subscribe/payments/onetime", t->iamport_url);
        body = json_pack("{s:s, s:f, s:s, s:s, s:s, s:s}", "merchant_uid", order_id, "amount", amount, "name",
                         "test order", "card_number", "1111-2222-3333-4444", "expiry", "2030-12", "birth", "900101");
    }
    json_t *doc = http_json(t, "POST", url, t->iamport_token, body, NULL);
    const char *uid = json_string_value(json_object_get(json_object_get(doc, "response"), "imp_uid"));
    bool ok = uid != NULL;
    if (ok)
        snprintf(imp_uid, cap, "%s", uid);
    json_decref(doc);
    return ok;
}

static bool iamport_deposit(test_env *t, const char *imp_uid)
{
    char url[256];
    long status = 0;
    snprintf(url, sizeof url, "%s/internal/deposit/%s", t->iamport_url, imp_uid);
    json_decref(http_json(t, "PUT", url, t->iamport_token, NULL, &status));
    return status == 200;
}

static bool iamport_make_billing(test_env *t, char *customer_uid, size_t cap)
{
    char url[160];
    snprintf(customer_uid, cap, "customer-%d-%d", (int)getpid(), ++t->order_counter);
    snprintf(url, sizeof url, "%s/subscribe/customers/%s", t->iamport_url, customer_uid);
    long status = 0;
    json_decref(http_json(t, "POST", url, t->iamport_token,
                          json_pack("{s:s, s:s, s:s}", "card_number", "1111-2222-3333-4444", "expiry", "2030-12",
                                    "birth", "900101"),
                          &status));
    return status == 201;
}

/* ---- Toss set-up through its own API --------------------------------------- */

/* The paymentKey of a new Toss payment: a key-in card payment (approved or
 * left IN_PROGRESS) or a virtual account. */
static bool toss_make(test_env *t, const char *kind, double amount, char *order_id, char *key, size_t cap)
{
    char url[128];
    next_order_id(t, order_id, cap);
    json_t *body;
    if (strcmp(kind, "virtual") == 0) {
        snprintf(url, sizeof url, "%s/v1/virtual-accounts", t->toss_url);
        body = json_pack("{s:s, s:s, s:I, s:s, s:s}", "orderId", order_id, "orderName", "test order", "amount",
                         (json_int_t)amount, "bank", "신한", "customerName", "Customer");
    } else {
        snprintf(url, sizeof url, "%s/v1/payments/key-in", t->toss_url);
        body = json_pack("{s:s, s:I, s:s, s:s, s:s}", "orderId", order_id, "amount", (json_int_t)amount, "cardNumber",
                         "1111222233334444", "cardExpirationYear", "30", "cardExpirationMonth", "12");
        if (strcmp(kind, "unapproved") == 0)
            json_object_set_new(body, "__approved", json_false());
    }
    json_t *doc = http_json(t, "POST", url, t->toss_authorization, body, NULL);
    const char *payment_key = json_string_value(json_object_get(doc, "paymentKey"));
    bool ok = payment_key != NULL;
    if (ok)
        snprintf(key, cap, "%s", payment_key);
    json_decref(doc);
    return ok;
}

static bool toss_deposit(test_env *t, const char *payment_key)
{
    char url[160];
    long status = 0;
    snprintf(url, sizeof url, "%s/internal/%s/deposit", t->toss_url, payment_key);
    json_decref(http_json(t, "PUT", url, t->toss_authorization, NULL, &status));
    return status == 200;
}

static bool toss_make_billing(test_env *t, const char *customer_key, char *billing_key, size_t cap)
{
    char url[128];
    snprintf(url, sizeof url, "%s/v1/billing/authorizations/card", t->toss_url);
    json_t *doc = http_json(t, "POST", url, t->toss_authorization,
                            json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "customerKey", customer_key, "cardNumber",
                                      "1111222233334444", "cardExpirationYear", "30", "cardExpirationMonth", "12",
                                      "customerBirthday", "900101", "cardPassword", "12"),
                            NULL);
    const char *key = json_string_value(json_object_get(doc, "billingKey"));
    bool ok = key != NULL;
    if (ok)
        snprintf(billing_key, cap, "%s", key);
    json_decref(doc);
    return ok;
}

/* ---- adapter calls, run to completion -------------------------------------- */

typedef struct vendor_result {
    bool done;
    int calls; /* the callback must run exactly once */
    vendor_payment *payment;
    vendor_billing *billing;
    app_error err;
} vendor_result;

static void on_payment(vendor_payment *payment, const app_error *err, void *data)
{
    vendor_result *r = data;
    r->calls++;
    r->payment = payment;
    if (err)
        r->err = *err;
    r->done = true;
}

static void on_billing(vendor_billing *billing, const app_error *err, void *data)
{
    vendor_result *r = data;
    r->calls++;
    r->billing = billing;
    if (err)
        r->err = *err;
    r->done = true;
}

/* Completes r and checks the one-callback rule and that result and error
 * never come together. */
static void finish(test_env *t, vendor_result *r)
{
    CHECK(!r->done); /* never answered from inside the call */
    run_until(t, &r->done);
    uv_run(&t->loop, UV_RUN_NOWAIT);
    CHECK(r->calls == 1);
    CHECK((r->payment || r->billing) == (r->err.status == 0));
}

static vendor_result do_fetch(test_env *t, vendor_context *ctx, const vendor_adapter *a, const vendor_store *store,
                              const char *uid)
{
    vendor_result r = {0};
    a->fetch(ctx, store, uid, on_payment, &r);
    finish(t, &r);
    return r;
}

static vendor_result do_approve(test_env *t, const vendor_adapter *a, const vendor_store *store, const char *uid,
                                const char *order_id, double amount)
{
    vendor_result r = {0};
    a->approve(t->ctx, store, uid, order_id, amount, on_payment, &r);
    finish(t, &r);
    return r;
}

static vendor_result do_cancel(test_env *t, const vendor_adapter *a, const vendor_store *store, const char *uid,
                               double amount, const char *reason, const vendor_refund_account *account)
{
    vendor_result r = {0};
    a->cancel(t->ctx, store, uid, amount, reason, account, on_payment, &r);
    finish(t, &r);
    return r;
}

static vendor_result do_fetch_billing(test_env *t, const vendor_adapter *a, const vendor_store *store,
                                      const char *uid, const char *customer_key)
{
    vendor_result r = {0};
    a->fetch_billing(t->ctx, store, uid, customer_key, on_billing, &r);
    finish(t, &r);
    return r;
}

static void result_free(vendor_result *r)
{
    vendor_payment_free(r->payment);
    vendor_billing_free(r->billing);
    r->payment = NULL;
    r->billing = NULL;
}

/* A unix-ms time that is "now" give or take ten minutes: seconds read as
 * milliseconds (or the reverse) would be far off. */
static bool is_recent_ms(int64_t ms)
{
    int64_t now_ms = (int64_t)time(NULL) * 1000;
    return ms > now_ms - 600000 && ms < now_ms + 600000;
}

static double cancel_price(const vendor_payment *p, size_t i)
{
    return json_number_value(json_object_get(json_array_get(p->cancels, i), "price"));
}

static const char *cancel_reason(const vendor_payment *p, size_t i)
{
    return json_string_value(json_object_get(json_array_get(p->cancels, i), "reason"));
}

/* ---- the iamport adapter ---------------------------------------------------- */

static void test_iamport_card(test_env *t, const vendor_store *store)
{
    const vendor_adapter *a = vendor_find("iamport");
    char order_id[64], uid[64];
    CHECK(iamport_make(t, false, 10000, order_id, uid, sizeof uid));

    vendor_result r = do_fetch(t, t->ctx, a, store, uid);
    CHECK(r.payment != NULL);
    if (r.payment) {
        CHECK_STR(r.payment->uid, uid);
        CHECK_STR(r.payment->order_id, order_id);
        CHECK_STR(r.payment->currency, "KRW");
        CHECK(r.payment->amount == 10000);
        CHECK(r.payment->refunded == 0);
        CHECK(r.payment->status == VENDOR_STATUS_PAID);
        CHECK(!r.payment->awaits_approval);
        CHECK(is_recent_ms(r.payment->paid_at));
        CHECK(r.payment->cancelled_at == 0);
        CHECK(json_array_size(r.payment->cancels) == 0);
        CHECK_STR(json_string_value(json_object_get(r.payment->data, "imp_uid")), uid);
        CHECK_STR(json_string_value(json_object_get(r.payment->data, "pay_method")), "card");
    }
    result_free(&r);

    r = do_approve(t, a, store, uid, order_id, 10000); /* no approval step: the payment as it is */
    CHECK(r.payment && r.payment->status == VENDOR_STATUS_PAID && strcmp(r.payment->uid, uid) == 0);
    result_free(&r);

    r = do_cancel(t, a, store, uid, 3000, "first part", NULL);
    CHECK(r.payment != NULL);
    if (r.payment) {
        CHECK(r.payment->status == VENDOR_STATUS_PARTIAL);
        CHECK(r.payment->refunded == 3000);
        CHECK(json_array_size(r.payment->cancels) == 1);
        CHECK(cancel_price(r.payment, 0) == 3000);
        CHECK_STR(cancel_reason(r.payment, 0), "first part");
        CHECK(is_recent_ms(r.payment->cancelled_at));
    }
    result_free(&r);

    r = do_cancel(t, a, store, uid, 7000, "the rest", NULL);
    CHECK(r.payment != NULL);
    if (r.payment) {
        CHECK(r.payment->status == VENDOR_STATUS_CANCELLED);
        CHECK(r.payment->refunded == 10000);
        CHECK(json_array_size(r.payment->cancels) == 2);
        CHECK(cancel_price(r.payment, 0) == 3000);
        CHECK(cancel_price(r.payment, 1) == 7000);
        CHECK_STR(cancel_reason(r.payment, 1), "the rest");
    }
    result_free(&r);

    r = do_cancel(t, a, store, uid, 1, "too much", NULL);
    CHECK(r.err.status == 422);
    CHECK(strstr(r.err.message, "iamport") != NULL);
    result_free(&r);

    /* Over-cancel on a payment that still has a balance, too. */
    CHECK(iamport_make(t, false, 5000, order_id, uid, sizeof uid));
    r = do_cancel(t, a, store, uid, 6000, "more than paid", NULL);
    CHECK(r.err.status == 422);
    CHECK(strstr(r.err.message, "cancellable") != NULL); /* the vendor's own words */
    result_free(&r);
}

static void test_iamport_vbank(test_env *t, const vendor_store *store)
{
    const vendor_adapter *a = vendor_find("iamport");
    char order_id[64], uid[64];
    CHECK(iamport_make(t, true, 20000, order_id, uid, sizeof uid));
    vendor_result r = do_fetch(t, t->ctx, a, store, uid);
    CHECK(r.payment && r.payment->status == VENDOR_STATUS_READY && r.payment->paid_at == 0 &&
          !r.payment->awaits_approval && r.payment->amount == 20000);
    result_free(&r);

    CHECK(iamport_deposit(t, uid));
    r = do_fetch(t, t->ctx, a, store, uid);
    CHECK(r.payment && r.payment->status == VENDOR_STATUS_PAID && is_recent_ms(r.payment->paid_at));
    result_free(&r);

    r = do_cancel(t, a, store, uid, 20000, "refund", NULL);
    CHECK(r.err.status == 422); /* a paid virtual account needs a refund account */
    result_free(&r);

    vendor_refund_account account = {.bank = "004", .account = "12345678901234", .holder = "Holder",
                                      .mobile = "01012345678"};
    r = do_cancel(t, a, store, uid, 20000, "refund", &account);
    CHECK(r.payment && r.payment->status == VENDOR_STATUS_CANCELLED && r.payment->refunded == 20000);
    if (r.payment)
        CHECK_STR(json_string_value(json_object_get(r.payment->data, "pay_method")), "vbank");
    result_free(&r);
}

static void test_iamport_billing_and_unknown(test_env *t, const vendor_store *store)
{
    const vendor_adapter *a = vendor_find("iamport");
    char customer_uid[64];
    CHECK(iamport_make_billing(t, customer_uid, sizeof customer_uid));
    vendor_result r = do_fetch_billing(t, a, store, customer_uid, "ignored by iamport");
    CHECK(r.billing != NULL);
    if (r.billing) {
        CHECK_STR(r.billing->uid, customer_uid);
        CHECK_STR(json_string_value(json_object_get(r.billing->data, "card_number")), "1111-2222-3333-4444");
    }
    result_free(&r);

    r = do_fetch_billing(t, a, store, "customer-nobody", NULL);
    CHECK(r.err.status == 404);
    result_free(&r);

    r = do_fetch(t, t->ctx, a, store, "imp_000000000000");
    CHECK(r.err.status == 404);
    result_free(&r);

    r = do_fetch(t, t->ctx, a, store, "..");
    CHECK(r.err.status == 404); /* the uid stays one path segment */
    result_free(&r);

    vendor_store wrong = *store;
    wrong.store_id = "wrong";
    wrong.secret = "not_the_secret";
    r = do_fetch(t, t->ctx, a, &wrong, "imp_000000000000");
    CHECK(r.err.status == 502);
    CHECK(strstr(r.err.message, "credentials") != NULL);
    CHECK(strstr(r.err.message, "not_the_secret") == NULL);
    result_free(&r);
}

/* Through the counting proxy: one token for a burst of calls and for later
 * calls; a token the vendor refuses is replaced once. */
static void test_iamport_tokens(test_env *t)
{
    const vendor_adapter *a = vendor_find("iamport");
    vendor_store store = {"proxy", t->proxy_url, "test_imp_key", "test_imp_secret"};
    vendor_context *ctx = vendor_context_create(&t->loop, t->client, TEST_TIMEOUT_MS);
    char order_id[64], uid[64];
    CHECK(ctx && iamport_make(t, false, 1000, order_id, uid, sizeof uid));
    t->proxy_target = t->iamport_url;
    t->proxy_get_token_count = 0;

    vendor_result burst[3] = {0};
    for (int i = 0; i < 3; i++)
        a->fetch(ctx, &store, uid, on_payment, &burst[i]);
    for (int i = 0; i < 3; i++) {
        run_until(t, &burst[i].done);
        CHECK(burst[i].calls == 1);
        CHECK(burst[i].payment && strcmp(burst[i].payment->order_id, order_id) == 0);
        result_free(&burst[i]);
    }
    CHECK(t->proxy_get_token_count == 1);

    for (int i = 0; i < 2; i++) {
        vendor_result r = do_fetch(t, ctx, a, &store, uid);
        CHECK(r.payment != NULL);
        result_free(&r);
    }
    CHECK(t->proxy_get_token_count == 1);

    t->proxy_mode = PROXY_REFUSE_TOKEN;
    vendor_result r = do_fetch(t, ctx, a, &store, uid);
    CHECK(t->proxy_refused == 1);
    CHECK(r.payment != NULL); /* retried with a new token */
    CHECK(t->proxy_get_token_count == 2);
    result_free(&r);
    t->proxy_mode = PROXY_FORWARD;

    r = do_fetch(t, ctx, a, &store, uid);
    CHECK(r.payment != NULL && t->proxy_get_token_count == 2);
    result_free(&r);

    t->proxy_mode = PROXY_GARBAGE;
    r = do_fetch(t, ctx, a, &store, uid);
    CHECK(r.err.status == 502);
    result_free(&r);
    t->proxy_mode = PROXY_FORWARD;

    /* Destroyed with a call in flight: the call still answers, then all is freed. */
    r = (vendor_result){0};
    a->fetch(ctx, &store, uid, on_payment, &r);
    vendor_context_destroy(ctx);
    run_until(t, &r.done);
    CHECK(r.calls == 1);
    result_free(&r);
}

/* A token that lives 2 s is renewed once less than half its life remains
 * (ahead of its expiry, while the vendor would still take it). */
static void test_iamport_token_renewal(test_env *t)
{
    const vendor_adapter *a = vendor_find("iamport");
    vendor_store store = {"short", t->proxy_url, "test_imp_key", "test_imp_secret"};
    vendor_context *ctx = vendor_context_create(&t->loop, t->client, TEST_TIMEOUT_MS);
    CHECK(ctx != NULL);
    if (!ctx)
        return;
    t->proxy_target = t->short_token_url;
    t->proxy_get_token_count = 0;
    vendor_result r = do_fetch(t, ctx, a, &store, "imp_000000000000");
    CHECK(r.err.status == 404); /* authorized, and the payment is unknown */
    result_free(&r);
    r = do_fetch(t, ctx, a, &store, "imp_000000000000");
    CHECK(r.err.status == 404);
    result_free(&r);
    CHECK(t->proxy_get_token_count == 1);

    usleep(1200 * 1000);
    uv_update_time(&t->loop);
    r = do_fetch(t, ctx, a, &store, "imp_000000000000");
    CHECK(r.err.status == 404);
    result_free(&r);
    CHECK(t->proxy_get_token_count == 2);
    vendor_context_destroy(ctx);
}

/* ---- the Toss adapter -------------------------------------------------------- */

static void test_toss_card(test_env *t, const vendor_store *store)
{
    const vendor_adapter *a = vendor_find("toss.payments");
    char order_id[64], key[64];
    CHECK(toss_make(t, "card", 15000, order_id, key, sizeof key));
    vendor_result r = do_fetch(t, t->ctx, a, store, key);
    CHECK(r.payment != NULL);
    if (r.payment) {
        CHECK_STR(r.payment->uid, key);
        CHECK_STR(r.payment->order_id, order_id);
        CHECK_STR(r.payment->currency, "KRW");
        CHECK(r.payment->amount == 15000);
        CHECK(r.payment->status == VENDOR_STATUS_PAID);
        CHECK(!r.payment->awaits_approval);
        CHECK(is_recent_ms(r.payment->paid_at));
        CHECK(r.payment->refunded == 0);
        CHECK_STR(json_string_value(json_object_get(r.payment->data, "paymentKey")), key);
    }
    result_free(&r);

    r = do_cancel(t, a, store, key, 5000, "first part", NULL);
    CHECK(r.payment && r.payment->status == VENDOR_STATUS_PARTIAL && r.payment->refunded == 5000 &&
          json_array_size(r.payment->cancels) == 1 && is_recent_ms(r.payment->cancelled_at));
    if (r.payment)
        CHECK_STR(cancel_reason(r.payment, 0), "first part");
    result_free(&r);

    r = do_cancel(t, a, store, key, 20000, "too much", NULL);
    CHECK(r.err.status == 422); /* Toss answers 403 NOT_CANCELABLE_AMOUNT: a refusal, not our credentials */
    CHECK(strstr(r.err.message, "balance") != NULL);
    result_free(&r);

    r = do_cancel(t, a, store, key, 10000, "the rest", NULL);
    CHECK(r.payment && r.payment->status == VENDOR_STATUS_CANCELLED && r.payment->refunded == 15000 &&
          json_array_size(r.payment->cancels) == 2);
    if (r.payment)
        CHECK(cancel_price(r.payment, 0) == 5000 && cancel_price(r.payment, 1) == 10000);
    result_free(&r);

    r = do_cancel(t, a, store, key, 1, "again", NULL);
    CHECK(r.err.status == 422);
    result_free(&r);
}

static void test_toss_approve(test_env *t, const vendor_store *store)
{
    const vendor_adapter *a = vendor_find("toss.payments");
    char order_id[64], key[64];
    CHECK(toss_make(t, "unapproved", 8000, order_id, key, sizeof key));
    vendor_result r = do_fetch(t, t->ctx, a, store, key);
    CHECK(r.payment && r.payment->status == VENDOR_STATUS_READY && r.payment->awaits_approval &&
          r.payment->paid_at == 0);
    result_free(&r);

    r = do_approve(t, a, store, key, "another-order", 8000);
    CHECK(r.err.status == 422);
    CHECK(strstr(r.err.message, "orderId") != NULL);
    result_free(&r);
    r = do_approve(t, a, store, key, order_id, 8001);
    CHECK(r.err.status == 422);
    result_free(&r);

    r = do_fetch(t, t->ctx, a, store, key);
    CHECK(r.payment && r.payment->awaits_approval); /* refusals changed nothing */
    result_free(&r);

    r = do_approve(t, a, store, key, order_id, 8000);
    CHECK(r.payment && r.payment->status == VENDOR_STATUS_PAID && !r.payment->awaits_approval &&
          is_recent_ms(r.payment->paid_at));
    result_free(&r);

    r = do_approve(t, a, store, key, order_id, 8000); /* confirming twice answers the same payment */
    CHECK(r.payment && r.payment->status == VENDOR_STATUS_PAID);
    result_free(&r);
}

/* Real Toss refuses to confirm a payment twice (ALREADY_PROCESSED_PAYMENT);
 * the adapter then reads the payment and checks order and amount itself. */
static void test_toss_approve_processed(test_env *t)
{
    const vendor_adapter *a = vendor_find("toss.payments");
    vendor_store store = {"processed", t->proxy_url, NULL, TOSS_SECRET};
    char order_id[64], key[64];
    CHECK(toss_make(t, "card", 9000, order_id, key, sizeof key));
    t->proxy_target = t->toss_url;
    t->proxy_mode = PROXY_ALREADY_PROCESSED;
    vendor_result r = do_approve(t, a, &store, key, order_id, 9000);
    CHECK(r.payment && r.payment->status == VENDOR_STATUS_PAID && strcmp(r.payment->uid, key) == 0);
    result_free(&r);
    r = do_approve(t, a, &store, key, "another-order", 9000);
    CHECK(r.err.status == 422 && strstr(r.err.message, "orderId") != NULL);
    result_free(&r);
    r = do_approve(t, a, &store, key, order_id, 9001);
    CHECK(r.err.status == 422 && strstr(r.err.message, "amount") != NULL);
    result_free(&r);
    t->proxy_mode = PROXY_FORWARD;
}

static void test_toss_virtual_account(test_env *t, const vendor_store *store)
{
    const vendor_adapter *a = vendor_find("toss.payments");
    char order_id[64], key[64];
    CHECK(toss_make(t, "virtual", 30000, order_id, key, sizeof key));
    vendor_result r = do_fetch(t, t->ctx, a, store, key);
    CHECK(r.payment && r.payment->status == VENDOR_STATUS_READY && !r.payment->awaits_approval &&
          r.payment->paid_at == 0 && r.payment->amount == 30000);
    result_free(&r);

    CHECK(toss_deposit(t, key));
    r = do_cancel(t, a, store, key, 30000, "refund", NULL);
    CHECK(r.err.status == 422);
    result_free(&r);

    vendor_refund_account account = {.bank = "신한", .account = "12345678901234", .holder = "Holder"};
    r = do_cancel(t, a, store, key, 30000, "refund", &account);
    CHECK(r.payment && r.payment->status == VENDOR_STATUS_CANCELLED && r.payment->refunded == 30000 &&
          is_recent_ms(r.payment->paid_at));
    result_free(&r);
}

static void test_toss_billing_and_unknown(test_env *t, const vendor_store *store)
{
    const vendor_adapter *a = vendor_find("toss.payments");
    char customer_key[64], billing_key[64];
    next_order_id(t, customer_key, sizeof customer_key);
    CHECK(toss_make_billing(t, customer_key, billing_key, sizeof billing_key));
    vendor_result r = do_fetch_billing(t, a, store, billing_key, customer_key);
    CHECK(r.billing && strcmp(r.billing->uid, billing_key) == 0);
    if (r.billing)
        CHECK_STR(json_string_value(json_object_get(r.billing->data, "customerKey")), customer_key);
    result_free(&r);

    r = do_fetch_billing(t, a, store, billing_key, "someone-else");
    CHECK(r.err.status == 422);
    result_free(&r);

    r = do_fetch_billing(t, a, store, "no-such-billing-key", customer_key);
    CHECK(r.err.status == 404);
    result_free(&r);

    r = do_fetch(t, t->ctx, a, store, "no-such-payment-key");
    CHECK(r.err.status == 404);
    result_free(&r);

    vendor_store wrong = *store;
    wrong.secret = "test_sk_wrong";
    r = do_fetch(t, t->ctx, a, &wrong, "no-such-payment-key");
    CHECK(r.err.status == 502);
    CHECK(strstr(r.err.message, "credentials") != NULL);
    result_free(&r);
}

/* ---- vendors that cannot be reached ------------------------------------------- */

static void test_unreachable(test_env *t)
{
    static const char *const codes[] = {"iamport", "toss.payments"};
    vendor_context *quick = vendor_context_create(&t->loop, t->client, SILENT_TIMEOUT_MS);
    CHECK(quick != NULL);
    for (size_t i = 0; quick && i < 2; i++) {
        const vendor_adapter *a = vendor_find(codes[i]);
        vendor_store down = {"down", t->closed_url, "test_imp_key", "test_imp_secret"};
        vendor_result r = do_fetch(t, t->ctx, a, &down, "uid");
        CHECK(r.err.status == 502);
        CHECK(strstr(r.err.message, "unreachable") != NULL);
        result_free(&r);

        vendor_store silent = {"silent", t->silent_url, "test_imp_key", "test_imp_secret"};
        r = do_fetch(t, quick, a, &silent, "uid");
        CHECK(r.err.status == 504);
        result_free(&r);

        vendor_store unset = {"unset", NULL, NULL, NULL};
        r = do_fetch(t, t->ctx, a, &unset, "uid");
        CHECK(r.err.status == 502);
        result_free(&r);
    }
    vendor_context_destroy(quick);
}

/* ---- pure parts: the table, times, the stores file ----------------------------- */

static void test_table_and_times(void)
{
    CHECK(vendor_find("iamport") && strcmp(vendor_find("iamport")->code, "iamport") == 0);
    CHECK(vendor_find("toss.payments") && strcmp(vendor_find("toss.payments")->code, "toss.payments") == 0);
    CHECK(vendor_find("paypal") == NULL);
    CHECK(vendor_find(NULL) == NULL);

    int64_t ms = -1;
    CHECK(vendor_time_parse_iso("1970-01-01T09:00:00+09:00", &ms) && ms == 0);
    CHECK(vendor_time_parse_iso("2024-02-29T12:34:56.789Z", &ms) && ms == INT64_C(1709210096789));
    CHECK(vendor_time_parse_iso("2026-11-23T18:30:00+09:00", &ms) && ms == INT64_C(1795426200000));
    CHECK(vendor_time_parse_iso("2026-11-23T04:00:00-0530", &ms) && ms == INT64_C(1795426200000));
    CHECK(!vendor_time_parse_iso("2023-02-29T00:00:00Z", &ms));
    CHECK(!vendor_time_parse_iso("2026-11-23T18:30:00", &ms)); /* no offset: refused, not guessed */
    CHECK(!vendor_time_parse_iso("2026-13-01T00:00:00Z", &ms));
    CHECK(!vendor_time_parse_iso("2026-11-23T18:30:00+09:00x", &ms));
    CHECK(!vendor_time_parse_iso("", &ms));
    CHECK(!vendor_time_parse_iso(NULL, &ms));

    char *url = vendor_url("http://h:1/", "payments", "a b/c", NULL);
    CHECK_STR(url, "http://h:1/payments/a%20b%2Fc");
    free(url);
}

static bool write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    bool ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok;
}

/* Loads a stores file holding text; NULL with the error in err. */
static vendor_stores *stores_from(const char *text, cfg *config, char *err, size_t errlen)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/test_vendors_stores_%d.json", (int)getpid());
    if (!write_file(path, text))
        return NULL;
    config->vendor_stores_file = path;
    vendor_stores *stores = vendor_stores_load(config, err, errlen);
    config->vendor_stores_file = NULL;
    unlink(path);
    return stores;
}

static void test_stores(void)
{
    cfg config = {.iamport_key = "env_key", .iamport_secret = "env_secret", .toss_payments_secret = "env_toss",
                  .iamport_url = "http://127.0.0.1:10851", .toss_payments_url = "http://127.0.0.1:30771"};
    char err[512] = "";
    vendor_stores *stores = vendor_stores_load(&config, err, sizeof err);
    CHECK(stores != NULL);
    const vendor_store *s = vendor_stores_find(stores, "iamport", "any-store");
    CHECK(s && strcmp(s->key, "env_key") == 0 && strcmp(s->base_url, "http://127.0.0.1:10851") == 0);
    s = vendor_stores_find(stores, "toss.payments", "any-store");
    CHECK(s && strcmp(s->secret, "env_toss") == 0 && strcmp(s->base_url, "http://127.0.0.1:30771") == 0);
    CHECK(vendor_stores_find(stores, "paypal", "any-store") == NULL);
    vendor_stores_free(stores);

    stores = stores_from("{\"iamport\": {\"shop-a\": {\"key\": \"a_key\", \"secret\": \"a_secret\", "
                         "\"url\": \"https://iamport.example\"}},"
                         " \"toss.payments\": {\"shop-b\": {\"secret\": \"b_secret\"}}}",
                         &config, err, sizeof err);
    CHECK(stores != NULL);
    s = vendor_stores_find(stores, "iamport", "shop-a");
    CHECK(s && strcmp(s->key, "a_key") == 0 && strcmp(s->secret, "a_secret") == 0 &&
          strcmp(s->base_url, "https://iamport.example") == 0 && strcmp(s->store_id, "shop-a") == 0);
    s = vendor_stores_find(stores, "toss.payments", "shop-b");
    CHECK(s && strcmp(s->secret, "b_secret") == 0 && strcmp(s->base_url, "http://127.0.0.1:30771") == 0);
    s = vendor_stores_find(stores, "iamport", "shop-b"); /* not listed for iamport: the environment's */
    CHECK(s && strcmp(s->key, "env_key") == 0);
    vendor_stores_free(stores);

    static const struct {
        const char *text, *expected;
    } bad[] = {
        {"{\"iamport\": {\"shop\": {\"key\": \"k\", \"secret\": \"s3cr3t\", \"url\": \"ftp://x\"}}}", "iamport.shop"},
        {"{\"iamport\": {\"shop\": {\"secret\": \"s3cr3t\"}}}", "\"key\""},
        {"{\"toss.payments\": {\"shop\": {\"secret\": \"s3cr3t\", \"scret\": 1}}}", "scret"},
        {"{\"paypal\": {}}", "paypal"},
        {"{\"iamport\": [1]}", "iamport"},
        {"[]", "object"},
        {"{\"iamport\": {\"shop\": {\"key\": \"k\", \"secret\": \"s3cr3t\"}}", "line"},
        {"{\"iamport\": {\"shop\": {\"key\": \"k\", \"secret\": s3cr3t}}}", "line 1"},
        {"{\"toss.payments\": {\"shop\": {\"secret\": \"s3cr3t\"}, \"shop\": {}}}", "duplicate"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        stores = stores_from(bad[i].text, &config, err, sizeof err);
        CHECK(stores == NULL);
        CHECK(strstr(err, "PAYMENT_VENDOR_STORES_FILE /tmp/test_vendors_stores_") != NULL);
        CHECK(strstr(err, bad[i].expected) != NULL);
        CHECK(strstr(err, "s3cr3t") == NULL);
        if (!strstr(err, bad[i].expected))
            fprintf(stderr, "case %zu: %s\n", i, err);
        vendor_stores_free(stores);
    }

    config.vendor_stores_file = "/nonexistent/stores.json";
    stores = vendor_stores_load(&config, err, sizeof err);
    CHECK(stores == NULL && strstr(err, "/nonexistent/stores.json") != NULL);
    vendor_stores_free(stores);
}

/* ---- the counting proxy in front of the iamport fake --------------------------- */

static void proxy_answered(const http_client_response *res, void *data)
{
    http_exchange *ex = data;
    if (res->error)
        http_respond_error(ex, 502, res->error);
    else
        http_respond(ex, (int)res->status, "application/json", res->body, res->body_len);
}

static void proxy_handle(http_exchange *ex, void *context)
{
    test_env *t = context;
    const http_request *req = http_exchange_request(ex);
    const char *authorization = http_request_header(req, "Authorization");
    bool get_token = strcmp(req->path, "/users/getToken") == 0;
    t->proxy_get_token_count += get_token;
    if (t->proxy_mode == PROXY_GARBAGE && !get_token) {
        http_respond(ex, 200, "text/html", "<html>oops</html>", 17);
        return;
    }
    if (t->proxy_mode == PROXY_ALREADY_PROCESSED && strcmp(req->method_name, "POST") == 0) {
        const char *body = "{\"code\":\"ALREADY_PROCESSED_PAYMENT\",\"message\":\"already processed\"}";
        http_respond(ex, 400, "application/json", body, strlen(body));
        return;
    }
    if (t->proxy_mode == PROXY_REFUSE_TOKEN && authorization) {
        t->proxy_mode = PROXY_FORWARD;
        t->proxy_refused++;
        const char *body = "{\"code\":-1,\"message\":\"the access token has expired\",\"response\":null}";
        http_respond(ex, 401, "application/json", body, strlen(body));
        return;
    }
    char url[512], header[256];
    snprintf(url, sizeof url, "%s%s", t->proxy_target, req->target);
    snprintf(header, sizeof header, "Authorization: %s", authorization ? authorization : "");
    const char *headers[] = {"Content-Type: application/json", header, NULL};
    http_client_request forward = {.method = req->method_name, .url = url, .headers = headers, .body = req->body,
                                   .body_len = req->body_len, .timeout_ms = TEST_TIMEOUT_MS};
    if (http_client_send(t->client, &forward, proxy_answered, ex) != 0)
        http_respond_error(ex, 502, "proxy cannot forward");
}

static int proxy_start(test_env *t)
{
    http_limits limits = {.max_header_bytes = 65536, .max_body_bytes = 1 << 20, .header_timeout_ms = 10000,
                          .idle_timeout_ms = 10000, .drain_timeout_ms = 1000};
    t->proxy = http_server_create(&t->loop, &limits, proxy_handle, t);
    if (!t->proxy || http_server_listen(t->proxy, "127.0.0.1", 0) != 0)
        return -1;
    snprintf(t->proxy_url, sizeof t->proxy_url, "http://127.0.0.1:%d", http_server_port(t->proxy));
    return 0;
}

/* ---- endpoints that never answer ------------------------------------------------ */

/* A loopback socket bound to a free port: listening (connections are
 * accepted by the kernel and never answered) or closed (refused). */
static int loopback_socket(bool listening, int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        getsockname(fd, (struct sockaddr *)&addr, &len) != 0 || (listening && listen(fd, 16) != 0)) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *port = ntohs(addr.sin_port);
    if (!listening) {
        close(fd);
        return 0;
    }
    return fd;
}

/* ---- main --------------------------------------------------------------------- */

static int env_start(test_env *t, fake_process *iamport, fake_process *toss, fake_process *short_token)
{
    if (uv_loop_init(&t->loop) != 0 || !(t->client = http_client_create(&t->loop)))
        return -1;
    t->ctx = vendor_context_create(&t->loop, t->client, TEST_TIMEOUT_MS);
    if (!t->ctx || fake_start(iamport, FAKE_IAMPORT_BIN, "iamport", "test_imp_key", NULL) != 0 ||
        fake_start(toss, FAKE_TOSS_BIN, "toss", NULL, NULL) != 0 ||
        fake_start(short_token, FAKE_IAMPORT_BIN, "iamport_short", "test_imp_key", "2000") != 0)
        return -1;
    snprintf(t->short_token_url, sizeof t->short_token_url, "http://127.0.0.1:%d", short_token->port);
    snprintf(t->iamport_url, sizeof t->iamport_url, "http://127.0.0.1:%d", iamport->port);
    snprintf(t->toss_url, sizeof t->toss_url, "http://127.0.0.1:%d", toss->port);
    int closed_port = 0, silent_port = 0;
    t->silent_fd = loopback_socket(true, &silent_port);
    if (loopback_socket(false, &closed_port) != 0 || t->silent_fd < 0)
        return -1;
    snprintf(t->closed_url, sizeof t->closed_url, "http://127.0.0.1:%d", closed_port);
    snprintf(t->silent_url, sizeof t->silent_url, "http://127.0.0.1:%d", silent_port);
    char *basic = crypto_base64_encode(TOSS_SECRET ":", strlen(TOSS_SECRET ":"), NULL);
    if (!basic)
        return -1;
    snprintf(t->toss_authorization, sizeof t->toss_authorization, "Basic %s", basic);
    free(basic);
    return proxy_start(t) == 0 && iamport_login(t) == 0 ? 0 : -1;
}

static void client_closed(void *data)
{
    *(bool *)data = true;
}

static void env_stop(test_env *t, fake_process *iamport, fake_process *toss, fake_process *short_token)
{
    vendor_context_destroy(t->ctx);
    if (t->proxy)
        http_server_close(t->proxy, NULL, NULL);
    bool closed = t->client == NULL;
    if (t->client)
        http_client_close(t->client, client_closed, &closed);
    run_until(t, &closed);
    uv_run(&t->loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&t->loop) == 0);
    if (t->silent_fd >= 0)
        close(t->silent_fd);
    fake_stop(iamport);
    fake_stop(toss);
    fake_stop(short_token);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    test_table_and_times();
    test_stores();

    test_env t = {.silent_fd = -1};
    fake_process iamport = {0}, toss = {0}, short_token = {0};
    if (env_start(&t, &iamport, &toss, &short_token) != 0) {
        CHECK(!"the fake vendors, the proxy and the test loop start");
    } else {
        vendor_store iamport_store = {"store-iamport", t.iamport_url, "test_imp_key", "test_imp_secret"};
        vendor_store toss_store = {"store-toss", t.toss_url, NULL, TOSS_SECRET};
        test_iamport_card(&t, &iamport_store);
        test_iamport_vbank(&t, &iamport_store);
        test_iamport_billing_and_unknown(&t, &iamport_store);
        test_iamport_tokens(&t);
        test_iamport_token_renewal(&t);
        test_toss_card(&t, &toss_store);
        test_toss_approve(&t, &toss_store);
        test_toss_approve_processed(&t);
        test_toss_virtual_account(&t, &toss_store);
        test_toss_billing_and_unknown(&t, &toss_store);
        test_unreachable(&t);
    }
    env_stop(&t, &iamport, &toss, &short_token);
    UNIT_REPORT();
}
