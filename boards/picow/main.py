# Pico W router: the Wi-Fi access point is the LAN that mpdhcp serves, Wi-Fi station the WAN;
# a W5500 Ethernet module (network.WIZNET5K on SPI0) is an optional second LAN (not in the stock
# RPI_PICO_W firmware: docs/boards.md gives the build that has it). Optional board.json holds
# the site settings (a missing file or key keeps the default below):
#   {"ap": {"essid": "mpdhcp", "password": "..."}, "wan": {"essid": "...", "password": "..."},
#    "w5500": {"spi": 0, "sck": 18, "mosi": 19, "miso": 16, "cs": 17, "rst": 20, "ip": "192.168.5.1"}}
# The config names the interfaces "ap" and "eth" (W5500). The RP2040 runs the service thread
# on its second core (mpdhcp.platform.thread), leaving the REPL free for host_tools inspect.
# The AP: the firmware starts its own DHCP server with it (cyw43-driver cyw43_lwip.c, on
# 0.0.0.0:67 without SO_REUSEADDR, a failed bind ignored), and while that one holds port 67 no
# socket of ours can bind 67 on any interface. So port 67 is claimed on the AP's address
# before the AP comes up; the firmware's server then hears nothing and mpdhcp serves the AP.
# The station comes up last: cyw43 makes the last interface up the default route (NTP, DNS).
# Paths are relative: the board's working directory is its flash root.
import json
import time
import network
from machine import Pin, SPI
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
        with open("board.json") as f:
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
    try:
        ap.config(dhcp_server=False)  # the firmware route (docs/boards.md): no server at all
    except (ValueError, TypeError):
        pass  # stock firmware: the claim on port 67 keeps its server deaf instead
    ap.config(essid=c["essid"], password=c["password"])
    ap.active(True)
    ap.ifconfig((c["ip"], MASK, c["ip"], c["ip"]))
    return ap


def up_wan(c, timeout_s=15):
    """The station, active (then guarded, joined or not), or None (one line said). connect()
    raises OSError for what cyw43 refuses, e.g. a WPA2 password over 64 characters (EINVAL:
    cyw43-driver src/cyw43_ll.c:2072-2077, raised by v1.28.0 extmod/network_cyw43.c:308-312)."""
    try:
        sta = network.WLAN(network.STA_IF)
        sta.active(True)
    except (OSError, ValueError) as e:
        print("mpdhcp: no Wi-Fi station (%s)" % e)
        return None
    try:
        join(sta, c, timeout_s)
    except (OSError, ValueError) as e:
        print("mpdhcp: the Wi-Fi WAN was not joined (%s)" % e)
    return sta


def join(sta, c, timeout_s):
    if not c:
        return
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


def main():
    s = settings()
    netif = NetifLwip()
    # a failed claim (the AP was up before main.py, e.g. from boot.py) is said once, by the
    # service's "not serving ap" line
    netif.claim_v4_server("ap", s["ap"]["ip"])
    netif.nics["ap"] = up_access_point(s["ap"])
    eth = up_w5500(s.get("w5500"))
    if eth is not None:
        netif.nics["eth"] = eth
    sta = up_wan(s.get("wan"))
    if sta is not None:
        netif.guard["sta"] = sta  # its DHCP broadcasts never reach the LAN sockets
    from mpdhcp import service  # start-up only: it leaves the heap once the service is built

    try:
        return platform_thread.start("mpdhcp.json", netif, service.build, stack=8192, preload=service.preload)
    except Exception as e:  # nothing servable, or a bad config: say so, keep the REPL
        print("mpdhcp: not serving: %s" % e)
        return None
    finally:
        service.unload()


main()
