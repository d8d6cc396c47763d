/* fake_stats: one JSON object of name -> count, so that the stats route is a
 * copy of it; a counter that cannot be raised (out of memory) is logged, since
 * a test trusting it would be misled. */
#include "fake_stats.h"

#include "log.h"

int fake_stats_create(fake_server *fs, const char *const *names)
{
    fs->stats = json_object();
    if (!fs->stats)
        return -1;
    for (size_t i = 0; names && names[i]; i++) {
        if (json_object_set_new(fs->stats, names[i], json_integer(0)) != 0) {
            fake_stats_destroy(fs);
            return -1;
        }
    }
    return 0;
}

void fake_stats_destroy(fake_server *fs)
{
    json_decref(fs->stats);
    fs->stats = NULL;
}

void fake_stats_count(fake_server *fs, const char *name)
{
    json_int_t count = json_integer_value(json_object_get(fs->stats, name));
    if (!fs->stats || json_object_set_new(fs->stats, name, json_integer(count + 1)) != 0)
        log_error("the counter %s could not be raised", name);
}

json_t *fake_stats_describe(const fake_server *fs)
{
    json_t *doc = json_copy(fs->stats);
    if (doc && json_object_set_new(doc, "held_answers", json_integer((json_int_t)fs->held_count)) != 0) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}
