/* api_lookup: the input of a read by password. The id is copied because the
 * route parameters live only as long as the handler's call, while the read
 * goes on asynchronously. */
#include "api_lookup.h"

#include <stdio.h>

const char *api_lookup_path_id(http_exchange *ex, const http_route_params *params)
{
    const char *id = http_route_param(params, "id");
    if (!id || !api_input_is_uuid(id)) {
        http_respond_error(ex, 400, "id must be a UUID");
        return NULL;
    }
    return id;
}

bool api_lookup_read(api_request *request, const char *id, api_lookup *lookup)
{
    app_error err = {0};
    api_input in;
    api_input_init(&in, request->body, &err);
    bool read =
        id ? payment_input_password(&in, &lookup->password)
           : payment_input_source_fields(&in, &lookup->source) && payment_input_password(&in, &lookup->password);
    if (!read) {
        api_request_fail(request, &err);
        return false;
    }
    if (id)
        snprintf(lookup->id, sizeof lookup->id, "%s", id);
    return true;
}
