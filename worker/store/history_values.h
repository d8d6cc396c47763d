/* history_values: a vendor's answer about a payment turned into what a
 * history row stores (currency, refund, times, the sealed document and the
 * cancels with their sealed documents), as SQL parameter text. Creating a
 * history and recording a cancel store the same values. */
#ifndef PAYMENTS_HISTORY_VALUES_H
#define PAYMENTS_HISTORY_VALUES_H

#include "seal.h"
#include "vendors/vendor.h"

typedef struct history_values {
    char currency[8];
    char refund[32];       /* "" when nothing was refunded */
    char paid_at[24];      /* unix milliseconds; "" when unpaid */
    char cancelled_at[24]; /* first cancel's time; "" when none */
    char cancel_count[24];
    char *data;    /* the vendor's document, sealed with the history key; owned */
    char *cancels; /* JSON array of {sequence, price, reason, created_at (ms),
                    * data (sealed with the cancel key)}; owned */
} history_values;

/* Returns 0, or -1 when sealing or memory fails (out is then empty and may
 * be freed). */
int history_values_from_payment(history_values *out, const vendor_payment *payment, const seal_ring *history_seal,
                                const seal_ring *cancel_seal);
void history_values_free(history_values *values);

/* A text value as a parameter: "" is SQL NULL. */
const char *history_values_param(const char *text);

#endif
