/* The key ring that the seal fuzz target and its seed generator share, so
 * that the seeds are values these keys open. */
#ifndef PAYMENTS_FUZZ_SEAL_H
#define PAYMENTS_FUZZ_SEAL_H

#define FUZZ_SEAL_KEY "fuzz-history-key-0123456789abcde"
#define FUZZ_SEAL_IV "fuzz-history-iv0"
#define FUZZ_SEAL_OLD_KEY "fuzz-old-key-0123456789abcdef012"
#define FUZZ_SEAL_OLD_IV "fuzz-old-iv-0123"
#define FUZZ_SEAL_LABEL "histories"

#endif
