/* import_tables: the original server's five tables and how each row becomes
 * one of ours. Ids, sources, vendors, prices, refunds, currencies and times
 * are kept exactly; documents are sealed again; bcrypt passwords are kept
 * (verified and replaced at first use). The original's webhooks become ours
 * with their delivery already settled, so nothing is sent again. */
#include "import.h"

#include <stdio.h>
#include <string.h>

static const char *value(const PGresult *batch, int row, int column)
{
    return PQgetisnull(batch, row, column) ? NULL : PQgetvalue(batch, row, column);
}

/* Copies columns [0, count) as parameters, in order. */
static void take_columns(const PGresult *batch, int row, int count, import_row *out)
{
    for (int i = 0; i < count; i++)
        out->params[i] = value(batch, row, i);
    out->count = count;
}

/* What a history and a reservation share: a uuid source id and a bcrypt
 * password, which the API could not otherwise find or verify. */
static int check_source_and_password(const char *source_id, const char *password, char *reason, size_t reasonlen)
{
    if (!import_is_uuid(source_id)) {
        snprintf(reason, reasonlen, "source_id \"%.64s\" is not a uuid", source_id ? source_id : "");
        return -1;
    }
    if (!password || strncmp(password, "$2", 2) != 0) {
        snprintf(reason, reasonlen, "password is not a bcrypt hash");
        return -1;
    }
    return 0;
}

/* Replaces parameter index by the original's document sealed again. */
static int reseal_param(const seal_ring *from, const seal_ring *to, import_row *out, int index, char *reason,
                        size_t reasonlen)
{
    char *sealed = import_reseal(from, to, out->params[index], reason, reasonlen);
    if (!import_row_own(out, sealed))
        return -1;
    out->params[index] = sealed;
    return 0;
}

static int seal_json_param(const seal_ring *to, import_row *out, int index, const char *what, char *reason,
                           size_t reasonlen)
{
    char why[200];
    char *sealed = import_seal_json(to, out->params[index], why, sizeof why);
    if (!import_row_own(out, sealed)) {
        snprintf(reason, reasonlen, "%s %s", what, why);
        return -1;
    }
    out->params[index] = sealed;
    return 0;
}

/* A history or a reservation: both keep the source id in column 6 and the
 * password in column 8. */
static int convert_record(const PGresult *batch, int row, int columns, int data_column, const seal_ring *from,
                          const seal_ring *to, import_row *out, char *reason, size_t reasonlen)
{
    take_columns(batch, row, columns, out);
    if (check_source_and_password(out->params[6], out->params[8], reason, reasonlen) < 0)
        return -1;
    return reseal_param(from, to, out, data_column, reason, reasonlen);
}

static int convert_history(const import_run *run, const PGresult *batch, int row, import_row *out, char *reason,
                           size_t reasonlen)
{
    return convert_record(batch, row, 16, 12, &run->open_history, &run->seal_history, out, reason, reasonlen);
}

static int convert_reservation(const import_run *run, const PGresult *batch, int row, import_row *out, char *reason,
                               size_t reasonlen)
{
    return convert_record(batch, row, 11, 9, &run->open_reservation, &run->seal_reservation, out, reason, reasonlen);
}

static int convert_cancel(const import_run *run, const PGresult *batch, int row, import_row *out, char *reason,
                          size_t reasonlen)
{
    take_columns(batch, row, 7, out);
    out->parent = out->params[1];
    return reseal_param(&run->open_cancel, &run->seal_cancel, out, 5, reason, reasonlen);
}

/* The vendor's event and both histories, plain JSON there, sealed with the
 * history key as our own webhooks are. */
static int convert_webhook(const import_run *run, const PGresult *batch, int row, import_row *out, char *reason,
                           size_t reasonlen)
{
    take_columns(batch, row, 10, out);
    out->parent = out->params[1];
    if (out->params[3] && seal_json_param(&run->seal_history, out, 3, "data", reason, reasonlen) < 0)
        return -1;
    if (seal_json_param(&run->seal_history, out, 4, "previous", reason, reasonlen) < 0)
        return -1;
    return seal_json_param(&run->seal_history, out, 5, "current", reason, reasonlen);
}

static int convert_response(const import_run *run, const PGresult *batch, int row, import_row *out, char *reason,
                            size_t reasonlen)
{
    (void)run, (void)reason, (void)reasonlen;
    take_columns(batch, row, 6, out);
    out->parent = out->params[1];
    return 0;
}

const import_table import_tables[] = {
    {
        .name = "payment_histories",
        .select_sql = "SELECT id, vendor_code, vendor_store_id, vendor_uid, source_schema, source_table, source_id,"
                      " webhook_url, password, currency, price, refund, data, created_at, paid_at, cancelled_at"
                      " FROM {s}.payment_histories WHERE id > $1::uuid ORDER BY id LIMIT $2::int",
        .insert_sql = "INSERT INTO payment_histories (id, vendor_code, vendor_store_id, vendor_uid, source_schema,"
                      " source_table, source_id, webhook_url, password_hash, currency, price, refund, data,"
                      " created_at, paid_at, cancelled_at)"
                      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
                      " ON CONFLICT DO NOTHING RETURNING id",
        .exists_sql = "SELECT 1 FROM payment_histories WHERE id = $1::uuid",
        .taken_sql = "SELECT 1 FROM payment_histories WHERE id <> $1::uuid"
                     " AND ((vendor_code, vendor_uid) = ($2, $4)"
                     " OR (source_schema, source_table, source_id) = ($5, $6, $7::uuid))",
        .convert = convert_history,
    },
    {
        .name = "payment_reservations",
        .select_sql = "SELECT id, vendor_code, vendor_store_id, vendor_uid, source_schema, source_table, source_id,"
                      " title, password, data, created_at"
                      " FROM {s}.payment_reservations WHERE id > $1::uuid ORDER BY id LIMIT $2::int",
        .insert_sql = "INSERT INTO payment_reservations (id, vendor_code, vendor_store_id, vendor_uid, source_schema,"
                      " source_table, source_id, title, password_hash, data, created_at)"
                      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                      " ON CONFLICT DO NOTHING RETURNING id",
        .exists_sql = "SELECT 1 FROM payment_reservations WHERE id = $1::uuid",
        .taken_sql = "SELECT 1 FROM payment_reservations WHERE id <> $1::uuid"
                     " AND ((vendor_code, vendor_uid) = ($2, $4)"
                     " OR (source_schema, source_table, source_id) = ($5, $6, $7::uuid))",
        .convert = convert_reservation,
    },
    {
        /* sequence: the cancel's position among its history's, by time */
        .name = "payment_history_cancels",
        .parent_name = "payment_histories",
        .select_sql = "SELECT c.id, c.payment_history_id,"
                      " (SELECT count(*) FROM {s}.payment_history_cancels e"
                      "   WHERE e.payment_history_id = c.payment_history_id"
                      "   AND (e.created_at, e.id) < (c.created_at, c.id)),"
                      " c.amount, c.reason, c.data, c.created_at"
                      " FROM {s}.payment_history_cancels c WHERE c.id > $1::uuid ORDER BY c.id LIMIT $2::int",
        .insert_sql = "INSERT INTO payment_history_cancels (id, history_id, sequence, price, reason, data, created_at)"
                      " SELECT $1::uuid, $2::uuid, $3::int, $4::numeric, $5, $6, $7::timestamptz"
                      " WHERE EXISTS (SELECT 1 FROM payment_histories WHERE id = $2::uuid)"
                      " ON CONFLICT DO NOTHING RETURNING id",
        .exists_sql = "SELECT 1 FROM payment_history_cancels WHERE id = $1::uuid",
        .convert = convert_cancel,
    },
    {
        /* The original sent them already: delivered when a receiver answered
         * 2xx, else failed (an operator may send it again); the delivery
         * takes the webhook's id, which the responses name. */
        .name = "payment_history_webhooks",
        .parent_name = "payment_histories",
        .select_sql = "SELECT w.id, w.payment_history_id, h.vendor_code, w.data, w.previous, w.current, w.created_at,"
                      " (SELECT count(*) FROM {s}.payment_history_webhook_responses r"
                      "   WHERE r.payment_history_webhook_id = w.id),"
                      " CASE WHEN ok.at IS NULL THEN 'failed' ELSE 'delivered' END, ok.at"
                      " FROM {s}.payment_history_webhooks w"
                      " JOIN {s}.payment_histories h ON h.id = w.payment_history_id"
                      " CROSS JOIN LATERAL (SELECT max(r.created_at) AS at"
                      "   FROM {s}.payment_history_webhook_responses r"
                      "   WHERE r.payment_history_webhook_id = w.id AND r.status BETWEEN 200 AND 299) ok"
                      " WHERE w.id > $1::uuid ORDER BY w.id LIMIT $2::int",
        .insert_sql = "WITH webhook AS ("
                      " INSERT INTO payment_webhooks (id, history_id, vendor_code, origin, event, previous, current,"
                      "  created_at)"
                      " SELECT $1::uuid, $2::uuid, $3, 'vendor', $4, $5, $6, $7::timestamptz"
                      " WHERE EXISTS (SELECT 1 FROM payment_histories WHERE id = $2::uuid)"
                      " ON CONFLICT DO NOTHING RETURNING id, history_id, created_at)"
                      " INSERT INTO payment_webhook_deliveries (id, webhook_id, history_id, status, attempts,"
                      "  next_attempt_at, created_at, delivered_at)"
                      " SELECT id, id, history_id, $9, $8::int, created_at, created_at, $10::timestamptz FROM webhook"
                      " RETURNING id",
        .exists_sql = "SELECT 1 FROM payment_webhooks WHERE id = $1::uuid",
        .convert = convert_webhook,
    },
    {
        /* attempt: the response's position among its webhook's, by time */
        .name = "payment_history_webhook_responses",
        .parent_name = "payment_history_webhooks",
        .select_sql = "SELECT r.id, r.payment_history_webhook_id,"
                      " (SELECT count(*) FROM {s}.payment_history_webhook_responses e"
                      "   WHERE e.payment_history_webhook_id = r.payment_history_webhook_id"
                      "   AND (e.created_at, e.id) <= (r.created_at, r.id)),"
                      " r.status, r.body, r.created_at"
                      " FROM {s}.payment_history_webhook_responses r WHERE r.id > $1::uuid ORDER BY r.id LIMIT $2::int",
        .insert_sql = "INSERT INTO payment_webhook_responses (id, delivery_id, attempt, status, body, created_at)"
                      " SELECT $1::uuid, $2::uuid, $3::int, $4::int, $5, $6::timestamptz"
                      " WHERE EXISTS (SELECT 1 FROM payment_webhook_deliveries WHERE id = $2::uuid)"
                      " ON CONFLICT DO NOTHING RETURNING id",
        .exists_sql = "SELECT 1 FROM payment_webhook_responses WHERE id = $1::uuid",
        .convert = convert_response,
    },
};
const size_t import_table_count = sizeof import_tables / sizeof import_tables[0];
