/* Fixture target SingleThreaded: see Kit/include/fixture_plugin.h. */
