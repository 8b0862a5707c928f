# ESP32 router: a Wi-Fi access point and, on a board that has it, Ethernet (network.LAN) are the
# LAN that mpdhcp serves; Wi-Fi station is the WAN. Optional board.json holds the site settings
# (a missing file or key keeps the default below):
#   {"ap": {"essid": "mpdhcp", "password": "..."}, "wan": {"essid": "...", "password": "..."},
#    "eth": {"mdc": 23, "mdio": 18, "phy": "LAN8720", "phy_addr": 1, "power": 16, "ip": "192.168.5.1"}}
# Ethernet comes up only when board.json has "eth": network.LAN drives the pins it is given at
# once (the power pin high: v1.28.0 ports/esp32/network_lan.c:207-212, master :274-279), and
# they differ per board. The "eth" above is a WT32-ETH01's; its power pin, GPIO16, is the
# PSRAM's on a WROVER module, so no default drives it.
# Serves from a background thread (mpdhcp.platform.thread) so the REPL stays free for
# `python -m host_tools inspect --port /dev/ttyUSB0`.
# The AP: ESP-IDF starts its own DHCP server (dhcps) with it, bound to (AP address, 67), and
# MicroPython stops and restarts it on every ifconfig() of the AP (ports/esp32/
# network_common.c). So port 67 is claimed on the AP's address before the AP comes up: each
# (re)start of dhcps then finds the port taken, its failed bind is ignored, and mpdhcp serves
# the AP. Ethernet (network.LAN) runs no DHCP server. Paths are relative: the board's working
# directory is its flash root.
import json
import time
import network
from machine import Pin
from mpdhcp.platform import thread as platform_thread
from mpdhcp.platform.netif_lwip import NetifLwip

SETTINGS = {
    "ap": {"essid": "mpdhcp", "password": "mpdhcp-lan", "ip": "192.168.4.1"},
    "wan": None,
    "eth": None,  # e.g. the WT32-ETH01 values in the comment above
}
MASK = "255.255.255.0"
# what the port raises for a Wi-Fi call that fails: OSError for ESP-IDF's known errors,
# RuntimeError for the others (v1.28.0 ports/esp32/network_common.c:48-84), ValueError for bad
# arguments
PORT_ERRORS = (OSError, RuntimeError, ValueError)


def settings():
    s = dict(SETTINGS)
    try:
        with open("board.json") as f:
            s.update(json.load(f))
    except (OSError, ValueError):
        pass
    return s


def up_ethernet(c):
    if not c:
        return None
    try:
        power = Pin(c["power"]) if c.get("power") is not None else None
        lan = network.LAN(mdc=Pin(c["mdc"]), mdio=Pin(c["mdio"]), power=power,
                          phy_type=getattr(network, "PHY_" + c["phy"]), phy_addr=c["phy_addr"])
        lan.active(True)
        lan.ifconfig((c["ip"], MASK, c["ip"], c["ip"]))  # static: we are this LAN's router
        return lan
    except PORT_ERRORS + (AttributeError,) as e:
        print("mpdhcp: no Ethernet (%s)" % e)
        return None


def up_access_point(c):
    """The AP, up with the site's name, password and address; None (one line said, the AP off)
    when the port refuses, e.g. a WPA2 password under 8 characters ("Wifi Invalid Password"):
    the AP is already up by then, open, under ESP-IDF's default name, and must not stay so."""
    ap = None
    try:
        ap = network.WLAN(network.AP_IF)
        ap.active(True)
        ap.config(essid=c["essid"], password=c["password"], authmode=3)  # WPA2-PSK
        ap.ifconfig((c["ip"], MASK, c["ip"], c["ip"]))
        return ap
    except PORT_ERRORS as e:
        print("mpdhcp: no Wi-Fi AP (%s)" % e)
        off(ap)
        return None


def off(nic):
    """Turn a nic that failed half-way off (what stays up is only what the site asked for)."""
    try:
        if nic is not None:
            nic.active(False)
    except PORT_ERRORS:
        pass


def up_wan(c, timeout_s=15):
    """The station, active (then guarded, joined or not), or None (one line said)."""
    try:
        sta = network.WLAN(network.STA_IF)
        sta.active(True)
    except PORT_ERRORS as e:
        print("mpdhcp: no Wi-Fi station (%s)" % e)
        return None
    try:
        join(sta, c, timeout_s)
    except PORT_ERRORS as e:
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

            ntptime.settime()  # lease expiries are absolute: the clock must be right before serving
        except Exception as e:
            print("mpdhcp: no NTP (%s); leases are timed from boot" % e)


def main():
    s = settings()
    netif = NetifLwip()
    lan = up_ethernet(s.get("eth"))
    if lan is not None:
        netif.nics["eth"] = lan
    # a failed claim (the AP was up before main.py, e.g. from boot.py) is said once, by the
    # service's "not serving ap" line
    netif.claim_v4_server("ap", s["ap"]["ip"])
    ap = up_access_point(s["ap"])
    if ap is not None:
        netif.nics["ap"] = ap
    sta = up_wan(s.get("wan"))
    if sta is not None:
        netif.guard["sta"] = sta  # its DHCP broadcasts never reach the LAN sockets
    from mpdhcp import service  # start-up only: it leaves the heap once the service is built

    try:
        return platform_thread.start("mpdhcp.json", netif, service.build, preload=service.preload)
    except Exception as e:  # nothing servable, or a bad config: say so, keep the REPL
        print("mpdhcp: not serving: %s" % e)
        return None
    finally:
        service.unload()


main()
