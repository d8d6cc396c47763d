/* Request ids: one per request, taken from the client's X-Request-Id when it
 * is sane, else made here, so that every log line, vendor call, operation and
 * notification a request causes can be found by one string. The worker is
 * one thread: the id of the request being worked on is ambient, entered
 * where asynchronous work resumes (a query's, a vendor call's callback). */
#ifndef PAYMENTS_REQUEST_ID_H
#define PAYMENTS_REQUEST_ID_H

#include <stdbool.h>

#define REQUEST_ID_MAX 64

typedef struct request_id {
    char text[REQUEST_ID_MAX + 1]; /* "" when none */
} request_id;

/* 1 to REQUEST_ID_MAX characters of an HTTP token (RFC 9110 tchar): safe in
 * a header, a log line and JSON without escaping. */
bool request_id_sane(const char *value);
/* header when sane, else a new id unique to this process and start. */
void request_id_choose(const char *header, request_id *out);

/* The ambient id ("" outside any request). */
const char *request_id_current(void);
/* Copies the ambient id, for work that resumes later. */
void request_id_capture(request_id *out);
/* Makes id ambient, keeping the one it replaces in saved for
 * request_id_restore: callbacks may run inside one another. */
void request_id_enter(const request_id *id, request_id *saved);
void request_id_restore(const request_id *saved);

#endif
