#!/usr/bin/env bash
# Coverage-guided fuzzing of one input parser with AFL++ through SharpFuzz (the deterministic mutation suite in
# tests/Compress.Engine.Tests/Fuzzing runs in CI; this is the longer, guided search, run by hand).
#   tests/Compress.Fuzz/run-afl.sh TARGET [SECONDS]      TARGET: safetensors pytorch spec sparsity channel-plan onnx mnist-images cifar
# Needs afl-fuzz (apt-get install afl++); installs the sharpfuzz tool into obj/ on first use. Findings (crashes: inputs
# that raised anything but a coded error; hangs) go to tests/Compress.Fuzz/findings/TARGET.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
target=${1:?usage: run-afl.sh TARGET [SECONDS]}
seconds=${2:-600}
command -v afl-fuzz >/dev/null || { echo "run-afl.sh: afl-fuzz is missing: apt-get install afl++" >&2; exit 2; }
tool="$here/obj/sharpfuzz-tool/sharpfuzz"
[ -x "$tool" ] || dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$here/obj/sharpfuzz-tool" >/dev/null
dotnet build -c Release "$here" -v quiet -nologo >/dev/null
out="$here/bin/Release/net10.0"
# Instrument the engine in place (a rebuild that changes it copies a fresh one; instrumenting twice is refused, harmlessly).
"$tool" "$out/Compress.Engine.dll" >/dev/null 2>&1 || true
findings="$here/findings/$target"
mkdir -p "$findings"
export AFL_SKIP_BIN_CHECK=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1
timeout --signal=INT "$seconds" afl-fuzz -i "$here/corpus/$target" -o "$findings" -t 10000 -m none -- dotnet "$out/Compress.Fuzz.dll" "$target" >"$findings/afl.log" 2>&1 || true
stats="$findings/default/fuzzer_stats"
[ -f "$stats" ] || { echo "run-afl.sh: afl-fuzz did not start; see $findings/afl.log" >&2; tail -20 "$findings/afl.log" >&2; exit 1; }
grep -E '^(run_time|execs_done|execs_per_sec|corpus_count|saved_crashes|saved_hangs|bitmap_cvg) ' "$stats"
crashes=$(find "$findings/default/crashes" -type f -name 'id:*' 2>/dev/null | wc -l)
echo "$target: $crashes crashing input(s) in $findings/default/crashes"
