# mpdhcp: DHCP server and client engines for MicroPython routers.
__version__ = "0.1.0"
