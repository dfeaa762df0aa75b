#!/usr/bin/env bash
# Installs what hydrant needs to build, run and test, on Debian 12, as root.
# Idempotent and quick when everything is already there: it asks dpkg first
# and calls apt-get only for what is missing.
set -euo pipefail

APT_BUILD=(cmake ninja-build g++ ccache pkg-config tzdata
  libboost1.81-dev libboost-json1.81-dev
  libsimdjson-dev libmodpbase64-dev libspdlog-dev libtomlplusplus-dev libcli11-dev
  libsnappy-dev libdeflate-dev libisal-dev libminizip-dev zlib1g-dev
  libcurl4-openssl-dev libssl-dev libsqlite3-dev
  libgtest-dev libgmock-dev libbenchmark-dev)
# `--fuzz` (make fuzz): clang-14 with libFuzzer and the sanitizers' runtimes.
APT_FUZZ=(clang-14 libclang-rt-14-dev)
APT_TEST=(awscli sqlite3 faketime openssl python3-boto3 python3-pytest python3-snappy python3-crc32c python3-prometheus-client unzip gzip nodejs npm curl)

want=("${APT_BUILD[@]}")
if [ "${1:-}" = "--test" ]; then want+=("${APT_TEST[@]}"); fi
if [ "${1:-}" = "--fuzz" ]; then want+=("${APT_FUZZ[@]}"); fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    # node/npm may come from elsewhere on the image; accept them if on PATH.
    case "$p" in
      nodejs) command -v node >/dev/null 2>&1 && continue ;;
      npm) command -v npm >/dev/null 2>&1 && continue ;;
    esac
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ "${1:-}" = "--test" ]; then
  # JavaScript clients for the integration tests, and kinesalite (the Kinesis peer of
  # src/sources/remote_kinesis_reader_test.cc), pinned in tests/js/package.json.
  here=$(cd "$(dirname "$0")/.." && pwd)
  # Any dependency of package.json missing from node_modules: install from the lock.
  js_missing=$(cd "$here/tests/js" && node -e '
    const deps = Object.keys(require("./package.json").dependencies || {});
    const fs = require("fs");
    process.stdout.write(deps.filter((d) => !fs.existsSync("node_modules/" + d)).join(" "));' 2>/dev/null || echo all)
  if [ ! -d "$here/tests/js/node_modules" ] || [ -n "$js_missing" ]; then
    (cd "$here/tests/js" && npm install --no-audit --no-fund --loglevel=error)
  fi
  # serverless 3 + serverless-offline 13 (a Lambda Invoke API peer), pinned in tests/sls/package.json.
  if [ ! -d "$here/tests/sls/node_modules/serverless-offline" ]; then
    (cd "$here/tests/sls" && npm install --no-audit --no-fund --loglevel=error)
  fi
  # s3rver 3.7 (a remote S3-compatible destination), pinned in tests/s3peers/package.json.
  if [ ! -d "$here/tests/s3peers/node_modules/s3rver" ]; then
    (cd "$here/tests/s3peers" && npm install --no-audit --no-fund --loglevel=error)
  fi
fi
