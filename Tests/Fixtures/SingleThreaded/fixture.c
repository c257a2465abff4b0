#define FIXTURE_ID "fixture.single-threaded"
#define FIXTURE_FLAGS TRELLIS_PLUGIN_SINGLE_THREADED
#include "fixture_plugin.h"
