/* history_access: one history, given its record password. Every read and
 * every cancel goes through here, so no route can reach a history without
 * the password: 404 when there is no such history, 403 when the password is
 * wrong (checked in constant time, bcrypt off the loop). */
#ifndef PAYMENTS_HISTORY_ACCESS_H
#define PAYMENTS_HISTORY_ACCESS_H

#include "history_store.h"
#include "worker.h"

/* record is the callback's to free; NULL with err on failure. password must
 * stay valid until cb runs; ex is the request (its client is limited in its
 * guesses, record_password.h). */
void history_access_by_id(worker *w, http_exchange *ex, const char *id, const char *password, history_record_cb cb,
                          void *data);
void history_access_by_source(worker *w, http_exchange *ex, const payment_source_input *source, const char *password,
                              history_record_cb cb, void *data);

#endif
