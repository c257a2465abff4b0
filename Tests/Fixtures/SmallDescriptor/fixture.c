#define FIXTURE_ID "fixture.small-descriptor"
#define FIXTURE_STRUCT_SIZE 24
#include "fixture_plugin.h"
