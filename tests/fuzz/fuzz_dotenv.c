/* Fuzz target of the configuration's way in: the input is a `.env` file.
 * An even first byte parses the rest with dotenv_parse and reads every key
 * back; an odd one makes the rest the file PAYMENT_ENV_FILE names and runs
 * the whole cfg_load over it (with no PAYMENT_* variable in the
 * environment, so that the file decides every setting). */
#include "config.h"
#include "dotenv.h"
#include "fuzz_text.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static char env_dir[] = "/tmp/payments-fuzz-dotenv.XXXXXX";
static char env_path[sizeof env_dir + 16];

static void remove_env_file(void)
{
    unlink(env_path);
    rmdir(env_dir);
}

/* Unsets every PAYMENT_* variable; restarts the walk after each removal,
 * since unsetenv moves the entries. */
static void clear_payment_environment(void)
{
    for (bool removed = true; removed;) {
        removed = false;
        for (char **entry = environ; *entry; entry++) {
            if (strncmp(*entry, "PAYMENT_", 8) != 0)
                continue;
            char name[256];
            size_t len = strcspn(*entry, "=");
            if (len >= sizeof name)
                abort();
            memcpy(name, *entry, len);
            name[len] = '\0';
            unsetenv(name);
            removed = true;
            break;
        }
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    clear_payment_environment();
    if (!mkdtemp(env_dir))
        abort();
    snprintf(env_path, sizeof env_path, "%s/.env", env_dir);
    atexit(remove_env_file);
    if (setenv("PAYMENT_ENV_FILE", env_path, 1) != 0)
        abort();
    return 0;
}

static void parse_text(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    dotenv env = {0};
    char err[256] = "";
    int rc = dotenv_parse(&env, text, err, sizeof err);
    if (rc < 0 && strncmp(err, "line ", 5) != 0) /* a failure names its line */
        abort();
    for (size_t i = 0; i < env.count; i++)
        if (!env.entries[i].key[0] || !env.entries[i].value || !dotenv_get(&env, env.entries[i].key))
            abort();
    dotenv_free(&env);
    free(text);
}

static void load_file(const uint8_t *data, size_t size)
{
    FILE *file = fopen(env_path, "wb");
    if (!file || fwrite(data, 1, size, file) != size || fclose(file) != 0)
        abort();
    cfg config;
    char err[256] = "";
    if (cfg_load(&config, err, sizeof err) != 0) {
        if (!err[0]) /* a refusal says why */
            abort();
        return;
    }
    free(cfg_postgres_conninfo(&config));
    cfg_free(&config);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 0)
        (data[0] & 1 ? load_file : parse_text)(data + 1, size - 1);
    return 0;
}
