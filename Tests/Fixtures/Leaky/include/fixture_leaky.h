/* Fixture target Leaky: see Kit/include/fixture_plugin.h. */
