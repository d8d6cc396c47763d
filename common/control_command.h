/* The commands of the master's control socket, in one place for the master
 * (master/control.c) and its clients (the `payments` command, the updater).
 * A client writes one command's name on a line; the master answers with one
 * JSON object and closes. */
#ifndef PAYMENTS_CONTROL_COMMAND_H
#define PAYMENTS_CONTROL_COMMAND_H

/*   command   line        answer
 *   STATUS    "status"    the master's status document: itself and its workers
 *   RELOAD    "reload"    {"ok":true}: re-read the configuration, roll the workers
 *   UPGRADE   "upgrade"   {"ok":true,"pid":N} or {"error":...}: start the master
 *                         binary anew on the same socket (nginx-style upgrade)
 * Anything else is answered with CONTROL_UNKNOWN_ANSWER. */
typedef enum control_command { CONTROL_STATUS, CONTROL_RELOAD, CONTROL_UPGRADE, CONTROL_COMMAND_COUNT } control_command;

/* The error of that answer: an updater newer than its master recognizes a
 * command the master does not know yet by it, and falls back. */
#define CONTROL_UNKNOWN_COMMAND "unknown command"
#define CONTROL_UNKNOWN_ANSWER "{\"error\":\"" CONTROL_UNKNOWN_COMMAND "\"}"

/* The command's name as it stands on the wire. */
const char *control_command_name(control_command command);
/* A received line, or a name a client was given: 0 and *command set, or -1
 * when it names no command (the whole line must match). */
int control_command_parse(const char *line, control_command *command);

#endif
