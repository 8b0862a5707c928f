# Pico W router: the Wi-Fi access point is the LAN that mpdhcp serves, Wi-Fi station the WAN;
# a W5500 Ethernet module (network.WIZNET5K on SPI0) is an optional second LAN. Optional
# /board.json holds the site settings (a missing file or key keeps the default below):
#   {"ap": {"essid": "mpdhcp", "password": "..."}, "wan": {"essid": "...", "password": "..."},
#    "w5500": {"spi": 0, "sck": 18, "mosi": 19, "miso": 16, "cs": 17, "rst": 20, "ip": "192.168.5.1"}}
# The config names the interfaces "ap" and "eth" (W5500). The RP2040 runs the service thread
# on its second core (mpdhcp.platform.thread), leaving the REPL free for host_tools inspect.
import json
import time
import network
from machine import Pin, SPI
from mpdhcp import service
from mpdhcp.platform import thread as platform_thread
from mpdhcp.platform.netif_lwip import NetifLwip

SETTINGS = {
    "ap": {"essid": "mpdhcp", "password": "mpdhcp-lan", "ip": "192.168.4.1"},
    "wan": None,
    "w5500": None,
}
MASK = "255.255.255.0"


def settings():
    s = dict(SETTINGS)
    try:
        with open("/board.json") as f:
            s.update(json.load(f))
    except (OSError, ValueError):
        pass
    return s


def up_w5500(c):
    if not c:
        return None
    try:
        spi = SPI(c["spi"], 2_000_000, sck=Pin(c["sck"]), mosi=Pin(c["mosi"]), miso=Pin(c["miso"]))
        nic = network.WIZNET5K(spi, Pin(c["cs"]), Pin(c["rst"]))
        nic.active(True)
        nic.ifconfig((c["ip"], MASK, c["ip"], c["ip"]))
        return nic
    except (OSError, ValueError, AttributeError) as e:
        print("mpdhcp: no W5500 (%s)" % e)
        return None


def up_access_point(c):
    ap = network.WLAN(network.AP_IF)
    ap.config(essid=c["essid"], password=c["password"])
    ap.active(True)
    ap.ifconfig((c["ip"], MASK, c["ip"], c["ip"]))
    return ap


def up_wan(c, timeout_s=15):
    sta = network.WLAN(network.STA_IF)
    sta.active(True)
    if not c:
        return sta
    sta.connect(c["essid"], c["password"])
    t = 0
    while not sta.isconnected() and t < timeout_s * 10:
        time.sleep_ms(100)
        t += 1
    if sta.isconnected():
        try:
            import ntptime

            ntptime.settime()
        except Exception as e:
            print("mpdhcp: no NTP (%s); leases are timed from boot" % e)
    return sta


def main():
    s = settings()
    nics = {"ap": up_access_point(s["ap"])}
    eth = up_w5500(s.get("w5500"))
    if eth is not None:
        nics["eth"] = eth
    up_wan(s.get("wan"))
    return platform_thread.start("/mpdhcp.json", NetifLwip(nics), service.build, stack=8192)


main()
