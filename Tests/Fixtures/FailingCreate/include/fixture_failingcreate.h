/* Fixture target FailingCreate: see Kit/include/fixture_plugin.h. */
