/* The command line's HTTP client: one request, one answer, nothing kept
 * between calls. The headers it is given may carry credentials (the fakes'):
 * they go to curl only, never into an error message. */
#include "cli_http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ANSWER_LIMIT (16u << 20)

static size_t on_body(char *chunk, size_t size, size_t count, void *data)
{
    cli_http_answer *answer = data;
    size_t n = size * count;
    char *grown = answer->body_len + n <= ANSWER_LIMIT ? realloc(answer->body, answer->body_len + n + 1) : NULL;
    if (!grown)
        return 0; /* curl reports a write error */
    memcpy(grown + answer->body_len, chunk, n);
    answer->body = grown;
    answer->body_len += n;
    answer->body[answer->body_len] = '\0';
    return n;
}

/* Keeps the answer's X-Request-Id. */
static size_t on_header(char *line, size_t size, size_t count, void *data)
{
    cli_http_answer *answer = data;
    size_t n = size * count;
    static const char name[] = "x-request-id:";
    if (n > sizeof name && strncasecmp(line, name, sizeof name - 1) == 0) {
        size_t start = sizeof name - 1, end = n;
        while (start < end && (line[start] == ' ' || line[start] == '\t'))
            start++;
        while (end > start && (line[end - 1] == '\r' || line[end - 1] == '\n' || line[end - 1] == ' '))
            end--;
        snprintf(answer->request_id, sizeof answer->request_id, "%.*s", (int)(end - start), line + start);
    }
    return n;
}

static struct curl_slist *header_list(const char *const *headers)
{
    struct curl_slist *list = NULL;
    for (size_t i = 0; headers && headers[i]; i++) {
        struct curl_slist *grown = curl_slist_append(list, headers[i]);
        if (!grown) {
            curl_slist_free_all(list);
            return NULL;
        }
        list = grown;
    }
    return list;
}

static CURLcode perform(CURL *curl, const cli_http_request *req, struct curl_slist *headers, cli_http_answer *answer)
{
    if (curl_easy_setopt(curl, CURLOPT_URL, req->url) != CURLE_OK ||
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req->method) != CURLE_OK ||
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers) != CURLE_OK ||
        (req->body && curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->body) != CURLE_OK) ||
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, answer) != CURLE_OK ||
        curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK ||
        curl_easy_setopt(curl, CURLOPT_HEADERDATA, answer) != CURLE_OK ||
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, req->timeout_ms) != CURLE_OK ||
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L) != CURLE_OK)
        return CURLE_FAILED_INIT;
    CURLcode rc = curl_easy_perform(curl);
    char *type = NULL;
    if (rc == CURLE_OK && curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answer->status) == CURLE_OK &&
        curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK && type)
        snprintf(answer->content_type, sizeof answer->content_type, "%s", type);
    return rc;
}

int cli_http_exchange(const cli_http_request *req, cli_http_answer *answer, char *err, size_t errlen)
{
    *answer = (cli_http_answer){0};
    CURL *curl = curl_easy_init();
    struct curl_slist *headers = header_list(req->headers);
    CURLcode rc = curl && (headers || !req->headers || !req->headers[0]) ? perform(curl, req, headers, answer)
                                                                         : CURLE_OUT_OF_MEMORY;
    curl_easy_cleanup(curl);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "%s %s: %s", req->method, req->url, curl_easy_strerror(rc));
        cli_http_answer_free(answer);
        return -1;
    }
    if (!answer->body && !(answer->body = calloc(1, 1))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

void cli_http_answer_free(cli_http_answer *answer)
{
    free(answer->body);
    answer->body = NULL;
    answer->body_len = 0;
}
