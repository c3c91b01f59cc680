#!/bin/sh
# Installs the mcp-docker binary from a GitHub release, verified against the release's checksums.txt.
#
#   curl -fsSL https://github.com/mcp-docker/mcp-docker/releases/latest/download/install.sh | sh
#   sh install.sh --version v1.2.3 --prefix ~/.local
#   sh install.sh --archive ./mcp-docker_1.2.3_linux_x64.tar.gz --checksums ./checksums.txt   # offline
#
# Options:
#   --version VERSION    release to install (default: the latest); with --archive, the version the archive
#                        must be
#   --prefix DIR         install to DIR/bin (default: /usr/local when writable, else ~/.local)
#   --archive FILE       install from this local archive; needs --checksums; uses no network at all
#   --checksums FILE     the release's checksums.txt to verify the archive against
# Environment:
#   MCP_DOCKER_RELEASE_URL    releases base URL (default https://github.com/mcp-docker/mcp-docker/releases),
#                             for mirrors: it must serve latest/download/<file> and download/v<version>/<file>
#   MCP_DOCKER_SYSTEM_PREFIX  the prefix tried first without --prefix (default /usr/local); ~/.local when it
#                             is not writable
set -eu

RELEASE_URL=${MCP_DOCKER_RELEASE_URL:-https://github.com/mcp-docker/mcp-docker/releases}
SYSTEM_PREFIX=${MCP_DOCKER_SYSTEM_PREFIX:-/usr/local}

say() { printf '%s\n' "mcp-docker install: $*" >&2; }
die() {
  say "$*"
  exit 1
}
usage() {
  cat >&2 <<'EOF'
usage: install.sh [--version VERSION] [--prefix DIR]
       install.sh --archive mcp-docker_<version>_<os>_<arch>.tar.gz --checksums checksums.txt [--prefix DIR]
Installs mcp-docker to DIR/bin (default /usr/local when writable, else ~/.local), verified by sha256.
Offline (--archive), --version only checks that the archive is that version.
EOF
  exit 2
}

version=
prefix=
archive=
checksums=
while [ $# -gt 0 ]; do
  case $1 in
    --version | --prefix | --archive | --checksums)
      [ $# -ge 2 ] || die "$1 needs a value"
      case $1 in
        --version) version=$2 ;;
        --prefix) prefix=$2 ;;
        --archive) archive=$2 ;;
        --checksums) checksums=$2 ;;
      esac
      shift 2
      ;;
    --version=* | --prefix=* | --archive=* | --checksums=*)
      value=${1#*=}
      case $1 in
        --version=*) version=$value ;;
        --prefix=*) prefix=$value ;;
        --archive=*) archive=$value ;;
        --checksums=*) checksums=$value ;;
      esac
      shift
      ;;
    -h | --help) usage ;;
    *) die "unknown option '$1' (try --help)" ;;
  esac
done
if { [ -n "$archive" ] || [ -n "$checksums" ]; } && { [ -z "$archive" ] || [ -z "$checksums" ]; }; then
  die "offline install needs both --archive FILE and --checksums FILE"
fi

# --- this host: os, arch, libc -> the archive suffix, e.g. linux_arm64_musl ---
case $(uname -s) in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  *) die "unsupported OS '$(uname -s)': download the archive for your platform from $RELEASE_URL" ;;
esac
case $(uname -m) in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) die "unsupported architecture '$(uname -m)': builds exist for x86_64 and arm64" ;;
esac
# An x64 shell under Rosetta on Apple silicon still gets the native arm64 binary.
if [ "$os" = darwin ] && [ "$arch" = x64 ] && [ "$(sysctl -n sysctl.proc_translated 2>/dev/null || true)" = 1 ]; then
  arch=arm64
fi
platform=${os}_$arch
# musl (Alpine) or glibc: ldd says which libc the system uses; a musl loader lying around on a glibc
# system (Debian's musl package) does not make it a musl system.
if [ "$os" = linux ]; then
  case $({ ldd --version 2>&1 || true; } | head -n 1) in
    *musl*) platform=${platform}_musl ;;
    *GNU* | *GLIBC* | *glibc*) ;;
    *) if ls /lib/ld-musl-*.so.1 >/dev/null 2>&1; then platform=${platform}_musl; fi ;;
  esac
fi

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d ' ' -f 1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d ' ' -f 1
  elif command -v openssl >/dev/null 2>&1; then
    openssl dgst -sha256 -r "$1" | cut -d ' ' -f 1
  else
    die "no sha256 tool found (sha256sum, shasum or openssl): cannot verify the download"
  fi
}

# Sets fetch_missing=1 when the server answered that the file is not there (an HTTP error), as opposed to
# a network failure, so the caller can say which.
fetch_missing=
fetch() { # URL FILE
  fetch_missing=
  if command -v curl >/dev/null 2>&1; then
    # An https URL stays https across redirects; a plain-http mirror (MCP_DOCKER_RELEASE_URL) may use http.
    case $1 in
      https://*) proto='=https' ;;
      *) proto='=http,https' ;;
    esac
    rc=0
    curl -fsSL --proto "$proto" --proto-redir "$proto" -o "$2" "$1" || rc=$?
    [ "$rc" -eq 22 ] && fetch_missing=1
  elif command -v wget >/dev/null 2>&1; then
    rc=0
    wget -q -O "$2" "$1" || rc=$?
    [ "$rc" -eq 8 ] && fetch_missing=1
  else
    die "neither curl nor wget is installed; download the archive and checksums.txt by hand and use --archive/--checksums"
  fi
  return "$rc"
}

tmp=$(mktemp -d 2>/dev/null || mktemp -d -t mcp-docker)
# On Ctrl-C or TERM: stop here (exit runs the EXIT trap, which cleans up), never carry on installing.
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the archive and the checksums it is verified against ---
if [ -n "$archive" ]; then
  [ -f "$archive" ] || die "archive '$archive' not found"
  [ -f "$checksums" ] || die "checksums file '$checksums' not found"
  name=$(basename "$archive")
  # A browser that already had the file saves `… (1).tar.gz`: the release's name is what checksums.txt lists.
  name=$(printf '%s\n' "$name" | sed 's/ ([0-9][0-9]*)\.tar\.gz$/.tar.gz/')
  case $name in
    *"_${platform}.tar.gz") ;;
    mcp-docker_*.tar.gz) die "$name is not built for this host ($platform): use mcp-docker_<version>_${platform}.tar.gz" ;;
    *) die "$name is not a mcp-docker release archive (mcp-docker_<version>_${platform}.tar.gz)" ;;
  esac
  # Offline there is nothing to fetch: --version can only confirm the archive is the release asked for.
  archive_version=${name#mcp-docker_}
  archive_version=${archive_version%"_${platform}.tar.gz"}
  if [ -n "$version" ] && [ "${version#v}" != "$archive_version" ]; then
    die "--version $version does not match $name (version $archive_version): use the archive of ${version#v}, or drop --version"
  fi
else
  if [ -n "$version" ]; then
    base=$RELEASE_URL/download/v${version#v}
  else
    base=$RELEASE_URL/latest/download
  fi
  checksums=$tmp/checksums.txt
  if ! fetch "$base/checksums.txt" "$checksums"; then
    if [ -n "$fetch_missing" ] && [ -n "$version" ]; then
      die "there is no release v${version#v} (no $base/checksums.txt): see $RELEASE_URL for the versions"
    fi
    die "download failed: $base/checksums.txt (is the network up? a proxy?)"
  fi
  # checksums.txt copied through Windows may have CRLF line ends: awk below sees the names without them.
  # checksums.txt names every archive of the release, so it also tells which version "latest" is.
  name=$(awk -v want="_${platform}.tar.gz" '{ sub(/\r$/, "") }
    substr($2, length($2) - length(want) + 1) == want && $2 ~ /^mcp-docker_/ { print $2; exit }' "$checksums")
  [ -n "$name" ] || die "the release at $base has no archive for $platform"
  archive=$tmp/$name
  say "downloading $base/$name"
  fetch "$base/$name" "$archive" || die "download failed: $base/$name"
fi

# CRLF line ends (a checksums.txt copied through Windows) are not part of the name.
expected=$(awk -v f="$name" '{ sub(/\r$/, "") } $2 == f || $2 == "*" f { print $1; exit }' "$checksums")
[ -n "$expected" ] || die "$name is not listed in $checksums: refusing to install an archive that cannot be verified"
actual=$(sha256 "$archive")
if [ "$expected" != "$actual" ]; then
  die "checksum mismatch for $name: expected $expected, got $actual. The archive is corrupt or was altered; download it again. Nothing was installed."
fi

mkdir "$tmp/x"
tar -xzf "$archive" -C "$tmp/x" mcp-docker || die "could not extract mcp-docker from $name"
bin=$tmp/x/mcp-docker

# Bun leaves darwin-x64 binaries with an invalid ad-hoc signature that macOS refuses to run: sign again
# (arm64 too: an ad-hoc re-sign is harmless there and keeps one path).
if [ "$os" = darwin ] && command -v codesign >/dev/null 2>&1; then
  codesign --remove-signature "$bin" 2>/dev/null || true
  codesign -s - -f "$bin" || die "re-signing the binary failed (codesign -s - -f)"
fi

# --- install ---
if [ -z "$prefix" ]; then
  if [ -w "$SYSTEM_PREFIX/bin" ] || { [ ! -e "$SYSTEM_PREFIX/bin" ] && [ -w "$SYSTEM_PREFIX" ]; }; then
    prefix=$SYSTEM_PREFIX
  else
    prefix=$HOME/.local
  fi
fi
dest=$prefix/bin
mkdir -p "$dest" || die "cannot create $dest: choose another --prefix or run with sudo"
# Absolute, so the PATH advice below works from any directory (--prefix may be relative).
dest=$(cd "$dest" && pwd)
# Copy next to the target, then rename: a running mcp-docker is never left half-written.
cp "$bin" "$dest/.mcp-docker.new" || die "cannot write to $dest: choose another --prefix or run with sudo"
chmod 755 "$dest/.mcp-docker.new"
mv -f "$dest/.mcp-docker.new" "$dest/mcp-docker"

if ! installed=$("$dest/mcp-docker" --version); then
  case $platform in
    *_musl) die "installed $dest/mcp-docker but it does not run: musl builds need libstdc++ and libgcc (apk add libstdc++ libgcc)" ;;
    *) die "installed $dest/mcp-docker but it does not run on this host" ;;
  esac
fi
say "installed $installed to $dest/mcp-docker"
case ":$PATH:" in
  *":$dest:"*) ;;
  *) say "$dest is not on your PATH: add it, e.g. export PATH=\"$dest:\$PATH\"" ;;
esac
printf '%s\n' "$installed"
