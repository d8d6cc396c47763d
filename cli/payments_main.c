/* payments: the operator's command line. One table names every command, its
 * synopsis and its help, so `payments --help` and `payments <command> --help`
 * always agree with what runs. */
#include "cli.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct cli_command {
    const char *name;
    const char *synopsis;
    const char *summary;
    const char *help;
    int (*run)(int argc, char **argv);
} cli_command;

static const cli_command commands[] = {
    {"start", "start [--log FILE] [--timeout SECONDS]", "start the local master in the background",
     "Starts payments-master (beside this binary, or PAYMENT_MASTER_BINARY) in the\n"
     "background with its output appended to FILE (default PAYMENT_LOG_FILE, else\n"
     "var/log/payments.log), and waits until the control socket reports every worker\n"
     "ready (default 60 s). Fails when a master already runs on PAYMENT_PID_FILE.\n",
     cli_start},
    {"stop", "stop [--fast] [--timeout SECONDS]", "stop the local master gracefully",
     "Sends QUIT (TERM with --fast) to the master in PAYMENT_PID_FILE and waits until\n"
     "it is gone: in-flight requests finish, then the workers and the master exit.\n"
     "The default wait is PAYMENT_DRAIN_TIMEOUT_MS plus 15 s.\n",
     cli_stop},
    {"status", "status", "the local master's status document",
     "Prints the JSON document of the control socket (PAYMENT_CONTROL_SOCKET): the\n"
     "master (pid, binary, commit, generation) and its workers (pid, state, stats).\n",
     cli_status},
    {"reload", "reload", "replace the local workers one at a time",
     "Asks the master to re-read its configuration and the commit, and to replace\n"
     "its workers one at a time (like SIGHUP); each new worker is ready before an old\n"
     "one drains.\n",
     cli_reload},
    {"migrate", "migrate", "apply pending sql/ migrations",
     "Applies the sql/ migrations not yet applied to PAYMENT_POSTGRES_URL, schema\n"
     "PAYMENT_POSTGRES_SCHEMA (PAYMENT_SQL_DIR overrides the directory).\n",
     cli_migrate},
    {"updater",
     "updater start <master|slave> [--log FILE] [--master HOST[:PORT]] [--timeout SECONDS]\n"
     "       payments updater stop [--timeout SECONDS]\n"
     "       payments updater status [--json]",
     "start, stop or show the local updater",
     "start runs payments-updater (beside this binary) in the background in the role\n"
     "given, its output appended to FILE (default PAYMENT_UPDATER_LOG_FILE, else\n"
     "var/log/payments-updater.log), and waits until its role started (default 30 s).\n"
     "It fails when an updater already runs on PAYMENT_UPDATER_PID_FILE (default\n"
     "var/run/payments-updater.pid).\n"
     "stop sends TERM (an update in progress is cancelled) and waits until it is gone.\n"
     "status prints its pid and role, and for a master the instances it has linked\n"
     "(with their API and operators' addresses), for a slave its master and whether\n"
     "the link is up; from the state file beside the pid file (--json prints it).\n"
     "Exits 1 when no updater runs.\n",
     cli_updater},
    {"update", "update <local|dev|real> [--host HOST[:PORT]] [--json]", "update every instance of a mode",
     "Asks the master updater of the mode (PAYMENT_UPDATOR_HOST_LOCAL, _DEV, _REAL;\n"
     "local defaults to 127.0.0.1; port PAYMENT_UPDATOR_PORT) to update every\n"
     "connected instance: git pull --ff-only, build, migrate, then reload the workers\n"
     "or upgrade the master. Authenticates with PAYMENT_SYSTEM_PASSWORD by\n"
     "challenge-response. Progress goes to stderr; then each instance's result and\n"
     "the branch, hash and commit time it serves. Exits 1 when any instance failed\n"
     "or the request was refused (another update running).\n",
     cli_update},
    {"instances", "instances <local|dev|real> [--host HOST[:PORT]] [--json]",
     "the instances connected to a mode's master updater",
     "Lists the master updater's own instance and every slave connected to it, and\n"
     "whether an update is running.\n",
     cli_instances},
    {"monitor",
     "monitor <local|dev|real> [--host HOST[:PORT]] [--url URL] [--json]\n"
     "       payments monitor <local|dev|real> --watch [--interval SECONDS] [--count N] [--metrics URL]",
     "performance and system of a mode's server",
     "Reads GET /monitors/performance and /monitors/system of the mode's API\n"
     "(PAYMENT_API_HOST_<MODE>, else PAYMENT_UPDATOR_HOST_<MODE>, local 127.0.0.1;\n"
     "port PAYMENT_API_PORT; HTTPS outside local mode, PAYMENT_API_SCHEME_<MODE>=http\n"
     "to change it), decrypts them with PAYMENT_CONNECTION_ENCRYPTION_KEY/_IV,\n"
     "and prints the commit and package served and, for the master and every worker,\n"
     "memory and CPU time. --json prints {\"performance\": ..., \"system\": ...}.\n"
     "\n"
     "--watch refreshes like top until Ctrl-C (or --count refreshes), every\n"
     "--interval seconds (default 2): CPU percent and memory of each process,\n"
     "requests per second and failing vendor calls per second, read from the\n"
     "instance's /metrics on the operators' listener (the mode's host, port\n"
     "PAYMENT_ADMIN_PORT; --metrics URL to say another). It needs no key.\n",
     cli_monitor},
    {"call",
     "call METHOD PATH [JSON | @FILE | -] [--mode MODE] [--host HOST[:PORT]] [--url URL] [--raw] [--field NAME]",
     "one request to a mode's API, encrypted",
     "The curl of the API. Encrypts the JSON body (given, read from FILE, or from\n"
     "stdin with -) with PAYMENT_CONNECTION_ENCRYPTION_KEY/_IV, sends it with METHOD\n"
     "to PATH of the mode's API (--mode, default PAYMENT_MODE, else local; the host\n"
     "as for monitor, port PAYMENT_API_PORT; or --url http://HOST:PORT), decrypts\n"
     "the answer and prints it as indented JSON (--raw: one line; --field NAME: only\n"
     "that member, a dotted path, a string as plain text). The status and\n"
     "the request's X-Request-Id go to stderr; a plain JSON answer (an error) is\n"
     "printed as it came. --header 'Name: value' adds a header (Idempotency-Key,\n"
     "X-Request-Id). Exits 1 on a 4xx or 5xx answer, or when the answer does not\n"
     "decrypt with the key. Example:\n"
     "  payments call PATCH /payments/histories/get \\\n"
     "    '{\"schema\":\"shop\",\"table\":\"orders\",\"id\":\"order-1\",\"password\":\"pw\"}'\n",
     cli_call},
    {"fake", "fake <iamport|toss|inicis> <card|vbank|deposit|billing> [options]",
     "make a payment at a local fake vendor",
     "Makes a payment at the local fake vendor, as a customer's browser would, and\n"
     "prints the uid to record with `payments call POST /payments/histories`:\n"
     "  card    a paid card payment        [--amount N] [--order ID]\n"
     "  vbank   a virtual account to pay   [--amount N] [--order ID]\n"
     "  deposit pays virtual account UID   UID\n"
     "  billing a billing key              [--customer ID]\n"
     "The fakes listen where `make run` starts them (PAYMENT_IAMPORT_URL,\n"
     "PAYMENT_TOSS_PAYMENTS_URL, PAYMENT_INICIS_URL, else their usual ports on\n"
     "127.0.0.1), and know the credentials they are started with.\n",
     cli_fake},
    {"import", "import --from URL [--schema NAME] [--from-env FILE] [--dry-run] [--batch ROWS]",
     "copy an original server's database into ours",
     "Copies the data of a running @samchon/payment-backend deployment (its\n"
     "PostgreSQL at URL, schema NAME, default public) into our database\n"
     "(PAYMENT_POSTGRES_URL, schema PAYMENT_POSTGRES_SCHEMA, migrated): histories,\n"
     "reservations, cancels, webhooks and their responses, ids and times kept,\n"
     "documents sealed again with our keys, bcrypt passwords kept. The original's\n"
     "PAYMENT_*_ENCRYPTION_KEY/_IV are read from FILE (--from-env), else from our\n"
     "settings (they carry over unchanged); when its first rows do not decrypt, it\n"
     "stops before writing anything. Each batch (default 500 rows) is one\n"
     "transaction; rows already present (same id) are left alone, so an\n"
     "interrupted import is finished by running it again. Progress goes to stderr;\n"
     "refused rows (with the reason) and the counts of every table to stdout.\n"
     "--dry-run reads, decrypts and checks everything and writes nothing.\n",
     cli_import},
    {"reseal", "reseal [--table TABLE] [--batch N]", "move stored values to the current keys",
     "Re-seals every stored value that is not under its table's current key\n"
     "(PAYMENT_HISTORY_ENCRYPTION_KEY, ...) with it, reading it with the previous\n"
     "keys (PAYMENT_*_ENCRYPTION_KEYS_PREVIOUS). Online: batches of N rows (default\n"
     "500) in short transactions, each row replaced only if unchanged meanwhile.\n"
     "Interrupted, it resumes where it stopped when run again. Progress goes to\n"
     "stderr, a count per column to stdout. --table limits it to one table\n"
     "(payment_histories, payment_history_cancels, payment_reservations,\n"
     "payment_webhooks, payment_internal_webhooks, payment_operations,\n"
     "payment_charge_attempts). Afterwards the previous keys can be dropped.\n"
     "Exits 1 when a value opens with none of the keys (it names the row).\n",
     cli_reseal},
};
#define COMMAND_COUNT (sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
    fputs("usage: payments [-C DIR] [--env FILE] <command> [options] [--help]\n\ncommands:\n", out);
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fputs("\nConfiguration: the environment and PAYMENT_ENV_FILE (default .env).\n"
          "  -C DIR      run from DIR (an instance's .env and var/run/ are relative to it)\n"
          "  --env FILE  read FILE as the .env (PAYMENT_ENV_FILE)\n"
          "`payments <command> --help` tells more about one command.\n",
          out);
}

static const cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static void command_help(const cli_command *c, FILE *out)
{
    fprintf(out, "usage: payments %s\n\n%s", c->synopsis, c->help);
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
    fprintf(stderr, "payments %s: ", command);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    const cli_command *c = find_command(command);
    if (c)
        fprintf(stderr, "usage: payments %s\n", c->synopsis);
    return 2;
}

/* The options before the command: -C DIR runs it from DIR (where .env and
 * var/run/ of an instance are), --env FILE reads FILE as the .env. Returns
 * how many arguments they took, or -1 after saying what is wrong. */
static int global_options(int argc, char **argv)
{
    int i = 1;
    while (i < argc && (strcmp(argv[i], "-C") == 0 || strcmp(argv[i], "--env") == 0)) {
        if (i + 1 >= argc) {
            fprintf(stderr, "payments: %s needs a value\n", argv[i]);
            return -1;
        }
        if (argv[i][1] == 'C' && chdir(argv[i + 1]) < 0) {
            fprintf(stderr, "payments: -C %s: %s\n", argv[i + 1], strerror(errno));
            return -1;
        }
        if (argv[i][1] == '-' && setenv("PAYMENT_ENV_FILE", argv[i + 1], 1) < 0) {
            fprintf(stderr, "payments: --env %s: %s\n", argv[i + 1], strerror(errno));
            return -1;
        }
        i += 2;
    }
    return i - 1;
}

int main(int argc, char **argv)
{
    int taken = global_options(argc, argv);
    if (taken < 0)
        return 2;
    argv[taken] = argv[0];
    argc -= taken;
    argv += taken;
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const cli_command *c = find_command(argv[1]);
    if (!c) {
        fprintf(stderr, "payments: unknown command %s\n", argv[1]);
        usage(stderr);
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            command_help(c, stdout);
            return 0;
        }
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "payments: cannot initialize libcurl\n");
        return 1;
    }
    int rc = c->run(argc - 1, argv + 1);
    curl_global_cleanup();
    return rc;
}
