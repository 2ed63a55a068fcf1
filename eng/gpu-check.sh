#!/usr/bin/env bash
# One command for a machine with an NVIDIA GPU: builds the engine with the CUDA libtorch and ONNX Runtime's GPU
# package, runs the ONNX Runtime CUDA benchmark and the engine with --device auto, and prints what ran where.
# Where there is no NVIDIA GPU (or no driver), it says so in one line and exits 0; any failure on a GPU exits non-zero.
#   bash eng/gpu-check.sh            (from the repository root; needs only the .NET SDK and the NVIDIA driver)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu-check: no NVIDIA GPU or driver on this machine (nvidia-smi missing or failing); nothing to check."
  exit 0
fi
echo "gpu-check: $(nvidia-smi -L | head -n 1)"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
props=(-c Release -p:CompressTorchDevice=cuda -p:CompressOnnxRuntime=gpu)

echo "gpu-check: building the engine with TorchSharp-cuda-linux and Microsoft.ML.OnnxRuntime.Gpu.Linux"
dotnet build src/Compress.Cli "${props[@]}" -nologo -v:q
engine=(dotnet src/Compress.Cli/bin/Release/net8.0/compress.dll)

echo "gpu-check: TorchSharp: train, prune and export with --device auto (CUDA when TorchSharp sees it)"
"${engine[@]}" train --model resnet18-cifar -w 0.25 --synthetic-train 2000 --synthetic-test 500 --epochs 1 \
  --device auto --output "$out/w.safetensors" 2>&1 | tee "$out/train.log"
"${engine[@]}" prune --model resnet18-cifar -w 0.25 --weights "$out/w.safetensors" --synthetic-train 2000 \
  --synthetic-test 500 --rate safe --finetune-epochs 1 --device auto --output "$out/pruned.onnx" 2>&1 | tee "$out/prune.log"

echo "gpu-check: ONNX Runtime: the same model on CUDA and on the CPU"
"${engine[@]}" bench --onnx "$out/pruned.onnx" --device cuda --batch 1 --batch 64 --runs 50 --json > "$out/bench-cuda.json"
"${engine[@]}" bench --onnx "$out/pruned.onnx" --device cpu --batch 1 --batch 64 --runs 50 --json > "$out/bench-cpu.json"

echo "gpu-check: what ran where"
grep -hoiE "device[^,;]*(cuda|cpu)[^,;]*" "$out/train.log" "$out/prune.log" | sort | uniq -c || true
for f in "$out"/bench-cuda.json "$out"/bench-cpu.json; do
  printf '%s: ' "$(basename "$f" .json)"
  tr -d '\n' < "$f" | grep -oE '"device": *"[^"]*"|"p50": *[0-9.]+' | tr '\n' ' '
  echo
done
if ! tr -d '\n ' < "$out/bench-cuda.json" | grep -q '"device":"cuda"'; then
  echo "gpu-check: FAILED: ONNX Runtime did not run on CUDA (see the CMP0505 warning above)" >&2
  exit 1
fi
echo "gpu-check: done"
