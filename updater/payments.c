/* payments: the operator's command line. For now it speaks to the local
 * master (status, reload) and applies migrations; updates and monitoring
 * across instances build on it. */
#include "config.h"
#include "migrate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef PAYMENTS_SQL_DIR
#define PAYMENTS_SQL_DIR "sql"
#endif

static void usage(FILE *out)
{
    fputs("usage: payments <command> [--help]\n"
          "\n"
          "commands:\n"
          "  status    the local master and its workers (JSON), from PAYMENT_CONTROL_SOCKET\n"
          "  reload    replace the local workers one at a time (like SIGHUP to the master)\n"
          "  migrate   apply pending sql/ migrations to the configured database\n"
          "\n"
          "Configuration: the environment and PAYMENT_ENV_FILE (default .env).\n",
          out);
}

/* Sends one command line to the control socket and copies the answer to stdout. */
static int control_request(const char *path, const char *command)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof addr.sun_path) {
        fprintf(stderr, "payments: control socket path too long: %s\n", path);
        return 1;
    }
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        fprintf(stderr, "payments: no master answers on %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return 1;
    }
    char line[64];
    int n = snprintf(line, sizeof line, "%s\n", command);
    int rc = write(fd, line, (size_t)n) == n ? 0 : 1;
    char buf[4096];
    ssize_t got;
    while (rc == 0 && (got = read(fd, buf, sizeof buf)) > 0)
        rc = fwrite(buf, 1, (size_t)got, stdout) == (size_t)got ? 0 : 1;
    close(fd);
    return rc;
}

static int run_migrate(const cfg *c)
{
    const char *dir = getenv("PAYMENT_SQL_DIR");
    char *conninfo = cfg_postgres_conninfo(c);
    char err[512];
    int applied = conninfo ? migrate_apply(conninfo, c->postgres.schema, dir && *dir ? dir : PAYMENTS_SQL_DIR, err,
                                           sizeof err)
                           : -1;
    free(conninfo);
    if (applied < 0) {
        fprintf(stderr, "payments migrate: %s\n", conninfo ? err : "out of memory");
        return 1;
    }
    printf("%d migration(s) applied\n", applied);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *command = argv[1];
    if (argc > 2 && strcmp(argv[2], "--help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(command, "status") != 0 && strcmp(command, "reload") != 0 && strcmp(command, "migrate") != 0) {
        fprintf(stderr, "payments: unknown command %s\n", command);
        usage(stderr);
        return 2;
    }
    cfg c;
    char err[256];
    if (cfg_load(&c, err, sizeof err) < 0) {
        fprintf(stderr, "payments: %s\n", err);
        return 1;
    }
    int rc = strcmp(command, "migrate") == 0 ? run_migrate(&c) : control_request(c.control_socket, command);
    cfg_free(&c);
    return rc;
}
