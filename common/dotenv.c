/* dotenv: a small line parser. ${VAR} refers to the environment first, then to
 * keys defined earlier in the same file; an unknown name expands to "". */
#include "dotenv.h"

#include "byte_buffer.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *dotenv_file_value(const dotenv *env, const char *key)
{
    for (size_t i = env->count; i-- > 0;)
        if (strcmp(env->entries[i].key, key) == 0)
            return env->entries[i].value;
    return NULL;
}

static const char *lookup(const dotenv *env, const char *key)
{
    const char *v = getenv(key);
    return v ? v : dotenv_file_value(env, key);
}

/* The original server spells the updater's settings UPDATOR; UPDATER, the
 * spelling of our own PAYMENT_UPDATER_LOG_FILE, is accepted for each of
 * them, so that neither spelling is silently ignored. */
#define UPDATOR_PREFIX "PAYMENT_UPDATOR_"

static const char *updater_spelling(const dotenv *env, const char *key)
{
    size_t n = strlen(UPDATOR_PREFIX);
    char alias[128];
    if (strncmp(key, UPDATOR_PREFIX, n) != 0 || strlen(key) >= sizeof alias)
        return NULL;
    snprintf(alias, sizeof alias, "PAYMENT_UPDATER_%s", key + n);
    return lookup(env, alias);
}

const char *dotenv_get(const dotenv *env, const char *key)
{
    const char *v = lookup(env, key);
    return v ? v : updater_spelling(env, key);
}

/* Expands ${NAME} at *p (pointing at '$'); advances *p past it. */
static int expand_variable(const dotenv *env, const char **p, byte_buffer *out)
{
    const char *start = *p + 2;
    const char *end = strchr(start, '}');
    if (!end)
        return -1;
    char name[128];
    size_t n = (size_t)(end - start);
    if (n == 0 || n >= sizeof name)
        return -1;
    memcpy(name, start, n);
    name[n] = '\0';
    const char *value = dotenv_get(env, name);
    *p = end + 1;
    return value ? byte_buffer_append(out, value, strlen(value)) : 0;
}

static int parse_double_quoted(const dotenv *env, const char **p, byte_buffer *out)
{
    const char *s = *p + 1;
    while (*s && *s != '"') {
        if (*s == '\\' && s[1]) {
            char c = s[1] == 'n' ? '\n' : s[1] == 't' ? '\t' : s[1];
            if (byte_buffer_append(out, &c, 1) < 0)
                return -1;
            s += 2;
        } else if (s[0] == '$' && s[1] == '{') {
            if (expand_variable(env, &s, out) < 0)
                return -1;
        } else {
            if (byte_buffer_append(out, s++, 1) < 0)
                return -1;
        }
    }
    if (*s != '"')
        return -1;
    *p = s + 1;
    return 0;
}

static int parse_single_quoted(const char **p, byte_buffer *out)
{
    const char *s = *p + 1;
    const char *end = strchr(s, '\'');
    if (!end)
        return -1;
    *p = end + 1;
    return byte_buffer_append(out, s, (size_t)(end - s));
}

/* Unquoted: up to end of line or " #", trailing blanks dropped. */
static int parse_bare(const dotenv *env, const char **p, byte_buffer *out)
{
    const char *s = *p;
    while (*s && !(*s == '#' && (s == *p || isspace((unsigned char)s[-1])))) {
        if (s[0] == '$' && s[1] == '{') {
            if (expand_variable(env, &s, out) < 0)
                return -1;
        } else if (byte_buffer_append(out, s++, 1) < 0) {
            return -1;
        }
    }
    while (out->len > 0 && isspace((unsigned char)out->data[out->len - 1]))
        out->data[--out->len] = '\0';
    *p = s;
    return 0;
}

static int add_entry(dotenv *env, const char *key, size_t key_len, char *value)
{
    dotenv_entry *e = realloc(env->entries, (env->count + 1) * sizeof *e);
    if (!e)
        return -1;
    env->entries = e;
    e[env->count].key = strndup(key, key_len);
    if (!e[env->count].key)
        return -1;
    e[env->count].value = value;
    env->count++;
    return 0;
}

static int parse_line(dotenv *env, const char *line, const char **why)
{
    while (isspace((unsigned char)*line))
        line++;
    if (*line == '\0' || *line == '#')
        return 0;
    if (strncmp(line, "export ", 7) == 0)
        for (line += 7; isspace((unsigned char)*line);)
            line++;
    const char *key = line;
    while (isalnum((unsigned char)*line) || *line == '_')
        line++;
    size_t key_len = (size_t)(line - key);
    while (*line == ' ' || *line == '\t')
        line++;
    if (key_len == 0 || *line != '=') {
        *why = "expected KEY=VALUE";
        return -1;
    }
    for (line++; *line == ' ' || *line == '\t';)
        line++;
    byte_buffer value = {0};
    int rc = *line == '"'    ? parse_double_quoted(env, &line, &value)
             : *line == '\'' ? parse_single_quoted(&line, &value)
                             : parse_bare(env, &line, &value);
    if (rc == 0 && !value.data)
        rc = byte_buffer_append(&value, "", 0);
    if (rc < 0 || add_entry(env, key, key_len, value.data) < 0) {
        byte_buffer_release(&value);
        *why = "unterminated quote or ${...}";
        return -1;
    }
    return 0;
}

int dotenv_parse(dotenv *env, const char *text, char *err, size_t errlen)
{
    int line_no = 0;
    while (*text) {
        line_no++;
        const char *end = strchr(text, '\n');
        size_t n = end ? (size_t)(end - text) : strlen(text);
        char *line = strndup(text, n);
        if (!line) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        if (n > 0 && line[n - 1] == '\r')
            line[n - 1] = '\0';
        const char *why = NULL;
        int rc = parse_line(env, line, &why);
        free(line);
        if (rc < 0) {
            snprintf(err, errlen, "line %d: %s", line_no, why ? why : "invalid");
            return -1;
        }
        text += n + (end ? 1 : 0);
    }
    return 0;
}

int dotenv_load(dotenv *env, const char *path, int required, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT && !required)
            return 0;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    byte_buffer text = {0};
    int rc = byte_buffer_read_file(&text, f);
    fclose(f);
    if (rc < 0) {
        byte_buffer_release(&text);
        snprintf(err, errlen, "%s: cannot read the file", path);
        return -1;
    }
    char inner[200];
    rc = dotenv_parse(env, text.data, inner, sizeof inner);
    byte_buffer_release(&text);
    if (rc < 0)
        snprintf(err, errlen, "%s: %s", path, inner);
    return rc;
}

void dotenv_free(dotenv *env)
{
    for (size_t i = 0; i < env->count; i++) {
        free(env->entries[i].key);
        free(env->entries[i].value);
    }
    free(env->entries);
    env->entries = NULL;
    env->count = 0;
}
