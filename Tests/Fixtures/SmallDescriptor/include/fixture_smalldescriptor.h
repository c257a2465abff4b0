/* Fixture target SmallDescriptor: see Kit/include/fixture_plugin.h. */
