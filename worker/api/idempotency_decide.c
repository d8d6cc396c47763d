/* idempotency_decide: the claim statement already took the key over when
 * it may be (idempotency_store.c); what is left here is telling a caller
 * who did not get it why, and a holder whether it inherits an operation. */
#include "idempotency_decide.h"

#include <string.h>

/* A key awaiting an operation that is settled but was not ours to take:
 * another retry took it over at this very moment, and is answering. */
static idempotency_outcome awaited(const char *state)
{
    if (!state || strcmp(state, "pending") == 0)
        return IDEMPOTENCY_OPERATION_PENDING;
    if (strcmp(state, "unknown") == 0)
        return IDEMPOTENCY_OPERATION_UNKNOWN;
    return IDEMPOTENCY_IN_PROGRESS;
}

idempotency_outcome idempotency_decide(const idempotency_row *row, const char *body_hash)
{
    if (row->lease)
        return row->operation_id ? IDEMPOTENCY_ANSWER_OPERATION : IDEMPOTENCY_RUN;
    if (row->body_hash && strcmp(row->body_hash, body_hash) != 0)
        return IDEMPOTENCY_OTHER_BODY;
    if (row->awaited_operation)
        return awaited(row->awaited_state);
    /* Not visible yet means claimed at this very moment. */
    if (!row->status || !row->body)
        return IDEMPOTENCY_IN_PROGRESS;
    return IDEMPOTENCY_REPLAY;
}
