# Freeze mpdhcp into a custom Unix-port build: make -C ports/unix FROZEN_MANIFEST=.../boards/unix/manifest.py
metadata(description="mpdhcp: DHCP server for MicroPython routers (Unix port)", version="0.1.0")
package("mpdhcp", base_path="../../firmware")
