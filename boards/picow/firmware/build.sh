#!/bin/sh
# A Pico W (RPI_PICO_W) MicroPython v1.28.0 firmware with mpdhcp frozen in, from fetched sources:
#   boards/picow/firmware/build.sh [mpdhcp|ap-dhcp|stock] [WORKDIR]
#     mpdhcp   v1.28.0 + boards/picow/manifest.py (the default)
#     ap-dhcp  the same + ap-dhcp.diff: WLAN(AP_IF).config(dhcp_server=False) (docs/boards.md)
#     stock    v1.28.0 as released, the baseline for mpdhcp's share of the flash
#   WORKDIR    where the sources and images go (default: build/picow-fw in this repository)
# Needs git, make, cmake, python3 and arm-none-eabi-gcc with newlib (Debian 12: gcc-arm-none-eabi
# libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib cmake build-essential), and GitHub for
# the sources (MP_GIT names another clone of micropython/micropython). JOBS: make -j (2).
# Writes WORKDIR/RPI_PICO_W-v1.28.0-MODE.uf2 and prints its sizes and sha256.
#
# Two traps met in the first build of this image (2026-11-29, docs/boards.md):
# - pico-sdk 2.x needs picotool >= 2.1.1 for the .uf2 and git-clones it at configure time when
#   none is found. Offline, build picotool 2.2.0 from its source and export
#   PICOTOOL_FETCH_FROM_GIT_PATH=<its install prefix> (the SDK then says "Using picotool from").
# - Never put CMAKE_ARGS=... on the make command line: it replaces the port Makefile's
#   -DMICROPY_BOARD and -DMICROPY_FROZEN_MANIFEST (ports/rp2/Makefile:37,44) and a plain
#   RPI_PICO image, without Wi-Fi or mpdhcp, is built without a word.
set -eu
TAG=v1.28.0
COMMIT=e0e9fbb17ed6fd06bb76e266ae554784c9c80804
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
MODE=${1:-mpdhcp}
W=${2:-$REPO/build/picow-fw}
MP_GIT=${MP_GIT:-https://github.com/micropython/micropython.git}

case $MODE in
    mpdhcp | stock) SRC=$W/micropython-$TAG ;;
    ap-dhcp) SRC=$W/micropython-$TAG-ap-dhcp ;;  # its own tree: the patch stays out of the others
    *) echo "usage: $0 [mpdhcp|ap-dhcp|stock] [WORKDIR]" >&2; exit 2 ;;
esac
for tool in git make cmake python3 arm-none-eabi-gcc; do
    command -v $tool >/dev/null || { echo "build.sh: $tool is missing" >&2; exit 2; }
done

mkdir -p "$W"
if [ ! -d "$SRC/.git" ]; then
    git clone --depth 1 --branch $TAG "$MP_GIT" "$SRC"
fi
if [ "$(git -C "$SRC" rev-parse HEAD)" != $COMMIT ]; then
    echo "build.sh: $SRC is not $TAG ($COMMIT)" >&2
    exit 1
fi
# the submodules v1.28.0 pins for this board: pico-sdk 2.2.0, cyw43-driver, lwIP 2.2.1,
# btstack, mbedtls, tinyusb, micropython-lib
make -C "$SRC/ports/rp2" BOARD=RPI_PICO_W submodules
if [ $MODE = ap-dhcp ] && ! git -C "$SRC" apply --reverse --check "$HERE/ap-dhcp.diff" 2>/dev/null; then
    git -C "$SRC" apply "$HERE/ap-dhcp.diff"
fi

make -C "$SRC/mpy-cross" -j"${JOBS:-2}"
BUILD=build-RPI_PICO_W-$MODE
# cmake is configured only when the build folder has no Makefile (ports/rp2/Makefile:64), so a
# fresh folder is what makes this run's manifest count
rm -rf "$SRC/ports/rp2/$BUILD"
if [ $MODE = stock ]; then
    make -C "$SRC/ports/rp2" BOARD=RPI_PICO_W BUILD=$BUILD -j"${JOBS:-2}"
else
    make -C "$SRC/ports/rp2" BOARD=RPI_PICO_W BUILD=$BUILD -j"${JOBS:-2}" \
        FROZEN_MANIFEST="$REPO/boards/picow/manifest.py"
fi

OUT=$W/RPI_PICO_W-$TAG-$MODE.uf2
cp "$SRC/ports/rp2/$BUILD/firmware.uf2" "$OUT"
echo "$OUT: $(wc -c <"$OUT") bytes; firmware.bin (flash): $(wc -c <"$SRC/ports/rp2/$BUILD/firmware.bin") bytes"
sha256sum "$OUT"
