/* Hashing binaries off the loop: one work request carries every path and
 * every result, and is freed after the callback on the loop thread. */
#include "update_hash.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct hash_work {
    uv_work_t req;
    update_hash_entry entries[UPDATE_HASH_MAX_FILES];
    size_t count;
    update_hash_cb cb;
    void *data;
} hash_work;

static void hash_one(update_hash_entry *e)
{
    if (!e->path[0]) {
        e->errno_value = ENOENT;
        return;
    }
    FILE *f = fopen(e->path, "rb");
    if (!f) {
        e->errno_value = errno;
        return;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
    unsigned char chunk[65536];
    size_t n;
    while (ok && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        ok = EVP_DigestUpdate(ctx, chunk, n) == 1;
    unsigned int len = 0;
    ok = ok && !ferror(f) && EVP_DigestFinal_ex(ctx, e->digest, &len) == 1 && len == sizeof e->digest;
    e->errno_value = ok ? 0 : (errno ? errno : EIO);
    e->ok = ok;
    EVP_MD_CTX_free(ctx);
    fclose(f);
}

static void work(uv_work_t *req)
{
    hash_work *w = req->data;
    for (size_t i = 0; i < w->count; i++)
        hash_one(&w->entries[i]);
}

static void after_work(uv_work_t *req, int status)
{
    hash_work *w = req->data;
    if (status < 0) /* cancelled: nothing was read */
        for (size_t i = 0; i < w->count; i++)
            w->entries[i].ok = false;
    w->cb(w->entries, w->count, w->data);
    free(w);
}

int update_hash_files(uv_loop_t *loop, const char *const *paths, size_t count, update_hash_cb cb, void *data)
{
    if (count > UPDATE_HASH_MAX_FILES)
        return -1;
    hash_work *w = calloc(1, sizeof *w);
    if (!w)
        return -1;
    for (size_t i = 0; i < count; i++)
        snprintf(w->entries[i].path, sizeof w->entries[i].path, "%s", paths[i] ? paths[i] : "");
    w->count = count;
    w->cb = cb;
    w->data = data;
    w->req.data = w;
    if (uv_queue_work(loop, &w->req, work, after_work) < 0) {
        free(w);
        return -1;
    }
    return 0;
}

bool update_hash_same(const update_hash_entry *a, const update_hash_entry *b)
{
    return a->ok && b->ok && memcmp(a->digest, b->digest, sizeof a->digest) == 0;
}
