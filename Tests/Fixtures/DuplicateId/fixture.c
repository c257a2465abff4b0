#define FIXTURE_ID "analyzer.whitespace"
#include "fixture_plugin.h"
