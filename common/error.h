/* The one error type: an HTTP status and a message safe to show the caller.
 * Internal details go to the log, never into the message. A vendor's failure
 * also carries the vendor's own words, so that the caller learns which
 * gateway refused and how (the "vendor" member of the error answer). */
#ifndef PAYMENTS_ERROR_H
#define PAYMENTS_ERROR_H

#include <stdbool.h>
#include <stddef.h>

/* Who failed at a vendor and how it said so; code "" when the error is
 * not a vendor's. */
typedef struct app_error_vendor {
    char code[32];        /* the adapter's code, as in the API's vendor union */
    char vendor_code[64]; /* the vendor's own code of the failure, "" when it gave none */
    int status;           /* the HTTP status the vendor answered, 0 when none came */
    char message[160];    /* the vendor's own message, "" when none came */
} app_error_vendor;

typedef struct app_error {
    int status;              /* HTTP status; 0 means no error */
    char message[256];       /* safe for the caller to read */
    app_error_vendor vendor; /* set for a vendor's failure only */
    unsigned retry_after_s;  /* a Retry-After header in seconds, 0: none */
    bool not_sent;           /* the request never left: nothing happened at the vendor */
    bool outcome_unknown;    /* a write's COMMIT was cut off: it may or may not have happened */
} app_error;

/* Sets status and message; a vendor part and a Retry-After set before are
 * cleared, since the error is a new one. */
void app_error_set(app_error *err, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Names the vendor behind err (already set): its adapter code, its own code
 * and message (NULL: none) and the HTTP status it answered (0: none). */
void app_error_set_vendor(app_error *err, const char *code, const char *vendor_code, int http_status,
                          const char *message);
void app_error_clear(app_error *err);
/* Formats a one-line reason into err (when given) and returns -1, for the
 * functions that report failures as (char *err, size_t errlen). */
int error_format(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The standard reason phrase of an HTTP status ("Not Found"), or "Unknown". */
const char *http_status_reason(int status);

#endif
