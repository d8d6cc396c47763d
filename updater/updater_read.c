/* One static buffer for the updater's reads; see updater_read.h for why one
 * is enough. 64 KiB, so that a link's frames arrive in few reads. */
#include "updater_read.h"

#define READ_BUFFER_BYTES 65536

void updater_read_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    (void)handle;
    (void)suggested;
    static char chunk[READ_BUFFER_BYTES];
    *buf = uv_buf_init(chunk, sizeof chunk);
}
