/* GET /payments/internal/operations?state=pending|succeeded|refused|unknown:
 * an operator sees the operations that move money, above all those the
 * reconciler could not settle ("unknown"), with its decisions. Authenticated
 * like every internal route; plain JSON, for curl; no inputs or vendor
 * documents (they are sealed and stay so). */
#include "worker.h"

#include "operation_store.h"
#include "query_param.h"
#include "system_auth.h"

#include <stdlib.h>
#include <string.h>

/* The newest operations answered at most: enough for an operator's look. */
#define OPERATION_LIST_LIMIT 500

static bool known_state(const char *state)
{
    static const char *const states[] = {"pending", "succeeded", "refused", "unknown"};
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
        if (strcmp(state, states[i]) == 0)
            return true;
    return false;
}

static void on_listed(PGresult *res, const app_error *err, void *data)
{
    http_exchange *ex = data;
    if (err) {
        http_respond_error(ex, err->status, err->message);
        return;
    }
    if (PQntuples(res) != 1) {
        http_respond_error(ex, 500, "cannot list the operations");
        return;
    }
    const char *text = PQgetvalue(res, 0, 0);
    http_respond(ex, 200, "application/json; charset=utf-8", text, strlen(text));
}

void operations_list(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    worker *w = context;
    if (!system_auth_check(ex, w))
        return;
    const http_request *request = http_exchange_request(ex);
    char state[16];
    bool one_state = query_param(request->query, "state", state, sizeof state);
    if ((request->query && *request->query && !one_state) || (one_state && !known_state(state))) {
        http_respond_error(ex, 400, "state must be pending, succeeded, refused or unknown");
        return;
    }
    operation_store_list(w->db, one_state ? state : NULL, OPERATION_LIST_LIMIT, on_listed, ex);
}
