/* api_lookup: the two reads of one record by its password that histories and
 * reservations both offer. PATCH .../get names the record's source in the
 * body, PATCH .../:id its id in the path; either way the body carries the
 * password, and the record is answered only when it matches. */
#ifndef PAYMENTS_API_LOOKUP_H
#define PAYMENTS_API_LOOKUP_H

#include "api_request.h"
#include "payment_input.h"

typedef struct api_lookup {
    payment_source_input source; /* .../get */
    char id[40];                 /* .../:id; "" for .../get */
    const char *password;        /* borrowed from the request body */
} api_lookup;

/* The :id of the path, or NULL after answering 400. Checked before the body
 * is read, so a bad id is reported whatever the body. */
const char *api_lookup_path_id(http_exchange *ex, const http_route_params *params);

/* Reads the body of a .../get (id NULL: source and password) or of a .../:id
 * (the password; id is copied). false after failing the request. */
bool api_lookup_read(api_request *request, const char *id, api_lookup *lookup);

#endif
