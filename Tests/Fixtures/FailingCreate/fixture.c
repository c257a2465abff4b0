#define FIXTURE_ID "fixture.failing-create"
#define FIXTURE_FAIL_CREATE 1
#define FIXTURE_FAIL_MESSAGE "license key rejected: set license_key to the key from your account page"
#include "fixture_plugin.h"
