#!/usr/bin/env bash
# README command 1: set everything up on a fresh machine and run the main job end to end:
# system packages → dependencies → build → doctor → setup → train → save → predict.
# Extra arguments go to `squeeze train` (e.g. --max_train_steps 200 for a short run).
set -euo pipefail
cd "$(dirname "$0")/.."
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
bash scripts/setup-system.sh
pnpm install --frozen-lockfile
pnpm build
pnpm squeeze doctor

# CIFAR-10 from its home page; offline (like our CI machines) fall back to Fashion-MNIST, which
# Debian ships, so the same model trains on real images.
if pnpm --silent squeeze setup --data_dir data; then
  dataset=cifar10
else
  echo "CIFAR-10 could not be downloaded: using Fashion-MNIST from Debian's dataset-fashion-mnist instead."
  pnpm --silent squeeze setup --data_dir data --dataset fashion-mnist
  dataset=fashion-mnist
fi
pnpm --silent squeeze train --model_dir data --data_dir data --dataset "$dataset" "$@"
pnpm --silent squeeze save --model_dir data
first_image=$(find "data/${dataset}_images/test" -name '0001.png' | sort | head -1)
pnpm --silent squeeze predict --model_dir data --image "$first_image"
