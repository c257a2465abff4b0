/* Fixture target WrongMajor: see Kit/include/fixture_plugin.h. */
