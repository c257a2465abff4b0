/* Fixture target UndefinedSymbol: see Kit/include/fixture_plugin.h. */
