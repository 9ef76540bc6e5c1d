#!/usr/bin/env bash
# Installs the Debian 12 packages that corevisor's build, tests and benchmarks need.
# Idempotent: one dpkg query when everything is there; apt runs only for what is missing.
# Non-interactive and safe without a terminal (CI has no stdin).
set -euo pipefail

PACKAGES=(
	# build
	gcc binutils make git
	# bootable ISOs for BIOS (i386-pc) and UEFI (x86_64-efi)
	grub-pc-bin grub-efi-amd64-bin grub-common xorriso mtools
	# QEMU (SVM under TCG) with UEFI firmware
	qemu-system-x86 ovmf
	# Bochs (VT-x): the rfb display tools/emu.py uses ships in bochs itself; bochs needs one
	# GUI package, and naming the small bochs-term keeps apt from choosing bochs-wx
	bochs bochs-term bochsbios vgabios
	# the VM's DSDT: iasl compiles vplat/dsdt.asl, xxd makes it a C array
	acpica-tools xxd
	# unit tests, the manifest parser
	libcmocka-dev libjsmn-dev
	# test runner, benchmarks, manifest checker
	python3 python3-pytest python3-pexpect python3-jsonschema python3-matplotlib
	# lint; gdb for make debug
	clang-format cppcheck gdb
	# cvtop's terminal test
	tmux
	# fuzzing (libFuzzer ships with clang)
	clang libclang-rt-14-dev
)

# Prints the packages of "$@" that are not fully installed.
missing_packages() {
	local installed
	installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "$@" 2>/dev/null |
		awk '$2 == "ii" { print $1 }' || true)
	local p
	for p in "$@"; do
		grep -qx -- "$p" <<<"$installed" || echo "$p"
	done
}

mapfile -t missing < <(missing_packages "${PACKAGES[@]}")
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "deps: run as root (or install sudo)" >&2; exit 1; }
	SUDO=(sudo -n)
fi
export DEBIAN_FRONTEND=noninteractive
APT_OPTS=(-y -q -o Dpkg::Use-Pty=0 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
"${SUDO[@]}" apt-get update -q </dev/null
"${SUDO[@]}" apt-get install "${APT_OPTS[@]}" --no-install-recommends "${missing[@]}" </dev/null

mapfile -t still < <(missing_packages "${PACKAGES[@]}")
if [ ${#still[@]} -ne 0 ]; then
	echo "deps: still missing after apt-get: ${still[*]}" >&2
	exit 1
fi
