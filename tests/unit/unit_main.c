/* The main() of every unit-test binary whose file defines its cases with
 * UNIT_CASE. A member of its own in the harness library, so that the linker
 * takes it only for a binary whose file has no main() of its own. */
#include "unit.h"

int main(int argc, char **argv)
{
    return unit_run(argc, argv);
}
