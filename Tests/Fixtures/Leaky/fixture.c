#define FIXTURE_ID "analyzer.leaky"
#define FIXTURE_LEAK
#include "fixture_plugin.h"
