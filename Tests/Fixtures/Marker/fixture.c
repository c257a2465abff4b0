#define FIXTURE_ID "analyzer.marker"
#define FIXTURE_MARKER
#include "fixture_plugin.h"
