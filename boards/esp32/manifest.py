# Freeze mpdhcp into a custom ESP32 build:
#   make -C ports/esp32 BOARD=ESP32_GENERIC FROZEN_MANIFEST=$PWD/boards/esp32/manifest.py
# Frozen modules run from flash and leave the heap to the lease table.
include("$(PORT_DIR)/boards/manifest.py")
metadata(description="mpdhcp: DHCP server for MicroPython routers (ESP32)", version="0.1.0")
package("mpdhcp", base_path="../../firmware")
