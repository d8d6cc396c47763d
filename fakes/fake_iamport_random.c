/* Identifiers, names and clocks of the iamport fake. Identifiers come from the
 * kernel's random source so two fakes started together never agree; names
 * come from small tables of real Korean issuers so records look familiar. */
#include "fake_iamport.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static int random_bytes(unsigned char *out, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t got = getrandom(out + done, n - done, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        done += (size_t)got;
    }
    return 0;
}

int fake_iamport_random_digits(char *out, size_t n)
{
    unsigned char bytes[64];
    if (n > sizeof bytes || random_bytes(bytes, n) != 0)
        return -1;
    /* 250 is a multiple of 10: bytes above it would skew the digits. */
    for (size_t i = 0; i < n; i++) {
        while (bytes[i] >= 250)
            if (random_bytes(&bytes[i], 1) != 0)
                return -1;
        out[i] = (char)('0' + bytes[i] % 10);
    }
    out[n] = '\0';
    return 0;
}

int fake_iamport_random_hex(char *out, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char bytes[64];
    if (n > sizeof bytes || random_bytes(bytes, n) != 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        out[i] = hex[bytes[i] & 15];
    out[n] = '\0';
    return 0;
}

int fake_iamport_new_imp_uid(fake_iamport_state *st, char out[17])
{
    for (int attempt = 0; attempt < 16; attempt++) {
        memcpy(out, "imp_", 4);
        if (fake_iamport_random_digits(out + 4, 12) != 0)
            return -1;
        if (!fake_store_get(st->payments, out) && !fake_store_get(st->certifications, out))
            return 0;
    }
    return -1;
}

typedef struct named_code {
    const char *code;
    const char *name;
} named_code;

static const named_code card_issuers[] = {
    {"361", "BC카드"},   {"365", "삼성카드"}, {"366", "신한카드"}, {"367", "현대카드"},
    {"368", "롯데카드"}, {"371", "NH카드"},   {"374", "하나카드"}, {"381", "KB국민카드"},
    {"041", "우리카드"}, {"370", "씨티카드"}, {"364", "광주카드"}, {"369", "수협카드"},
};

void fake_iamport_card_issuer(const char *card_number, const char **code, const char **name)
{
    /* The same card always has the same issuer, as with a real BIN. */
    unsigned sum = 0;
    for (const char *p = card_number; *p && p < card_number + 7; p++)
        sum = sum * 31u + (unsigned char)*p;
    const named_code *issuer = &card_issuers[sum % (sizeof card_issuers / sizeof card_issuers[0])];
    *code = issuer->code;
    *name = issuer->name;
}

static const named_code banks[] = {
    {"003", "IBK기업은행"},  {"004", "KB국민은행"}, {"011", "NH농협은행"}, {"020", "우리은행"},   {"023", "SC제일은행"},
    {"027", "한국씨티은행"}, {"031", "대구은행"},   {"032", "부산은행"},   {"039", "경남은행"},   {"071", "우체국"},
    {"081", "하나은행"},     {"088", "신한은행"},   {"089", "케이뱅크"},   {"090", "카카오뱅크"}, {"092", "토스뱅크"},
};

const char *fake_iamport_bank_name(const char *bank_code)
{
    for (size_t i = 0; i < sizeof banks / sizeof banks[0]; i++)
        if (strcmp(banks[i].code, bank_code) == 0)
            return banks[i].name;
    return "가상은행";
}

int64_t fake_iamport_now(void)
{
    return (int64_t)time(NULL);
}
