/* One HTTP exchange of the command line, for the commands that talk to a
 * server as a client would (`call`, `fake`): blocking libcurl, bounded in
 * time and in the size of the answer. */
#ifndef PAYMENTS_CLI_HTTP_H
#define PAYMENTS_CLI_HTTP_H

#include <stddef.h>

typedef struct cli_http_request {
    const char *method;
    const char *url;
    const char *const *headers; /* "Name: value", NULL-terminated; may be NULL */
    const char *body;           /* NULL sends none */
    long timeout_ms;
} cli_http_request;

typedef struct cli_http_answer {
    long status;
    char *body; /* NUL-terminated, "" when none; free with cli_http_answer_free */
    size_t body_len;
    char content_type[128];
    char request_id[72]; /* the answer's X-Request-Id, "" when none */
} cli_http_answer;

/* Returns 0 with the answer (whatever its status), or -1 with err when no
 * answer came (unreachable, timed out, too large). */
int cli_http_exchange(const cli_http_request *req, cli_http_answer *answer, char *err, size_t errlen);
void cli_http_answer_free(cli_http_answer *answer);

#endif
