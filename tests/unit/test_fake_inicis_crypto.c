/* Unit test of the fake Inicis' cryptography and forms against published
 * vectors: SHA-512 of "abc" (FIPS 180-2, appendix C), the [ENC] example of
 * Inicis' FAQ (123456789 for INIpayTest), and the form codec both ways. */
#include "fake_inicis.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>

UNIT_CASE(sha512_published_vector, NULL)
{
    char hex[FAKE_INICIS_HASH_HEX_LEN];
    CHECK(fake_inicis_sha512_hex("abc", 3, hex) == 0);
    CHECK(strcmp(hex, "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                      "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f") == 0);
}

UNIT_CASE(refund_account_published_vector, NULL)
{
    char *plain =
        fake_inicis_decrypt_field(FAKE_INICIS_DEFAULT_KEY, FAKE_INICIS_DEFAULT_IV, "qwMHVJqsmXKoR+d8wQTS4g==");
    CHECK(plain != NULL && strcmp(plain, "123456789") == 0);
    free(plain);
    /* Another IV gives other bytes: rejected by the padding or not digits. */
    plain = fake_inicis_decrypt_field(FAKE_INICIS_DEFAULT_KEY, "0000000000000000", "qwMHVJqsmXKoR+d8wQTS4g==");
    CHECK(plain == NULL || strcmp(plain, "123456789") != 0);
    free(plain);
    CHECK(fake_inicis_decrypt_field("short", FAKE_INICIS_DEFAULT_IV, "qwMHVJqsmXKoR+d8wQTS4g==") == NULL);
    CHECK(fake_inicis_decrypt_field(FAKE_INICIS_DEFAULT_KEY, FAKE_INICIS_DEFAULT_IV, "not base64!") == NULL);
}

UNIT_CASE(form_parse, NULL)
{
    const char *problem = NULL;
    const char *body = "type=Refund&msg=a+b%2Bc&refundAcctNum=qwMHVJqsmXKoR%2Bd8wQTS4g%3D%3D&empty=";
    json_t *form = form_urlencoded_parse(body, strlen(body), &problem);
    CHECK(form != NULL && problem == NULL);
    CHECK(strcmp(json_string_value(json_object_get(form, "type")), "Refund") == 0);
    CHECK(strcmp(json_string_value(json_object_get(form, "msg")), "a b+c") == 0);
    CHECK(strcmp(json_string_value(json_object_get(form, "refundAcctNum")), "qwMHVJqsmXKoR+d8wQTS4g==") == 0);
    CHECK(strcmp(json_string_value(json_object_get(form, "empty")), "") == 0);
    json_decref(form);
    static const char *const refused[] = {"a=1&a=2", "a=%zz", "a=%4", "=x", "a=%00", "a=%ff"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        problem = NULL;
        CHECK(form_urlencoded_parse(refused[i], strlen(refused[i]), &problem) == NULL);
        CHECK(problem != NULL);
    }
}

UNIT_CASE(form_encode_round_trip, NULL)
{
    json_t *fields = json_pack("{s:s, s:s}", "nm_input", "홍 길동+", "no_oid", "order-1&2=3");
    char *encoded = form_urlencoded_encode(fields);
    CHECK(encoded != NULL);
    const char *problem = NULL;
    json_t *back = encoded ? form_urlencoded_parse(encoded, strlen(encoded), &problem) : NULL;
    CHECK(back != NULL && json_equal(back, fields));
    json_decref(back);
    json_decref(fields);
    free(encoded);
}
