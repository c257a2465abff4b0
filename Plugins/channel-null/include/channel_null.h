/* channel.null exports only trellis_plugin_entry (see the ABI). */
#include "trellis_plugin.h"
