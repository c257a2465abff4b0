/* Fixture target NullFunction: see Kit/include/fixture_plugin.h. */
