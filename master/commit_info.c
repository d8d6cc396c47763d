/* Commit information: what the instance serves, read from git at start-up
 * and at every reload or upgrade (blocking, in the master only), and handed
 * to the workers through PAYMENT_COMMIT as the contract's ISystem.ICommit. */
#include "master.h"

#include "log.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef PAYMENTS_SOURCE_DIR
#define PAYMENTS_SOURCE_DIR "."
#endif

#define COMMIT_FIELD_MAX 4096

static const char *source_dir(void)
{
    const char *dir = getenv("PAYMENT_SOURCE_DIR");
    return dir && *dir ? dir : PAYMENTS_SOURCE_DIR;
}

/* Runs `git -C <dir> <args>` and returns its output (malloc'd, NUL-terminated,
 * length in *len) without trailing newlines, or NULL when git fails. */
static char *git_output(const char *args, size_t *len)
{
    char command[8192];
    /* The directory comes from our own build or configuration; quoted all
     * the same so spaces in it are harmless. */
    snprintf(command, sizeof command, "git -C '%s' %s 2>/dev/null", source_dir(), args);
    FILE *pipe = popen(command, "r");
    if (!pipe)
        return NULL;
    char *text = calloc(1, COMMIT_FIELD_MAX + 1);
    size_t n = text ? fread(text, 1, COMMIT_FIELD_MAX, pipe) : 0;
    int status = pclose(pipe);
    if (!text || status != 0) {
        free(text);
        return NULL;
    }
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
        text[--n] = '\0';
    *len = n;
    return text;
}

static json_t *git_tags(void)
{
    json_t *tags = json_array();
    size_t len;
    char *text = git_output("tag --points-at HEAD", &len);
    for (char *save = NULL, *line = text ? strtok_r(text, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save))
        json_array_append_new(tags, json_string(line));
    free(text);
    return tags;
}

/* The fields of `git log -1`, NUL-separated, in the order of log_keys. */
static const char log_format[] =
    "log -1 --format=%H%x00%h%x00%s%x00%f%x00%an%x00%ae%x00%cn%x00%ce%x00%aI%x00%cI%x00%N%x00%b";
enum { LOG_FIELDS = 12 };

static void split_fields(char *text, size_t len, const char *fields[LOG_FIELDS])
{
    size_t at = 0;
    for (int i = 0; i < LOG_FIELDS; i++) {
        fields[i] = at <= len ? text + at : "";
        at += at <= len ? strlen(text + at) + 1 : 0;
    }
}

static json_t *commit_document(const char *fields[LOG_FIELDS], char *branch)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s}, s:s, s:s, s:s, s:o}", "hash",
                     fields[0], "shortHash", fields[1], "subject", fields[2], "sanitizedSubject", fields[3], "branch",
                     branch ? branch : "", "body", fields[11], "author", "name", fields[4], "email", fields[5],
                     "committer", "name", fields[6], "email", fields[7], "authored_at", fields[8], "commited_at",
                     fields[9], "notes", fields[10], "tags", git_tags());
}

char *commit_info_json(void)
{
    size_t len = 0, branch_len;
    char *text = git_output(log_format, &len);
    char *branch = git_output("rev-parse --abbrev-ref HEAD", &branch_len);
    const char *fields[LOG_FIELDS];
    split_fields(text ? text : (char[]){""}, text ? len : 0, fields);
    json_t *doc = commit_document(fields, branch);
    char *out = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    free(text);
    free(branch);
    if (!out)
        log_warn("commit information unavailable");
    return out;
}
