/* Unit tests of build_cache: the updater configures a build folder again
 * when PAYMENT_UPDATE_BUILD_TYPE differs from the type it was configured
 * with, and configures one that has no cache. */
#include "build_cache.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void write_cache(const char *dir, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/CMakeCache.txt", dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs(text, f);
    fclose(f);
}

UNIT_CASE(type_is_read_from_the_cache, NULL)
{
    char dir[] = "/tmp/payments-build-cache-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    CHECK(!build_cache_has_type(dir, "RelWithDebInfo")); /* not configured */
    write_cache(dir, "# This is the CMakeCache file.\nCMAKE_BUILD_TYPE:STRING=RelWithDebInfo\nOTHER:BOOL=ON\n");
    CHECK(build_cache_has_type(dir, "RelWithDebInfo"));
    CHECK(!build_cache_has_type(dir, "Release"));
    CHECK(!build_cache_has_type(dir, "RelWithDebInfoX"));
    write_cache(dir, "CMAKE_BUILD_TYPE:STRING=\n");
    CHECK(!build_cache_has_type(dir, "Release"));
    char path[256];
    snprintf(path, sizeof path, "%s/CMakeCache.txt", dir);
    unlink(path);
    rmdir(dir);
}
