/* build_cache: reads CMAKE_BUILD_TYPE from a build folder's CMakeCache.txt. */
#include "build_cache.h"

#include <stdio.h>
#include <string.h>

bool build_cache_has_type(const char *build_dir, const char *type)
{
    static const char entry[] = "CMAKE_BUILD_TYPE:STRING=";
    char path[4096];
    if (snprintf(path, sizeof path, "%s/CMakeCache.txt", build_dir) >= (int)sizeof path)
        return false;
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    bool same = false;
    char line[512];
    while (fgets(line, sizeof line, f))
        if (strncmp(line, entry, sizeof entry - 1) == 0) {
            line[strcspn(line, "\r\n")] = '\0';
            same = strcmp(line + sizeof entry - 1, type) == 0;
            break;
        }
    fclose(f);
    return same;
}
