# Sourced by scripts/demo and scripts/test: install the Debian packages
# the build and the tests need, only when something is missing.
set -euo pipefail

vfs_need_packages() {
	local missing=()
	for pkg in "$@"; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
			grep -q "install ok installed" || missing+=("$pkg")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "installing: ${missing[*]}"
	local sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >/dev/null
}

VFS_BUILD_PACKAGES=(gcc meson ninja-build pkg-config libsqlite3-dev
	libfuse3-dev fuse3 libcmocka-dev)
