#!/usr/bin/env bash
# Installs what pmhcd needs to build, test and run its demo on Debian 12.
# Run as root (as on a fresh machine or container); a no-op when all is there.
# Java and Maven run the Apache Kafka broker of the tests, the demo and the
# benchmarks (tests/support/kafka.sh fetches Kafka itself from Maven Central
# with mvn, into the build directory, on first use).
set -euo pipefail

packages=(
  build-essential pkg-config meson ninja-build
  protobuf-c-compiler libprotobuf-c-dev librdkafka-dev libpq-dev libconfig-dev
  libssl-dev libjson-c-dev libmicrohttpd-dev libsystemd-dev check
  postgresql kcat jq valgrind procps
  clang libclang-rt-14-dev clang-format-14
  graphviz chromium
  systemd
  default-jre-headless maven util-linux iproute2 ca-certificates-java
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: these Debian packages are missing: ${missing[*]}" >&2
  echo "install-deps: run this script as root, or: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# The JRE's postinst links its man pages: slim images (Docker's debian:12-slim)
# leave out /usr/share/man, and the install then fails without this.
mkdir -p /usr/share/man/man1
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done" >&2
