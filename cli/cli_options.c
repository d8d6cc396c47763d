/* What several commands share: the local instance's paths (with the master's
 * own defaults, see common/config.c), option values, a mode's arguments, the
 * name the command line gives itself in the updater handshake, and printing
 * a document. */
#include "cli.h"

#include "settings.h"
#include "updater_protocol.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_settings_open(dotenv *env)
{
    char err[300];
    if (settings_open(env, err, sizeof err) < 0) {
        fprintf(stderr, "payments: %s\n", err);
        return -1;
    }
    return 0;
}

int cli_local_paths_load(const dotenv *env, cli_local_paths *paths, char *err, size_t errlen)
{
    memset(paths, 0, sizeof *paths);
    if (settings_integer(env, "PAYMENT_DRAIN_TIMEOUT_MS", 30000, 10, 86400000, &paths->drain_timeout_ms, err, errlen) <
        0)
        return -1;
    paths->control_socket = strdup(settings_get(env, "PAYMENT_CONTROL_SOCKET", "var/run/payments.sock"));
    paths->pid_file = strdup(settings_get(env, "PAYMENT_PID_FILE", "var/run/payments.pid"));
    paths->log_file = strdup(settings_get(env, "PAYMENT_LOG_FILE", ""));
    if (!paths->control_socket || !paths->pid_file || !paths->log_file) {
        cli_local_paths_free(paths);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

void cli_local_paths_free(cli_local_paths *paths)
{
    free(paths->control_socket);
    free(paths->pid_file);
    free(paths->log_file);
    memset(paths, 0, sizeof *paths);
}

const char *cli_option_value(int argc, char **argv, int *i, const char *name)
{
    size_t len = strlen(name);
    if (strncmp(argv[*i], name, len) != 0)
        return NULL;
    if (argv[*i][len] == '=')
        return argv[*i] + len + 1;
    if (argv[*i][len] == '\0' && *i + 1 < argc)
        return argv[++*i];
    return NULL;
}

int cli_mode_arguments_parse(int argc, char **argv, bool takes_url, cli_mode_arguments *out)
{
    *out = (cli_mode_arguments){0};
    const char *value;
    for (int i = 1; i < argc; i++) {
        if ((value = cli_option_value(argc, argv, &i, "--host")))
            out->host = value;
        else if (takes_url && (value = cli_option_value(argc, argv, &i, "--url")))
            out->url = value;
        else if (strcmp(argv[i], "--json") == 0)
            out->json = true;
        else if (!out->mode && argv[i][0] != '-')
            out->mode = argv[i];
        else
            return cli_usage_error(argv[0], "unexpected argument %s", argv[i]);
    }
    if (!out->mode)
        return cli_usage_error(argv[0], "which mode: local, dev or real?");
    return 0;
}

void cli_instance_name(char *out, size_t len)
{
    char host[64] = "localhost";
    if (gethostname(host, sizeof host) < 0)
        snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = '\0';
    snprintf(out, len, "payments-cli@%.40s", host);
    for (char *p = out; *p; p++)
        if (!protocol_name_valid((char[]){*p, '\0'}))
            *p = '-';
}

int cli_print_json(json_t *doc)
{
    return json_dumpf(doc, stdout, JSON_INDENT(2)) == 0 && puts("") >= 0 ? 0 : 1;
}
