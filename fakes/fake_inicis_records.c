/* The Inicis records: TIDs and times written the way Inicis writes them
 * (Korean time, YYYYMMDDhhmmss), and the fake's own payment record, which
 * the answers of refund, billing and inquiry are cut from. */
#include "fake_inicis.h"
#include "fake_random.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define FAKE_INICIS_KOREA_OFFSET_SECONDS (9 * 3600)

void fake_inicis_stamp_now(char out[FAKE_INICIS_STAMP_LEN])
{
    time_t shifted = time(NULL) + FAKE_INICIS_KOREA_OFFSET_SECONDS;
    struct tm parts;
    if (gmtime_r(&shifted, &parts) == NULL || strftime(out, FAKE_INICIS_STAMP_LEN, "%Y%m%d%H%M%S", &parts) == 0)
        snprintf(out, FAKE_INICIS_STAMP_LEN, "19700101090000");
}

/* "StdpayCARDINIpayTest20210101111111111111": prefix, mid, time, digits. */
int fake_inicis_new_tid(fake_server *fs, const char *prefix, char out[FAKE_INICIS_TID_LEN + 1])
{
    char stamp[FAKE_INICIS_STAMP_LEN];
    fake_inicis_stamp_now(stamp);
    for (int attempt = 0; attempt < 8; attempt++) {
        int len = snprintf(out, FAKE_INICIS_TID_LEN + 1, "%s%.10s%s", prefix, fs->settings.merchant_id, stamp);
        if (len < 0 || len >= FAKE_INICIS_TID_LEN - 4)
            len = FAKE_INICIS_TID_LEN - 4; /* a long mid: keep four random digits at least */
        if (fake_random_digits(out + len, (size_t)(FAKE_INICIS_TID_LEN - len)) != 0)
            return -1;
        if (!fake_inicis_find_payment(fs, out))
            return 0;
    }
    return -1;
}

json_t *fake_inicis_payment_new(fake_server *fs, const char *paymethod, const char *moid, int64_t price,
                                const char *status)
{
    char tid[FAKE_INICIS_TID_LEN + 1];
    char stamp[FAKE_INICIS_STAMP_LEN];
    bool card = strcmp(paymethod, "Card") == 0;
    if (fake_inicis_new_tid(fs, card ? "StdpayCARD" : "StdpayVBNK", tid) != 0)
        return NULL;
    fake_inicis_stamp_now(stamp);
    bool paid = strcmp(status, "paid") == 0;
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:I, s:[]}", "tid", tid, "mid", fs->settings.merchant_id,
                     "moid", moid, "paymethod", paymethod, "price", (json_int_t)price, "remains", (json_int_t)price,
                     "status", status, "applDateTime", paid ? stamp : "", "refundCount", (json_int_t)0, "refunds");
}

int fake_inicis_keep_payment(fake_server *fs, json_t *payment)
{
    fake_inicis_state *state = fake_inicis_state_of(fs);
    const char *tid = fake_inicis_record_string(payment, "tid");
    json_t *order = json_pack("{s:s}", "tid", tid);
    if (!order || fake_store_put(state->payments, tid, json_incref(payment)) != 0) {
        json_decref(order);
        return -1;
    }
    return fake_store_put(state->orders, fake_inicis_record_string(payment, "moid"), order);
}

json_t *fake_inicis_find_payment(fake_server *fs, const char *tid)
{
    return fake_store_get(fake_inicis_state_of(fs)->payments, tid);
}

json_t *fake_inicis_find_order(fake_server *fs, const char *moid)
{
    json_t *order = fake_store_get(fake_inicis_state_of(fs)->orders, moid);
    return order ? fake_inicis_find_payment(fs, fake_inicis_record_string(order, "tid")) : NULL;
}

int64_t fake_inicis_record_integer(const json_t *record, const char *name)
{
    return json_integer_value(json_object_get(record, name));
}

const char *fake_inicis_record_string(const json_t *record, const char *name)
{
    const char *value = json_string_value(json_object_get(record, name));
    return value ? value : "";
}

/* Card issuers by the first digit, with Inicis' two-digit issuer codes. */
void fake_inicis_card_issuer(const char *card_number, const char **code, const char **name)
{
    switch (card_number[0]) {
    case '3':
        *code = "04", *name = "삼성";
        return;
    case '5':
        *code = "12", *name = "현대";
        return;
    case '9':
        *code = "06", *name = "국민";
        return;
    default:
        *code = "14", *name = "신한";
        return;
    }
}

json_t *fake_inicis_payment_view(const json_t *payment)
{
    json_t *view = json_deep_copy(payment);
    const char *number = fake_inicis_record_string(payment, "cardNumber");
    if (!view || strlen(number) < 10)
        return view;
    /* Inicis shows a card number masked: the issuer's digits and the last four. */
    char masked[32];
    snprintf(masked, sizeof masked, "%.6s******%s", number, number + strlen(number) - 4);
    if (json_object_set_new(view, "cardNum", json_string(masked)) != 0) {
        json_decref(view);
        return NULL;
    }
    json_object_del(view, "cardNumber");
    return view;
}
