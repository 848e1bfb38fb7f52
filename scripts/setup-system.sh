#!/usr/bin/env bash
# Idempotent system setup for squeeze on a fresh machine (rerun-safe).
#  - a Vulkan driver Dawn accepts (Mesa >= 23 lavapipe from bookworm-backports on Debian 12;
#    Debian 12's own Mesa 22.3 is rejected by Dawn: "shaderUniform*ArrayDynamicIndexing required")
#  - Debian's dataset-fashion-mnist (real images for offline training)
#  - Debian's chromium (the browser test runs squeeze in it headless, WebGPU on SwiftShader)
#  - Debian's python3-torch (PyTorch 1.13: the bench times PyTorch's step beside ours, and a test
#    reads our safetensors files in PyTorch); it runs as /usr/bin/python3
#  - pnpm (pinned)
# It never touches a GPU driver when a usable Vulkan adapter already exists.
set -euo pipefail

PNPM_VERSION=12.4.2
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
say() { printf '[setup-system] %s\n' "$*"; }

is_debian12() { [ -r /etc/os-release ] && . /etc/os-release && [ "${ID:-}" = debian ] && [ "${VERSION_ID:-}" = 12 ]; }

mesa_version() {
  dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true
}

has_vulkan_gpu_icd() {
  # A vendor driver (NVIDIA ships its own ICD) means we leave drivers alone; Mesa's own radeon/intel ICDs do not count.
  ls /usr/share/vulkan/icd.d/ /etc/vulkan/icd.d/ 2>/dev/null | grep -qi nvidia
}

apt_updated=0
apt_update() { if [ $apt_updated = 0 ]; then $SUDO apt-get update -qq; apt_updated=1; fi; }

if is_debian12; then
  export DEBIAN_FRONTEND=noninteractive
  mv=$(mesa_version)
  if has_vulkan_gpu_icd; then
    say "hardware Vulkan driver found; leaving GPU drivers alone"
  elif [[ "$mv" =~ ^2[3-9]\.|^[3-9][0-9]\. ]]; then
    say "mesa-vulkan-drivers $mv already installed (lavapipe usable by Dawn)"
  else
    src=/etc/apt/sources.list.d/bookworm-backports.sources
    if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
      say "adding bookworm-backports apt source ($src)"
      uri=$(awk '/^URIs:/ && /debian\/?$/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
      [ -n "$uri" ] || uri=http://deb.debian.org/debian
      $SUDO tee "$src" >/dev/null <<SRC
Types: deb
URIs: $uri
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    fi
    apt_update
    say "installing mesa-vulkan-drivers from bookworm-backports (Mesa 25 lavapipe)"
    $SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
  fi
  if [ ! -d /usr/share/datasets/fashion-mnist ]; then
    apt_update
    say "installing dataset-fashion-mnist (real images for offline training)"
    $SUDO apt-get install -y -qq dataset-fashion-mnist >/dev/null || say "dataset-fashion-mnist not available; skipping"
  else
    say "dataset-fashion-mnist present"
  fi
  if ! command -v chromium >/dev/null 2>&1; then
    apt_update
    say "installing chromium (the browser test drives it headless)"
    $SUDO apt-get install -y -qq chromium >/dev/null
  else
    say "chromium present"
  fi
  if ! /usr/bin/python3 -c 'import torch' >/dev/null 2>&1; then
    apt_update
    say "installing python3-torch (the bench's PyTorch baseline and the safetensors interop test)"
    $SUDO apt-get install -y -qq python3-torch >/dev/null
  else
    say "python3-torch present"
  fi
else
  say "not Debian 12: install a Vulkan driver (Mesa >= 23 'mesa-vulkan-drivers', or your GPU vendor's driver), Chromium (the browser test; env CHROMIUM names its binary) and Node >= 20 yourself"
fi

# Node >= 20 (package.json engines) is a prerequisite: Debian 12's own nodejs is 18, so it cannot
# come from apt here. Say so plainly instead of failing later at `npm` or in the build.
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ] || ! command -v npm >/dev/null 2>&1; then
  say "Node.js >= 20 with npm is required (found: $(node --version 2>/dev/null || echo none)); install it (https://nodejs.org) and rerun"
  exit 1
fi

if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  say "installing pnpm@$PNPM_VERSION"
  $SUDO npm i -g -E "pnpm@$PNPM_VERSION" >/dev/null
else
  say "pnpm $PNPM_VERSION present"
fi
say "done"
