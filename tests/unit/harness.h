/* What the unit tests that talk over loopback share: free ports, a blocking
 * HTTP client with receive timeouts (so that a server bug fails a check
 * instead of hanging the test), running a libuv loop until something happened,
 * and servers started as child processes (the fake vendors). */
#ifndef PAYMENTS_HARNESS_H
#define PAYMENTS_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

/* ---- loopback sockets (harness_socket.c) ---- */

/* A port nobody listens on: bound once, then released; -1 on failure. */
int harness_free_port(void);

/* A listening socket on a free loopback port (*port): the kernel accepts
 * connections and nobody ever answers them. The caller closes it; -1 on
 * failure. */
int harness_silent_listener(int *port);

/* The value of header name in head (a start line, header lines ending in
 * CRLF, up to the blank line or the end), copied to out; NULL and out "" when
 * absent. Names compare without case. */
const char *harness_header_value(const char *head, const char *name, char *out, size_t cap);

/* ---- a blocking HTTP/1.1 client (harness_client.c) ---- */

typedef struct harness_client {
    int fd;
    char buf[65536]; /* received, not yet consumed */
    size_t len;
} harness_client;

typedef struct harness_response {
    int status;
    char head[8192];
    char body[16384];
    size_t body_len;
} harness_response;

/* Connects to 127.0.0.1:port with a 5 s receive timeout. */
bool harness_client_open(harness_client *c, int port);
void harness_client_close(harness_client *c);
bool harness_client_send(harness_client *c, const char *text);
/* Reads more bytes: the count, 0 at EOF, -1 on error, timeout or a full buffer. */
ssize_t harness_client_fill(harness_client *c);
void harness_client_consume(harness_client *c, size_t n);
/* Reads up to the blank line into r->head and r->status; the head stays in
 * the buffer (*head_len bytes), for a caller that reads the body itself. */
bool harness_client_read_head(harness_client *c, harness_response *r, size_t *head_len);
/* One whole response with a Content-Length body; for a HEAD request
 * (head_request) no body is read, whatever Content-Length says. */
bool harness_client_read_response(harness_client *c, harness_response *r, bool head_request);
/* True when the server closed the connection with nothing more to say. */
bool harness_client_sees_eof(harness_client *c);
/* A header of r, as harness_header_value. */
const char *harness_response_header(const harness_response *r, const char *name, char *out, size_t cap);

/* ---- running a loop until (harness_loop.c) ---- */

/* Runs loop until done(data) is true or timeout_ms pass; returns done(data).
 * done is asked before the loop would block, so a callback that made it
 * true in this very iteration ends the wait. */
bool harness_run_until(uv_loop_t *loop, bool (*done)(void *data), void *data, uint64_t timeout_ms);
bool harness_run_until_true(uv_loop_t *loop, const bool *flag, uint64_t timeout_ms);
bool harness_run_until_count(uv_loop_t *loop, const int *count, int target, uint64_t timeout_ms);

/* ---- servers as child processes (harness_process.c) ---- */

typedef struct harness_process {
    pid_t pid;
    int port;
    char log_path[96];
} harness_process;

/* Starts argv[0] with stdout and stderr in a log file named after name, and
 * waits for its "listening on HOST:PORT" line (port 0 in argv: the server
 * picks one, read back into p->port). -1 when it does not start or exits. */
int harness_process_start(harness_process *p, const char *name, char *const argv[]);
/* SIGTERM, wait, remove the log; nothing for a process not running. */
void harness_process_stop(harness_process *p);

/* ---- settings (harness_settings.c) ---- */

/* The environment of the smallest configuration cfg_load accepts: local
 * mode, no .env file, a system password and every cipher's key and IV.
 * Settings a case set before are left as they are. */
void harness_local_settings(void);

#endif
