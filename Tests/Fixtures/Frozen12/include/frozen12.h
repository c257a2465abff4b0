/* Compiled against the frozen copy of the 1.2 headers in Tests/Fixtures/ABI-1.2. */
#include "trellis_plugin.h"
