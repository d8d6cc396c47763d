/* The signature receivers verify (a known HMAC-SHA-256 vector, so a receiver
 * written in any language can check itself against ours), what breaks it,
 * and the text kept of receivers' answers: valid UTF-8 without NUL, cut at
 * RESPONSE_TEXT_MAX, which PostgreSQL's text columns then accept. */
#include "response_text.h"
#include "unit.h"
#include "webhook_signature.h"

#include <stdlib.h>

static const char SECRET[] = "test-webhook-secret";
static const char BODY[] = "c2VhbGVk";
/* Python: hmac.new(b"test-webhook-secret", b"1700000000.c2VhbGVk", sha256). */
static const char EXPECTED[] = "v1=f3933a96cf142a5ddcbf381d9aedf13c9a5f5e323aebd36dd86e36894b0c8d74";

UNIT_CASE(signature, NULL)
{
    char signature[WEBHOOK_SIGNATURE_SIZE];
    CHECK(webhook_signature_make(SECRET, "1700000000", BODY, strlen(BODY), signature) == 0);
    CHECK_STR(signature, EXPECTED);
    CHECK(webhook_signature_verify(SECRET, "1700000000", BODY, strlen(BODY), EXPECTED));
    /* Any of several values (a rotated secret's) is accepted. */
    char both[2 * WEBHOOK_SIGNATURE_SIZE + 2];
    snprintf(both, sizeof both, "v1=%064d, %s", 0, EXPECTED);
    CHECK(webhook_signature_verify(SECRET, "1700000000", BODY, strlen(BODY), both));
    /* Another timestamp (a replay dressed as new), body or secret fails. */
    CHECK(!webhook_signature_verify(SECRET, "1700000001", BODY, strlen(BODY), EXPECTED));
    CHECK(!webhook_signature_verify(SECRET, "1700000000", "c2VhbGVl", 8, EXPECTED));
    CHECK(!webhook_signature_verify("another secret", "1700000000", BODY, strlen(BODY), EXPECTED));
    CHECK(!webhook_signature_verify(SECRET, NULL, BODY, strlen(BODY), EXPECTED));
    CHECK(!webhook_signature_verify(SECRET, "1700000000", BODY, strlen(BODY), NULL));
    char truncated[sizeof EXPECTED];
    memcpy(truncated, EXPECTED, sizeof EXPECTED);
    truncated[sizeof EXPECTED - 2] = '\0';
    CHECK(!webhook_signature_verify(SECRET, "1700000000", BODY, strlen(BODY), truncated));
}

static void expect_text(const char *in, size_t len, const char *expected)
{
    char *out = response_text_printable(in, len);
    CHECK_STR(out, expected);
    free(out);
}

UNIT_CASE(response_text, NULL)
{
    expect_text("ok", 2, "ok");
    expect_text("caf\xc3\xa9 \xed\x95\x9c", 9, "caf\xc3\xa9 \xed\x95\x9c");
    expect_text("a\0b", 3, "a?b");
    expect_text("\xff\xfe", 2, "??");
    expect_text("\xc0\xaf", 2, "??");           /* overlong '/' */
    expect_text("\xed\xa0\x80", 3, "???");      /* a surrogate */
    expect_text("\xf4\x90\x80\x80", 4, "????"); /* past U+10FFFF */
    expect_text("ab\xe2\x82", 4, "ab??");       /* cut inside a sequence */
    char *big = malloc(RESPONSE_TEXT_MAX + 100);
    memset(big, 'x', RESPONSE_TEXT_MAX + 100);
    char *out = response_text_printable(big, RESPONSE_TEXT_MAX + 100);
    CHECK(out && strlen(out) == RESPONSE_TEXT_MAX);
    free(out);
    free(big);
}
