#!/usr/bin/env bash
# Installs the Debian 12 packages corevisor's build, tests and benchmarks need.
# Idempotent and quiet when everything is there; runs apt only for what is missing.
set -euo pipefail

PACKAGES=(
	gcc binutils make git
	grub-pc-bin grub-efi-amd64-bin grub-common xorriso mtools
	qemu-system-x86 ovmf
	bochs bochs-term bochsbios vgabios
	libcmocka-dev libjsmn-dev
	python3 python3-pytest python3-pexpect python3-jsonschema python3-matplotlib
	clang-format cppcheck
)

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
