#!/usr/bin/env bash
# Builds a libFuzzer target of Tests/Fuzz and runs it for a bounded time:
#   bash Tests/Fuzz/run.sh WorkflowLoader 1800
# Each target is a dynamic library exporting LLVMFuzzerTestOneInput, built
# with -sanitize=fuzzer (only when TRELLIS_FUZZ is set, so the normal build
# never sees it), linked here into libFuzzer's own driver. Crashes are
# written to .build-fuzz/findings/TARGET/crash-*; the corpus it grows stays
# in .build-fuzz/corpus/TARGET, seeded from Tests/Fuzz/Corpus/TARGET.
set -euo pipefail
cd "$(dirname "$0")/../.."
target="${1:?usage: run.sh TARGET SECONDS (targets: $(ls Tests/Fuzz | grep -v -e Corpus -e run.sh | tr '\n' ' '))}"
seconds="${2:-60}"
scratch=.build-fuzz
TRELLIS_FUZZ=1 swift build -c release --scratch-path "$scratch" --product "TrellisFuzz$target" -Xswiftc -sanitize=fuzzer
driver="$scratch/fuzz-$target"
printf '// libFuzzer main() drives LLVMFuzzerTestOneInput from the linked library.\n' > "$scratch/driver.swift"
swiftc -sanitize=fuzzer -parse-as-library "$scratch/driver.swift" -L "$scratch/release" -l"TrellisFuzz$target" \
  -Xlinker -rpath -Xlinker "$PWD/$scratch/release" -o "$driver"
mkdir -p "$scratch/corpus/$target" "$scratch/findings/$target"
cp -n Tests/Fuzz/Corpus/"$target"/* "$scratch/corpus/$target/" 2>/dev/null || true
# Let libFuzzer see a trap (and write the input that caused it), not the Swift backtracer.
export SWIFT_BACKTRACE=enable=no
exec "$driver" "$scratch/corpus/$target" -artifact_prefix="$scratch/findings/$target/" \
  -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len=65536 -print_final_stats=1
