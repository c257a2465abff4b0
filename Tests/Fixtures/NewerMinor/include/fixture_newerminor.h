/* Fixture target NewerMinor: see Kit/include/fixture_plugin.h. */
