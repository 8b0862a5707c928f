# The DHCPv4 config and parameter list the MicroPython-side benchmarks share
# (mp_measure.py, engine_rate.py).
CONFIG4 = """{"Dhcp4": {
  "interfaces-config": {"interfaces": ["s0"]},
  "valid-lifetime": 3600, "renew-timer": 1800, "rebind-timer": 3150,
  "subnet4": [
    {"id": 1, "subnet": "10.77.0.0/16", "pools": [{"pool": "10.77.1.0 - 10.77.254.255"}],
     "option-data": [{"name": "routers", "data": "10.77.0.1"},
                     {"name": "domain-name-servers", "data": "10.77.0.1, 9.9.9.9"},
                     {"name": "domain-search", "data": "lan, example.org"}]}
  ]}}"""
PRL = [1, 3, 6, 12, 15, 28, 42, 51, 54, 58, 59, 119]  # what a typical client asks for
