/* Fuzz target of the HTTP request parser: the input, cut into chunks at
 * places it chooses itself (fuzz_split), reaches a real connection of the
 * real server through the read path a socket takes, so llhttp and our
 * callbacks see every split a client could make, pipelining included. */
#include "fuzz_split.h"
#include "http_server_internal.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum {
    LOOP_SPINS_MAX = 100000, /* loop turns a connection may take to be accepted or to close */
};

static uv_loop_t loop;
static http_server *server;
static struct sockaddr_in server_address;

/* What every request the parser hands out must look like. A path starts
 * with '/', or with '*' for the asterisk form ("OPTIONS *"), which llhttp
 * lets through for any method and which no route matches. */
static void check_request(const http_request *req)
{
    if (!req->target || !req->path || (req->path[0] != '/' && req->path[0] != '*') || !req->method_name)
        abort();
    if (req->header_count > HTTP_MAX_HEADERS || !req->body || req->body[req->body_len] != '\0')
        abort();
    for (size_t i = 0; i < req->header_count; i++)
        if (!req->headers[i].name || !req->headers[i].value)
            abort();
}

static void on_request(http_exchange *ex, void *context)
{
    (void)context;
    const http_request *req = http_exchange_request(ex);
    check_request(req);
    http_respond(ex, 200, "text/plain", req->body, req->body_len);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    http_limits limits = {
        .max_header_bytes = 2048,
        .max_body_bytes = 4096,
        .header_timeout_ms = 10000,
        .idle_timeout_ms = 10000,
        .drain_timeout_ms = 1000,
    };
    if (uv_loop_init(&loop) != 0 || !(server = http_server_create(&loop, &limits, on_request, NULL)) ||
        http_server_listen(server, "127.0.0.1", 0) != 0)
        abort();
    memset(&server_address, 0, sizeof server_address);
    server_address.sin_family = AF_INET;
    server_address.sin_port = htons((uint16_t)http_server_port(server));
    server_address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return 0;
}

/* Turns the loop until ready(server) holds; a server that never gets there
 * is stuck, which is a finding. */
static void spin_until(bool (*ready)(void))
{
    for (int i = 0; !ready(); i++) {
        if (i == LOOP_SPINS_MAX)
            abort();
        uv_run(&loop, UV_RUN_NOWAIT);
    }
}

static bool has_connection(void)
{
    return server->connections != NULL;
}

static bool has_no_connection(void)
{
    return server->connections == NULL;
}

/* The answers are read and dropped, so the server never waits on a full
 * socket. */
static void discard_answers(int client)
{
    char sink[16384];
    while (recv(client, sink, sizeof sink, MSG_DONTWAIT) > 0) {
    }
}

static int connect_client(void)
{
    int client = socket(AF_INET, SOCK_STREAM, 0);
    if (client < 0 || connect(client, (struct sockaddr *)&server_address, sizeof server_address) != 0)
        abort();
    spin_until(has_connection);
    return client;
}

/* Feeds each chunk once the connection reads again (it pauses while a large
 * pipelined backlog waits for an answer), until it is gone or closing. */
static void feed(http_connection *conn, int client, fuzz_split *split)
{
    const uint8_t *chunk;
    size_t len;
    while ((len = fuzz_split_next(split, &chunk)) > 0) {
        for (int i = 0; server->connections == conn && !conn->closed && !conn->reading; i++) {
            if (i == LOOP_SPINS_MAX)
                return;
            uv_run(&loop, UV_RUN_NOWAIT);
        }
        if (server->connections != conn || conn->closed || conn->state == CONNECTION_CLOSING)
            return;
        http_connection_receive(conn, (const char *)chunk, len);
        uv_run(&loop, UV_RUN_NOWAIT);
        discard_answers(client);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_split split;
    fuzz_split_init(&split, data, size);
    int client = connect_client();
    feed(server->connections, client, &split);
    close(client);
    spin_until(has_no_connection);
    return 0;
}
