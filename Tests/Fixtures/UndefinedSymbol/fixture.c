#define FIXTURE_ID "fixture.undefined-symbol"
#define FIXTURE_UNDEFINED_SYMBOL 1
#include "fixture_plugin.h"
