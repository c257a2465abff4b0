/* fixture.flaky: a misbehaving channel for the runner's tests. */
#include "trellis_plugin.h"
