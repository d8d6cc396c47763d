/* Content hashes of binaries (SHA-256), computed on the libuv thread pool so
 * that reading a few megabytes never stalls the updater's loop. A path may
 * be /proc/<pid>/exe: the image a running process executes, even when the
 * file it came from has since been replaced by a build. */
#ifndef PAYMENTS_UPDATE_HASH_H
#define PAYMENTS_UPDATE_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#define UPDATE_HASH_MAX_FILES 8

typedef struct update_hash_entry {
    char path[4096];
    bool ok; /* false: unreadable (errno_value says why) */
    int errno_value;
    unsigned char digest[32];
} update_hash_entry;

/* entries is valid during the callback only. */
typedef void (*update_hash_cb)(const update_hash_entry *entries, size_t count, void *data);

/* Hashes up to UPDATE_HASH_MAX_FILES files; an empty path is skipped (not
 * ok). Returns 0 (the callback follows) or -1 (it does not). */
int update_hash_files(uv_loop_t *loop, const char *const *paths, size_t count, update_hash_cb cb, void *data);
/* True when both entries were read and their contents are equal. */
bool update_hash_same(const update_hash_entry *a, const update_hash_entry *b);

#endif
