/* The vendor-side names of a charge: the order id is the same for the same
 * source and refusals (a resend after a crash names the same order at the
 * vendor), another after a refusal or for another source, fits every
 * vendor's order id (length and characters), and known vectors pin both
 * names across versions (orders pending during an update keep them). */
#include "charge_order.h"
#include "unit.h"

#include <ctype.h>
#include <string.h>

#define SOURCE_ID "0f8fad5b-d9cb-469f-a165-70867728950e"

/* Python: "ch-" + sha256(b"payments charge order v1\0orders\0invoices\0" + id + b"\0" b"0\0")[:32]. */
static const char ORDER_VECTOR[] = "ch-acacf99f1b587eeece14f22a7cf4b3bc";
/* Python: sha256(b"payments charge v1\0ch-0123\0"). */
static const char KEY_VECTOR[] = "273273d1d14101c255ae2a0781a3a18195e8efd04af1f834c2f821eca3216057";

UNIT_CASE(order_id_is_stable, NULL)
{
    char a[CHARGE_ORDER_ID_SIZE], b[CHARGE_ORDER_ID_SIZE];
    CHECK(charge_order_id("orders", "invoices", SOURCE_ID, 0, a) == 0);
    CHECK_STR(a, ORDER_VECTOR);
    CHECK(charge_order_id("orders", "invoices", SOURCE_ID, 0, b) == 0);
    CHECK_STR(a, b);
}

UNIT_CASE(order_id_fits_every_vendor, NULL)
{
    char id[CHARGE_ORDER_ID_SIZE];
    CHECK(charge_order_id("orders", "invoices", SOURCE_ID, 12, id) == 0);
    /* Toss orderId: 6 to 64 of [A-Za-z0-9_-]; Inicis moid: at most 40 bytes. */
    CHECK(strlen(id) >= 6 && strlen(id) <= 40);
    for (const char *c = id; *c; c++)
        CHECK(isalnum((unsigned char)*c) || *c == '-' || *c == '_');
}

UNIT_CASE(other_sources_or_refusals_other_order_ids, NULL)
{
    char base[CHARGE_ORDER_ID_SIZE], other[CHARGE_ORDER_ID_SIZE];
    CHECK(charge_order_id("orders", "invoices", SOURCE_ID, 0, base) == 0);
    CHECK(charge_order_id("orders", "invoices", "0f8fad5b-d9cb-469f-a165-70867728950f", 0, other) == 0);
    CHECK(strcmp(base, other) != 0);
    CHECK(charge_order_id("orders", "invoice", SOURCE_ID, 0, other) == 0);
    CHECK(strcmp(base, other) != 0);
    /* Facts are separated: moving a letter between them changes the id. */
    CHECK(charge_order_id("order", "sinvoices", SOURCE_ID, 0, other) == 0);
    CHECK(strcmp(base, other) != 0);
    /* A retry after a refusal is a new order at the vendor. */
    CHECK(charge_order_id("orders", "invoices", SOURCE_ID, 1, other) == 0);
    CHECK(strcmp(base, other) != 0);
}

UNIT_CASE(one_key_per_order_id, NULL)
{
    char first[OPERATION_KEY_SIZE], again[OPERATION_KEY_SIZE], other[OPERATION_KEY_SIZE];
    CHECK(charge_order_key("ch-0123", first) == 0);
    CHECK_STR(first, KEY_VECTOR);
    CHECK(charge_order_key("ch-0123", again) == 0);
    CHECK_STR(first, again);
    CHECK(charge_order_key("ch-0124", other) == 0);
    CHECK(strcmp(first, other) != 0);
}
