/* fake_state: a fake's own state, made from its spec. Both fakes keep only
 * stores of records, so the shell makes them with the settings' capacity and
 * lifetimes, and frees them, and no fake writes that code again. */
#ifndef PAYMENTS_FAKE_STATE_H
#define PAYMENTS_FAKE_STATE_H

#include "fake_server.h"

/* Sets fs->vendor; returns 0, or -1 with nothing left allocated. */
int fake_state_create(fake_server *fs, const fake_server_spec *spec);
/* Frees fs->vendor and its stores; does nothing when there is none. */
void fake_state_destroy(fake_server *fs, const fake_server_spec *spec);

#endif
