/* The connection key that the api_body fuzz target and its seed generator
 * share, so that the encrypted seeds decrypt. */
#ifndef PAYMENTS_FUZZ_API_BODY_H
#define PAYMENTS_FUZZ_API_BODY_H

#define FUZZ_API_BODY_KEY "fuzz-conn-key-0123456789abcdef01"
#define FUZZ_API_BODY_IV "fuzz-conn-iv-012"

#endif
