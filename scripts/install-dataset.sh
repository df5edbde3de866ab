#!/usr/bin/env bash
# Installs Fashion-MNIST (Debian package dataset-fashion-mnist -> /usr/share/datasets/fashion-mnist) if missing.
set -euo pipefail
if [ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq dataset-fashion-mnist
