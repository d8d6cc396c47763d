/* The updater's pid file and state file, for `payments updater stop|status`
 * and for systemd. The state file tells what only the running updater knows
 * (its role, the instances a master has linked, a slave's link); it is
 * replaced atomically, so a reader never sees half of it. */
#include "updater.h"

#include "log.h"
#include "path.h"
#include "pidfile.h"
#include "pidfile_read.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int updater_state_start(updater *u, char *err, size_t errlen)
{
    return pidfile_write(u->config.pid_file, "updater", 0, err, errlen);
}

static json_t *state_document(updater *u)
{
    json_t *role = u->master ? updater_master_state(u) : u->slave ? updater_slave_state(u) : json_object();
    if (!role)
        return NULL;
    if (json_object_set_new(role, "pid", json_integer(getpid())) < 0 ||
        json_object_set_new(role, "role", json_string(u->master ? "master" : "slave")) < 0 ||
        json_object_set_new(role, "instance", json_string(u->config.instance)) < 0 ||
        json_object_set_new(role, "updated_at", json_integer((json_int_t)time(NULL))) < 0) {
        json_decref(role);
        return NULL;
    }
    return role;
}

void updater_state_write(updater *u)
{
    const char *path = u->config.state_file;
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid()) >= (int)sizeof tmp)
        return;
    json_t *doc = state_document(u);
    int rc = doc && path_make_parent(path) == 0 ? json_dump_file(doc, tmp, JSON_INDENT(2)) : -1;
    json_decref(doc);
    if (rc < 0 || rename(tmp, path) < 0) {
        log_warn("cannot write the state file %s", path);
        unlink(tmp);
    }
}

void updater_state_remove(updater *u)
{
    if (pidfile_read_running(u->config.pid_file) != 0)
        return; /* another updater's files now */
    unlink(u->config.state_file);
    pidfile_remove(u->config.pid_file);
}
