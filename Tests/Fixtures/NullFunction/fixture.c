#define FIXTURE_ID "fixture.null-function"
#define FIXTURE_NULL_TOKENIZE 1
#include "fixture_plugin.h"
