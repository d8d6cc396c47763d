/* What the updater protocol's fuzz target and its seed generator agree on:
 * the secret, the names, and the server nonce that replaces the random one,
 * so that a saved hello verifies again whenever it is replayed. */
#ifndef PAYMENTS_FUZZ_UPDATER_PROTOCOL_H
#define PAYMENTS_FUZZ_UPDATER_PROTOCOL_H

#define FUZZ_UPDATER_SECRET "fuzz-system-password-0123456789"
#define FUZZ_UPDATER_SERVER "fuzz-server"
#define FUZZ_UPDATER_CLIENT "fuzz-client"
#define FUZZ_UPDATER_SERVER_NONCE_BYTE 0x5a

/* The first input byte: which side of the link the input talks to. */
#define FUZZ_UPDATER_TO_SERVER 0 /* the input is a client: hello, then sealed frames */
#define FUZZ_UPDATER_TO_CLIENT 1 /* the input is a server: challenge, welcome, sealed frames */

#endif
