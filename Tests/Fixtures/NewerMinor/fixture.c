#define FIXTURE_ID "fixture.newer-minor"
#define FIXTURE_ABI_MINOR 9
#include "fixture_plugin.h"
