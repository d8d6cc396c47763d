/* The vendor-side keys of operations: the same facts always give the same
 * key (a retry after a crash is the same request to the vendor), other
 * facts another key, a known vector pins the derivation across versions
 * (keys of operations pending during an update must not change), and the
 * iamport checksum never goes below 0. */
#include "operation_key.h"
#include "unit.h"

#include <string.h>

/* Python: sha256(b"payments cancel v1\0h-1\0" b"0\0" b"3000\0"). */
static const char CANCEL_VECTOR[] = "12e3b74c5cd1c5e41abfe5262333f9d330af409b949fb834dc803e9e50670f47";

UNIT_CASE(cancel_key_is_stable, NULL)
{
    char a[OPERATION_KEY_SIZE], b[OPERATION_KEY_SIZE];
    CHECK(operation_key_cancel("h-1", "0", "3000", a) == 0);
    CHECK_STR(a, CANCEL_VECTOR);
    CHECK(operation_key_cancel("h-1", "0", "3000", b) == 0);
    CHECK_STR(a, b);
    CHECK(strlen(a) == OPERATION_KEY_SIZE - 1);
}

UNIT_CASE(other_facts_other_keys, NULL)
{
    char base[OPERATION_KEY_SIZE], other[OPERATION_KEY_SIZE];
    CHECK(operation_key_cancel("h-1", "0", "3000", base) == 0);
    /* The next cancel of the same amount comes after a recorded refund. */
    CHECK(operation_key_cancel("h-1", "3000", "3000", other) == 0);
    CHECK(strcmp(base, other) != 0);
    CHECK(operation_key_cancel("h-2", "0", "3000", other) == 0);
    CHECK(strcmp(base, other) != 0);
    /* Facts are separated: moving a digit between them changes the key. */
    CHECK(operation_key_cancel("h-1", "03", "000", other) == 0);
    CHECK(strcmp(base, other) != 0);
    CHECK(operation_key_confirm("h-1", "0", "3000", other) == 0);
    CHECK(strcmp(base, other) != 0);
    CHECK(operation_key_mismatch("h-1", "3000", other) == 0);
    CHECK(strcmp(base, other) != 0);
}

UNIT_CASE(checksum_is_what_remains, NULL)
{
    CHECK(operation_key_checksum(10000, 0) == 10000);
    CHECK(operation_key_checksum(10000, 4000) == 6000);
    CHECK(operation_key_checksum(10000, 10000) == 0);
    CHECK(operation_key_checksum(10000, 12000) == 0);
}
