/* build_cache: what a CMake build folder was configured with, read from its
 * CMakeCache.txt, so that the updater configures a folder again when the
 * build type it is told differs from the folder's. */
#ifndef PAYMENTS_BUILD_CACHE_H
#define PAYMENTS_BUILD_CACHE_H

#include <stdbool.h>

/* Whether build_dir is configured with CMAKE_BUILD_TYPE type; false when it
 * is not configured at all. */
bool build_cache_has_type(const char *build_dir, const char *type);

#endif
