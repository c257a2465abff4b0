#define FIXTURE_ID "fixture.no-entry"
#define FIXTURE_ENTRY_NAME trellis_plugin_entry_misspelled
#include "fixture_plugin.h"
