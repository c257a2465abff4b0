/* Compiled against the frozen copy of the 1.0 header in Tests/Fixtures/ABI-1.0. */
#include "trellis_plugin.h"
