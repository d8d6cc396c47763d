/* The one error type: an HTTP status and a message safe to show the caller.
 * Internal details go to the log, never into the message. */
#ifndef PAYMENTS_ERROR_H
#define PAYMENTS_ERROR_H

#include <stddef.h>

typedef struct app_error {
    int status;        /* HTTP status; 0 means no error */
    char message[256]; /* safe for the caller to read */
} app_error;

void app_error_set(app_error *err, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void app_error_clear(app_error *err);
/* Formats a one-line reason into err (when given) and returns -1, for the
 * functions that report failures as (char *err, size_t errlen). */
int error_format(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The standard reason phrase of an HTTP status ("Not Found"), or "Unknown". */
const char *http_status_reason(int status);

#endif
