/* fake_billing_rules: the declines a test asks for. fail_next is checked
 * before refuse_amount so that "fail twice, then succeed" holds whatever the
 * amount; a PUT changes only the fields it names, and a body with an unknown
 * field changes nothing, so that a typo cannot pass for a rule. */
#include "fake_billing_rules.h"

#include "fake_server.h"
#include "fake_stats.h"

#include <string.h>

bool fake_billing_refuses(fake_server *fs, double amount)
{
    fake_billing_rules *rules = &fs->billing;
    bool refused = false;
    if (rules->fail_next > 0) {
        rules->fail_next--;
        refused = true;
    } else if (rules->refuse_amount > 0 && amount == (double)rules->refuse_amount) {
        refused = true;
    }
    if (refused)
        fake_stats_count(fs, FAKE_BILLING_REFUSALS);
    return refused;
}

void fake_billing_charged(fake_server *fs)
{
    fake_stats_count(fs, FAKE_BILLING_CHARGES);
}

static json_t *billing_describe(const fake_billing_rules *rules)
{
    return json_pack("{s:I, s:I}", "fail_next", (json_int_t)rules->fail_next, "refuse_amount",
                     (json_int_t)rules->refuse_amount);
}

void fake_billing_get(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    fake_server *fs = context;
    fake_respond_json(ex, 200, billing_describe(&fs->billing));
}

/* A whole number from 0 to max into out, when the field is present. */
static bool billing_count(json_t *body, const char *name, uint64_t max, uint64_t *out)
{
    json_t *value = json_object_get(body, name);
    if (!value)
        return true;
    if (!json_is_integer(value) || json_integer_value(value) < 0 || (uint64_t)json_integer_value(value) > max)
        return false;
    *out = (uint64_t)json_integer_value(value);
    return true;
}

/* The new rules of body into rules (a copy the caller keeps only when this
 * returns NULL); else what is wrong. */
static const char *billing_read(json_t *body, fake_billing_rules *rules)
{
    static const char shape[] = "the body must be a JSON object of fail_next and/or refuse_amount";
    if (!json_is_object(body) || json_object_size(body) == 0)
        return shape;
    const char *name;
    json_t *value;
    json_object_foreach(body, name, value)
    {
        (void)value;
        if (strcmp(name, "fail_next") != 0 && strcmp(name, "refuse_amount") != 0)
            return shape;
    }
    if (!billing_count(body, "fail_next", FAKE_BILLING_MAX_FAIL_NEXT, &rules->fail_next))
        return "fail_next must be a whole number from 0 to 1000000";
    if (!billing_count(body, "refuse_amount", FAKE_BILLING_MAX_AMOUNT, &rules->refuse_amount))
        return "refuse_amount must be a whole number from 0 (no rule) to 1000000000000";
    return NULL;
}

void fake_billing_put(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    fake_server *fs = context;
    const http_request *req = http_exchange_request(ex);
    json_t *body = req->body_len > 0 ? json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, NULL) : NULL;
    fake_billing_rules rules = fs->billing;
    const char *problem = billing_read(body, &rules);
    json_decref(body);
    if (problem) {
        http_respond_error(ex, 400, problem);
        return;
    }
    fs->billing = rules;
    fake_respond_json(ex, 200, billing_describe(&fs->billing));
}
