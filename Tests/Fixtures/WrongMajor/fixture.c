#define FIXTURE_ID "fixture.wrong-major"
#define FIXTURE_ABI_MAJOR 2
#define FIXTURE_ABI_MINOR 0
#include "fixture_plugin.h"
