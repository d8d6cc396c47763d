/* Unit tests of what a request does with the row its Idempotency-Key claim
 * found, above all a key that follows the operation its first request
 * committed: pending, succeeded, refused by the reconciler, left unknown. */
#include "idempotency_decide.h"
#include "unit.h"

static char ours[] = "b0d7";
static char theirs[] = "77aa";
static char lease[] = "3c1e2f8a-0000-4000-8000-000000000001";
static char operation[] = "5a6b7c8d-0000-4000-8000-000000000002";
static char history[] = "9e8f7a6b-0000-4000-8000-000000000003";
static char answer_status[] = "200";
static char answer_body[] = "sealed";

UNIT_CASE(a_new_key_runs, NULL)
{
    idempotency_row row = {.lease = lease};
    CHECK(idempotency_decide(&row, ours) == IDEMPOTENCY_RUN);
}

UNIT_CASE(a_kept_answer_is_replayed_to_the_same_body_only, NULL)
{
    idempotency_row row = {.body_hash = ours, .status = answer_status, .body = answer_body};
    CHECK(idempotency_decide(&row, ours) == IDEMPOTENCY_REPLAY);
    CHECK(idempotency_decide(&row, theirs) == IDEMPOTENCY_OTHER_BODY);
}

UNIT_CASE(a_key_in_flight_is_busy, NULL)
{
    idempotency_row claimed_now = {0};
    CHECK(idempotency_decide(&claimed_now, ours) == IDEMPOTENCY_IN_PROGRESS);
    idempotency_row running = {.body_hash = ours};
    CHECK(idempotency_decide(&running, ours) == IDEMPOTENCY_IN_PROGRESS);
}

UNIT_CASE(a_pending_operation_is_waited_for, NULL)
{
    char state[] = "pending";
    idempotency_row row = {.body_hash = ours, .awaited_operation = operation, .awaited_state = state};
    CHECK(idempotency_decide(&row, ours) == IDEMPOTENCY_OPERATION_PENDING);
    /* Another body never learns about the operation. */
    CHECK(idempotency_decide(&row, theirs) == IDEMPOTENCY_OTHER_BODY);
}

UNIT_CASE(an_unknown_operation_needs_an_operator, NULL)
{
    char state[] = "unknown";
    idempotency_row row = {.body_hash = ours, .awaited_operation = operation, .awaited_state = state};
    CHECK(idempotency_decide(&row, ours) == IDEMPOTENCY_OPERATION_UNKNOWN);
}

/* Taken over by the claim statement, with the operation: the history it
 * made is the answer, never a second call. */
UNIT_CASE(a_succeeded_operation_is_answered, NULL)
{
    char kind[] = "cancel";
    idempotency_row row = {
        .lease = lease, .operation_id = operation, .operation_kind = kind, .operation_history = history};
    CHECK(idempotency_decide(&row, ours) == IDEMPOTENCY_ANSWER_OPERATION);
    /* Even without its history yet: answering it fails (and the key waits
     * again) rather than running a second operation. */
    row.operation_history = NULL;
    CHECK(idempotency_decide(&row, ours) == IDEMPOTENCY_ANSWER_OPERATION);
}

/* The claim statement takes a key whose operation was refused over without
 * the operation: the request runs afresh. */
UNIT_CASE(a_refused_operation_runs_afresh, NULL)
{
    idempotency_row row = {.lease = lease};
    CHECK(idempotency_decide(&row, ours) == IDEMPOTENCY_RUN);
}

/* Settled, but another retry took the key over at this very moment. */
UNIT_CASE(a_settled_operation_taken_by_another_retry_is_busy, NULL)
{
    char succeeded[] = "succeeded", refused[] = "refused";
    idempotency_row row = {.body_hash = ours, .awaited_operation = operation, .awaited_state = succeeded};
    CHECK(idempotency_decide(&row, ours) == IDEMPOTENCY_IN_PROGRESS);
    row.awaited_state = refused;
    CHECK(idempotency_decide(&row, ours) == IDEMPOTENCY_IN_PROGRESS);
}
