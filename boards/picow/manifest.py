# Freeze mpdhcp into a custom Pico W build (boards/picow/firmware/build.sh does the whole build):
#   make -C ports/rp2 BOARD=RPI_PICO_W FROZEN_MANIFEST=$PWD/boards/picow/manifest.py
include("$(PORT_DIR)/boards/RPI_PICO_W/manifest.py")
metadata(description="mpdhcp: DHCP server for MicroPython routers (Pico W)", version="0.1.0")
package("mpdhcp", base_path="../../firmware")
