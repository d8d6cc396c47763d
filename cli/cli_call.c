/* `payments call METHOD PATH [JSON | @file | -]`: the curl of our API. Every
 * /payments body travels as base64 of AES-CBC under the connection key, so
 * this encrypts the request with PAYMENT_CONNECTION_ENCRYPTION_KEY/_IV, sends
 * it to the mode's server and decrypts the answer; plain JSON (an error)
 * comes back as it is. The key is never printed, not even in an error. */
#include "cli.h"

#include "cli_api_url.h"
#include "cli_http.h"
#include "crypto.h"
#include "settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CALL_TIMEOUT_MS 30000
#define CALL_BODY_LIMIT (16u << 20)
#define CALL_HEADERS_MAX 16
/* The server's one answer to a body its key cannot read (worker/api/api_body.c). */
#define UNREADABLE_REQUEST "request body cannot be read with the connection key"

typedef struct call_arguments {
    const char *method;
    const char *path;
    const char *body; /* as given: JSON, @file or -; NULL: none */
    cli_mode_arguments target;
    bool raw;
    const char *field; /* print only this member (a dotted path), NULL: all */
    const char *headers[CALL_HEADERS_MAX];
    size_t header_count;
} call_arguments;

typedef struct call_buffer {
    char *data;
    size_t len;
} call_buffer;

static int parse_arguments(int argc, char **argv, call_arguments *out)
{
    *out = (call_arguments){0};
    const char *value;
    const char *positional[3];
    int count = 0;
    for (int i = 1; i < argc; i++) {
        if ((value = cli_option_value(argc, argv, &i, "--mode")))
            out->target.mode = value;
        else if ((value = cli_option_value(argc, argv, &i, "--host")))
            out->target.host = value;
        else if ((value = cli_option_value(argc, argv, &i, "--url")))
            out->target.url = value;
        else if ((value = cli_option_value(argc, argv, &i, "--field")))
            out->field = value;
        else if ((value = cli_option_value(argc, argv, &i, "--header"))) {
            if (out->header_count == CALL_HEADERS_MAX || !strchr(value, ':'))
                return cli_usage_error(argv[0], "--header takes \"Name: value\", at most %d times", CALL_HEADERS_MAX);
            out->headers[out->header_count++] = value;
        } else if (strcmp(argv[i], "--raw") == 0)
            out->raw = true;
        else if ((argv[i][0] != '-' || strcmp(argv[i], "-") == 0) && count < 3)
            positional[count++] = argv[i];
        else
            return cli_usage_error(argv[0], "unexpected argument %s", argv[i]);
    }
    if (count < 2)
        return cli_usage_error(argv[0], "which method and path?");
    out->method = positional[0];
    out->path = positional[1];
    out->body = count == 3 ? positional[2] : NULL;
    if (out->path[0] != '/')
        return cli_usage_error(argv[0], "the path starts with /: %s", out->path);
    return 0;
}

/* ---- the request body ---- */

static int read_stream(FILE *in, call_buffer *out)
{
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, in)) > 0) {
        char *grown = out->len + n <= CALL_BODY_LIMIT ? realloc(out->data, out->len + n + 1) : NULL;
        if (!grown)
            return -1;
        memcpy(grown + out->len, chunk, n);
        out->data = grown;
        out->len += n;
        out->data[out->len] = '\0';
    }
    return ferror(in) ? -1 : 0;
}

/* The body as compact JSON text (malloc'd), read from the argument, a file
 * (@file) or stdin (-); NULL with err when it cannot be read or is not JSON. */
static char *request_json(const char *given, char *err, size_t errlen)
{
    call_buffer text = {0};
    const char *source = "the body";
    bool from_stream = strcmp(given, "-") == 0 || given[0] == '@';
    if (from_stream) {
        FILE *in = strcmp(given, "-") == 0 ? stdin : fopen(given + 1, "r");
        source = in == stdin ? "stdin" : given + 1;
        int rc = in ? read_stream(in, &text) : -1;
        if (in && in != stdin)
            fclose(in);
        if (rc < 0) {
            snprintf(err, errlen, "cannot read %s", source);
            free(text.data);
            return NULL;
        }
    }
    json_error_t parse;
    json_t *doc = from_stream ? json_loadb(text.data ? text.data : "", text.len, JSON_DECODE_ANY, &parse)
                              : json_loads(given, JSON_DECODE_ANY, &parse);
    free(text.data);
    if (!doc) {
        snprintf(err, errlen, "%s is not JSON: line %d: %s", source, parse.line, parse.text);
        return NULL;
    }
    char *compact = json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (!compact)
        snprintf(err, errlen, "out of memory");
    return compact;
}

/* ---- where and with what key ---- */

/* The mode's base URL in base, and the connection key; -1 with err (empty
 * when the settings said why already). */
static int call_target(const call_arguments *args, crypto_cbc_key *key, char *base, size_t baselen, char *err,
                       size_t errlen)
{
    dotenv env;
    if (cli_settings_open(&env) < 0)
        return -1;
    const char *mode = args->target.mode ? args->target.mode : settings_get(&env, "PAYMENT_MODE", "local");
    const char *host = args->target.host ? args->target.host : settings_mode_host(&env, "API", mode, err, errlen);
    long long port = 0;
    int rc = -1;
    char *host_name = NULL;
    int host_port = 0;
    bool keyed = false;
    if (!host || settings_integer(&env, "PAYMENT_API_PORT", 37821, 1, 65535, &port, err, errlen) < 0)
        rc = -1;
    else if (!(keyed = crypto_cbc_key_init(key, settings_get(&env, "PAYMENT_CONNECTION_ENCRYPTION_KEY", ""),
                                           settings_get(&env, "PAYMENT_CONNECTION_ENCRYPTION_IV", "")) == 0))
        snprintf(err, errlen, "PAYMENT_CONNECTION_ENCRYPTION_KEY (16 or 32 characters) and _IV (16) are needed");
    else if (args->target.url)
        rc = snprintf(base, baselen, "%s", args->target.url) < (int)baselen ? 0 : -1;
    else if (settings_host_port(host, (int)port, &host_name, &host_port) < 0)
        snprintf(err, errlen, "the API address must be HOST or HOST:PORT: %s", host);
    else
        rc = cli_api_url(&env, mode, host_name, host_port, base, baselen, err, errlen);
    free(host_name);
    dotenv_free(&env);
    if (rc < 0 && keyed)
        crypto_cbc_key_clear(key);
    if (rc < 0 && !*err)
        snprintf(err, errlen, "the API address is too long");
    return rc;
}

/* ---- the answer ---- */

/* The member at a dotted path ("vendor.uid"), or NULL. */
static json_t *member_at(json_t *doc, const char *path)
{
    char name[128];
    while (doc && *path) {
        size_t len = strcspn(path, ".");
        if (len >= sizeof name)
            return NULL;
        memcpy(name, path, len);
        name[len] = '\0';
        doc = json_object_get(doc, name);
        path += len + (path[len] == '.');
    }
    return doc;
}

/* One member for a shell variable: a string as its text, else JSON. */
static int print_field(json_t *doc, const char *field)
{
    json_t *value = member_at(doc, field);
    if (!value) {
        fprintf(stderr, "payments call: the answer has no %s\n", field);
        return -1;
    }
    if (json_is_string(value))
        return puts(json_string_value(value)) >= 0 ? 0 : -1;
    return json_dumpf(value, stdout, JSON_ENCODE_ANY | JSON_COMPACT) == 0 && puts("") >= 0 ? 0 : -1;
}

static int print_document(json_t *doc, bool raw)
{
    size_t flags = JSON_ENCODE_ANY | JSON_PRESERVE_ORDER | (raw ? JSON_COMPACT : JSON_INDENT(2));
    return json_dumpf(doc, stdout, flags) == 0 && puts("") >= 0 ? 0 : -1;
}

/* A plain JSON answer (an error) as it came; an encrypted one decrypted. */
static int print_answer(const cli_http_answer *answer, const crypto_cbc_key *key, const call_arguments *args,
                        const char *what)
{
    const char *text = answer->body;
    if (answer->body_len == 0)
        return 0;
    if (strncasecmp(answer->content_type, "application/json", 16) == 0) {
        json_t *error = json_loadb(text, answer->body_len, 0, NULL);
        const char *message = json_string_value(json_object_get(error, "message"));
        bool unreadable = answer->status == 400 && message && strcmp(message, UNREADABLE_REQUEST) == 0;
        json_decref(error);
        if (unreadable) {
            fprintf(stderr,
                    "payments call: the server cannot decrypt the request: PAYMENT_CONNECTION_ENCRYPTION_KEY/_IV "
                    "differ from the server's\n");
            return -1;
        }
        return fwrite(text, 1, answer->body_len, stdout) == answer->body_len && puts("") >= 0 ? 0 : -1;
    }
    size_t plain_len = 0;
    unsigned char *plain = crypto_cbc_decrypt_base64(key, text, answer->body_len, &plain_len);
    json_t *doc = plain ? json_loadb((const char *)plain, plain_len, JSON_DECODE_ANY, NULL) : NULL;
    free(plain);
    if (!doc) {
        fprintf(stderr,
                "payments call: the answer to %s does not decrypt to JSON with PAYMENT_CONNECTION_ENCRYPTION_KEY/_IV "
                "(not the server's key?)\n",
                what);
        return -1;
    }
    int rc = args->field && answer->status < 400 ? print_field(doc, args->field) : print_document(doc, args->raw);
    json_decref(doc);
    return rc;
}

static void print_status(const cli_http_answer *answer)
{
    fprintf(stderr, "HTTP %ld", answer->status);
    if (answer->request_id[0])
        fprintf(stderr, " (X-Request-Id: %s)", answer->request_id);
    fputc('\n', stderr);
}

/* Encrypts json (when given), sends, prints; the exit status. */
static int call_run(const call_arguments *args, const char *base, const crypto_cbc_key *key, const char *json)
{
    char url[2048], err[1024] = "", what[1100];
    if (snprintf(url, sizeof url, "%s%s", base, args->path) >= (int)sizeof url) {
        fprintf(stderr, "payments call: the URL is too long\n");
        return 1;
    }
    snprintf(what, sizeof what, "%s %s", args->method, args->path);
    size_t sealed_len = 0;
    char *sealed = json ? crypto_cbc_encrypt_base64(key, json, strlen(json), &sealed_len) : NULL;
    if (json && !sealed) {
        fprintf(stderr, "payments call: cannot encrypt the body\n");
        return 1;
    }
    const char *headers[CALL_HEADERS_MAX + 2] = {"Content-Type: text/plain"};
    for (size_t i = 0; i < args->header_count; i++)
        headers[i + 1] = args->headers[i];
    cli_http_request request = {args->method, url, headers, sealed, CALL_TIMEOUT_MS};
    cli_http_answer answer;
    int rc = cli_http_exchange(&request, &answer, err, sizeof err);
    free(sealed);
    if (rc < 0) {
        fprintf(stderr, "payments call: %s\n", err);
        return 1;
    }
    print_status(&answer);
    rc = print_answer(&answer, key, args, what);
    cli_http_answer_free(&answer);
    return rc < 0 || answer.status >= 400 ? 1 : 0;
}

int cli_call(int argc, char **argv)
{
    call_arguments args;
    int usage = parse_arguments(argc, argv, &args);
    if (usage != 0)
        return usage;
    char err[1024] = "", base[1024];
    char *json = NULL;
    if (args.body && !(json = request_json(args.body, err, sizeof err))) {
        fprintf(stderr, "payments call: %s\n", err);
        return 1;
    }
    crypto_cbc_key key;
    if (call_target(&args, &key, base, sizeof base, err, sizeof err) < 0) {
        if (*err)
            fprintf(stderr, "payments call: %s\n", err);
        free(json);
        return 1;
    }
    int rc = call_run(&args, base, &key, json);
    crypto_cbc_key_clear(&key);
    free(json);
    return rc;
}
