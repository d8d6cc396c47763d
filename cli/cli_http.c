/* One GET for the command line: libcurl, bounded in time and in size, the
 * body kept NUL-terminated. What `payments monitor` reads, encrypted
 * (the monitors) or plain (the metrics). */
#include "cli.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REQUEST_TIMEOUT_MS 10000
#define BODY_LIMIT (8u << 20)

static size_t on_body(char *chunk, size_t size, size_t count, void *data)
{
    cli_http_body *b = data;
    size_t n = size * count;
    char *grown = b->len + n <= BODY_LIMIT ? realloc(b->data, b->len + n + 1) : NULL;
    if (!grown)
        return 0; /* curl reports a write error */
    memcpy(grown + b->len, chunk, n);
    b->data = grown;
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

long cli_http_get(const char *url, cli_http_body *body, char *err, size_t errlen)
{
    *body = (cli_http_body){0};
    CURL *curl = curl_easy_init();
    long status = 0;
    CURLcode rc = CURLE_FAILED_INIT;
    if (curl && curl_easy_setopt(curl, CURLOPT_URL, url) == CURLE_OK &&
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK &&
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, body) == CURLE_OK &&
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)REQUEST_TIMEOUT_MS) == CURLE_OK &&
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L) == CURLE_OK)
        rc = curl_easy_perform(curl);
    if (rc == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "GET %s: %s", url, curl_easy_strerror(rc));
        cli_http_body_free(body);
        return -1;
    }
    return status;
}

void cli_http_body_free(cli_http_body *body)
{
    free(body->data);
    *body = (cli_http_body){0};
}
