/* privilege: a master started as root (make run, a container) keeps root for
 * what only it does (binding, the pid file, upgrades) and runs every worker
 * as PAYMENT_USER. libuv's child gives up its groups, gid and uid after the
 * inherited descriptors (the listening socket, the pipe) are in place and
 * before exec; a failed step fails the spawn. Such a worker may not be able
 * to read a root-only .env, so the master hands it the file's values in its
 * environment, and it gives the worker user the log file it must reopen. */
#include "master.h"

#include "error.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

/* Said where the worker looks for its .env: every value is already in its
 * environment, and the real file may be unreadable to it. */
#define WORKER_ENV_FILE "PAYMENT_ENV_FILE=/dev/null"

int privilege_prepare(master_privilege *p, const cfg *c, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    if (geteuid() != 0)
        return 0;
    char why[200];
    if (run_as_lookup(c->user, &p->user, why, sizeof why) < 0)
        return error_format(err, errlen,
                            "PAYMENT_USER: %s; create it (useradd --system --no-create-home --shell "
                            "/usr/sbin/nologin %s) or name another user: workers started by root never keep root "
                            "unless PAYMENT_USER=root",
                            why, c->user);
    p->drop = run_as_needed(&p->user);
    if (p->drop && c->env_file && dotenv_load(&p->settings, c->env_file, 1, why, sizeof why) < 0) {
        dotenv_free(&p->settings);
        return error_format(err, errlen, "%s", why);
    }
    return 0;
}

void privilege_clear(master_privilege *p)
{
    dotenv_free(&p->settings);
    memset(p, 0, sizeof *p);
}

void privilege_describe(const master_privilege *p)
{
    if (p->drop)
        log_info("workers run as user %s (uid %d, gid %d)", p->user.name, (int)p->user.uid, (int)p->user.gid);
    else if (geteuid() == 0)
        log_warn("workers run as root: PAYMENT_USER=%s", p->user.name);
}

static char *entry_text(const char *key, const char *value)
{
    size_t len = strlen(key) + 1 + strlen(value) + 1;
    char *text = malloc(len);
    if (text)
        snprintf(text, len, "%s=%s", key, value);
    return text;
}

/* The file's value of key is the one a lookup of the file would find (the
 * last), and only when the environment has none: the environment wins. */
static bool file_value_applies(const dotenv *file, size_t index)
{
    const char *key = file->entries[index].key;
    if (getenv(key))
        return false;
    for (size_t later = index + 1; later < file->count; later++)
        if (strcmp(file->entries[later].key, key) == 0)
            return false;
    return true;
}

static void environment_free(char **env)
{
    for (size_t i = 0; env && env[i]; i++)
        free(env[i]);
    free(env);
}

/* Our environment, then the file's values it lacks, then WORKER_ENV_FILE. */
static char **worker_environment(const dotenv *file)
{
    size_t own = 0;
    while (environ[own])
        own++;
    char **env = calloc(own + file->count + 2, sizeof *env);
    if (!env)
        return NULL;
    size_t n = 0;
    bool ok = true;
    for (size_t i = 0; ok && i < own; i++)
        if (strncmp(environ[i], "PAYMENT_ENV_FILE=", 17) != 0)
            ok = (env[n++] = strdup(environ[i])) != NULL;
    for (size_t i = 0; ok && i < file->count; i++)
        if (file_value_applies(file, i))
            ok = (env[n++] = entry_text(file->entries[i].key, file->entries[i].value)) != NULL;
    if (ok)
        ok = (env[n++] = strdup(WORKER_ENV_FILE)) != NULL;
    if (!ok) {
        environment_free(env);
        return NULL;
    }
    return env;
}

int privilege_spawn_options(const master_privilege *p, uv_process_options_t *options)
{
    if (!p->drop)
        return 0;
    options->env = worker_environment(&p->settings);
    if (!options->env)
        return -1;
    options->flags |= UV_PROCESS_SETUID | UV_PROCESS_SETGID;
    options->uid = p->user.uid;
    options->gid = p->user.gid;
    return 0;
}

void privilege_spawn_done(uv_process_options_t *options)
{
    environment_free(options->env);
    options->env = NULL;
}

/* As nginx does: the workers reopen the log on USR1 by its path, as the
 * worker user, so the file is theirs; root (the master) writes it anyway. */
void privilege_own_log(const master_privilege *p, const char *path)
{
    if (!p->drop || !path || !*path)
        return;
    if (chown(path, p->user.uid, p->user.gid) < 0)
        log_warn("cannot give the log file to user %s: workers may log to stderr instead", p->user.name);
}
