/* Fixture target DuplicateId: see Kit/include/fixture_plugin.h. */
