/* The control socket's command names, one table read by the master's parser
 * and the clients alike, so a command cannot be spelled two ways. */
#include "control_command.h"

#include <string.h>

static const char *const names[CONTROL_COMMAND_COUNT] = {
    [CONTROL_STATUS] = "status",
    [CONTROL_RELOAD] = "reload",
    [CONTROL_UPGRADE] = "upgrade",
};

const char *control_command_name(control_command command)
{
    return (unsigned)command < CONTROL_COMMAND_COUNT ? names[command] : "unknown";
}

int control_command_parse(const char *line, control_command *command)
{
    for (int c = 0; c < CONTROL_COMMAND_COUNT; c++) {
        if (strcmp(line, names[c]) == 0) {
            *command = (control_command)c;
            return 0;
        }
    }
    return -1;
}
