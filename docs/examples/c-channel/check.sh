#!/usr/bin/env bash
# Builds the plugin, stamps its manifest with the library's sha256 and runs
# Trellis's conformance suite on it. TRELLIS names the trellis binary.
set -euo pipefail
cd "$(dirname "$0")"
TRELLIS="${TRELLIS:-trellis}"
make
"$TRELLIS" registry stamp --source registry --libraries . --output build/registry
"$TRELLIS" plugins check ./libChannelExampleC.so --manifest build/registry/channel.example-c/0.1.0.json
