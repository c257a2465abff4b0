/* Fixture target NoEntry: see Kit/include/fixture_plugin.h. */
