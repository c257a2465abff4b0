/* Fixture target Marker: see Kit/include/fixture_plugin.h. */
