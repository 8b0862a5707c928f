# config/__init__.py: the section registry, and the rule that no two files the service
# writes are one (a control socket named like the lease file once removed the journal).
from mpdhcp.config.parser import parse_doc, ConfigError


def _doc(lease, sock, client=None):
    d = ('{"Dhcp4": {"interfaces-config": {"interfaces": ["s0"]}, '
         '"lease-database": {"type": "memfile", "name": "%s"}, '
         '"control-socket": {"socket-type": "unix", "socket-name": "%s"}, '
         '"subnet4": [{"id": 1, "subnet": "192.168.77.0/24"}]}' % (lease, sock))
    if client:
        d += ', "Client4": {"interface": "wan0", "lease-file": "%s", "resolv-conf": "%s"}' % client
    return d + "}"


def _error(text):
    try:
        parse_doc(text)
    except ConfigError as e:
        return str(e)
    return None


def test_a_control_socket_named_like_the_lease_file_is_refused():
    e = _error(_doc("/var/lib/mpdhcp/leases4.jnl", "/var/lib/mpdhcp/leases4.jnl"))
    assert e and e.startswith("Dhcp4.control-socket.socket-name: ") and "Dhcp4.lease-database.name" in e, e
    e = _error(_doc("/var/lib/mpdhcp/leases4.jnl", "/var/lib//mpdhcp/./leases4.jnl"))  # same file
    assert e and "every file needs its own path" in e, e


def test_client_files_may_not_collide_with_the_servers():
    e = _error(_doc("/l4.jnl", "/run/m.sock", ("/l4.jnl", "/etc/resolv.conf")))
    assert e and "Client4.lease-file" in e and "Dhcp4.lease-database.name" in e, e
    e = _error(_doc("/l4.jnl", "/run/m.sock", ("/c4.jnl", "/run/m.sock")))
    assert e and "Client4.resolv-conf" in e, e
    assert _error(_doc("/l4.jnl", "/run/m.sock", ("/c4.jnl", "/etc/resolv.conf"))) is None


def test_the_servers_may_share_one_control_socket():
    d6 = ('"Dhcp6": {"interfaces-config": {"interfaces": ["s0"]}, '
          '"lease-database": {"type": "memfile", "name": "/l6.jnl"}, '
          '"control-socket": {"socket-type": "unix", "socket-name": "/run/m.sock"}, '
          '"subnet6": [{"id": 1, "subnet": "2001:db8::/64", "interface": "s0"}]}')
    text = _doc("/l4.jnl", "/run/m.sock")[:-1] + ", " + d6 + "}"
    assert _error(text) is None
    assert "every file needs its own path" in _error(text.replace("/l6.jnl", "/l4.jnl"))


def test_unknown_sections_are_named():
    e = _error('{"Dhcp5": {}}')
    assert e and e.startswith("Dhcp5: unknown or unsupported section"), e


_BASE = ('{"Dhcp4": {"interfaces-config": {"interfaces": ["s0"]}, '
         '"subnet4": [{"id": 1, "subnet": "192.168.77.0/24", %s}]}}')


def test_deep_nesting_is_a_clear_error():
    e = _error("[" * 20000 + "]" * 20000)
    assert e and e.startswith("config: "), e


def test_a_lone_surrogate_names_its_key_path():
    e = _error(_BASE % '"reservations": [{"hw-address": "02:00:00:00:00:01", "hostname": "a\\ud800b"}]')
    # CPython decodes the escape to a lone surrogate (refused with the key path); MicroPython
    # refuses it while parsing the JSON: either way a clear error, never a traceback
    assert e is None or e.startswith("Dhcp4.subnet4[0].reservations[0].hostname: ") or \
        e.startswith("config: "), e


def test_non_ascii_search_domains_are_refused_not_mis_encoded():
    e = _error(_BASE % '"option-data": [{"name": "domain-search", "data": "ex\\u00e4mple.org"}]')
    assert e and e.startswith("Dhcp4.subnet4[0].option-data[0].data: ") and "IDNA" in e, e
    doc = parse_doc(_BASE % '"option-data": [{"name": "domain-search", "data": "xn--exmple-cua.org"}]')
    wire = doc.get("Dhcp4").subnets[0].options[119]
    assert wire == b"\x0exn--exmple-cua\x03org\x00"  # RFC 1035 3.1: length, octets


def _parsed_afresh(text):
    # parse_doc imported here, as a start does (an earlier test may have unloaded the module
    # the global came from), so no frame of the test keeps the parser module alive
    from mpdhcp.config.parser import parse_doc
    return parse_doc(text)


def _unload_parsers(C):
    """(modules C.unload_parsers() dropped, sorted; bytes that freed, or None where the heap
    cannot be measured). The heap is measured where gc sees every root: the WASI build cannot
    scan wasm locals, and a gc.collect() called from a test there has freed live objects (a
    trap). Measured in this frame, not the test's, whose dead value-stack slots still point at
    the modules it imported (gc scans them: 32 B freed instead of 20 KB, at one path length)."""
    import gc
    import sys
    measure = hasattr(gc, "mem_alloc") and getattr(sys.implementation, "_build", "") != "wasi"
    if measure:
        gc.collect()
        before = gc.mem_alloc()
    gone = sorted(C.unload_parsers())
    if not measure:
        return gone, None
    gc.collect()
    return gone, before - gc.mem_alloc()


def test_the_v4_parsers_leave_the_heap_after_start_and_come_back_when_needed():
    # what the engines keep lives in model4.py: once built, the service drops the Dhcp4 and
    # Client4 parsers, common.py and wire/options4.py, but not what the client decodes ACKs
    # with (wire/decode4.py); a later parse imports
    # them again, and the error type stays one class
    import sys
    from mpdhcp import config as C
    from mpdhcp.config import model4

    from mpdhcp.wire import decode4

    doc = _parsed_afresh(_doc("/l4.jnl", "/s.sock", ("/c4.jnl", "/resolv.conf")))
    sub = doc.get("Dhcp4").subnets[0]
    assert type(sub) is model4.Subnet4 and type(doc.get("Client4")) is model4.Client4Config
    for name in ("dhcp6", "client6", "image"):  # loaded by an earlier test in this process
        if "mpdhcp.config." + name in sys.modules:
            del sys.modules["mpdhcp.config." + name]
            delattr(C, name)
    gone, freed = _unload_parsers(C)
    assert gone == ["client4", "common", "config", "dhcp4", "options4", "parser"]
    assert "mpdhcp.config.dhcp4" not in sys.modules and "mpdhcp.config.common" not in sys.modules
    assert "mpdhcp.config" not in sys.modules  # the package itself: the engines hold model4's objects
    assert "mpdhcp.wire.options4" not in sys.modules  # the option table goes with them
    assert freed is None or freed > 4096, freed  # the parsers' code is gone from the heap
    assert sub.contains(bytes([192, 168, 77, 9]))  # what the engines hold still works
    assert "mpdhcp.wire.decode4" in sys.modules and decode4.prefix_len(b"\xff\xff\xf0\x00", 0) == 20
    assert C.unload_parsers() == []  # nothing left to drop
    again = _parsed_afresh(_doc("/l4.jnl", "/s.sock"))
    assert type(again.get("Dhcp4").subnets[0]) is model4.Subnet4
    assert "unknown key" in _error('{"Dhcp4": {"bogus": 1}}')  # one ConfigError class throughout


def test_the_v6_parsers_leave_the_heap_too():
    # the DHCPv6 engines keep model6.py's objects: the Dhcp6 and Client6 parsers go as well,
    # and what the engines call on a subnet while serving (router mode) still works
    import sys
    from mpdhcp import config as C
    from mpdhcp.config import model6
    from mpdhcp.wire.addr6 import ip6

    d6 = ('"Dhcp6": {"interfaces-config": {"interfaces": ["s0"]}, '
          '"subnet6": [{"id": 1, "subnet": "2001:db8::/64", "interface": "s0", '
          '"pools": [{"pool": "2001:db8::100 - 2001:db8::1ff"}], '
          '"pd-pools": [{"prefix": "2001:db8:8000::", "prefix-len": 40, "delegated-len": 56}]}]}, '
          '"Client6": {"interface": "wan0", "ia-pd": true}')
    C.unload_parsers()
    doc = _parsed_afresh("{" + d6 + "}")
    sub = doc.get("Dhcp6").subnets[0]
    assert type(sub) is model6.Subnet6 and type(doc.get("Client6")) is model6.Client6Config
    gone, freed = _unload_parsers(C)
    assert gone == ["client6", "common", "config", "dhcp6", "options4", "parser"]
    assert not [m for m in ("dhcp6", "client6", "common") if "mpdhcp.config." + m in sys.modules]
    assert freed is None or freed > 4096, freed
    assert sub.contains(ip6("2001:db8::1:2")) and not sub.contains(ip6("2001:db9::1"))
    sub.pd_template = [(ip6("::"), 44, 56)]  # router mode's rebase: the template under a /40
    assert sub.rebase_pd(ip6("2001:db8:8000::"), 40, []) == [] and sub.pools[0].size == 256
    assert type(sub.pd_pools[0]) is model6.PdPool and sub.pd_pools[0].prefix == ip6("2001:db8:8000::")
    assert doc.get("Client6").ia_pd and doc.get("Client6").oro == bytes((0, 23, 0, 24, 0, 82))
    again = _parsed_afresh("{" + d6 + "}")  # the parsers come back when needed
    assert type(again.get("Dhcp6").subnets[0]) is model6.Subnet6


def test_before_runs_ahead_of_the_section_parsers():
    # config.load(path, before): the service's preload imports the engines' code first
    import sys
    from mpdhcp import config as C
    C.unload_parsers()
    seen = []

    def before(names):
        seen.append((sorted(names), "mpdhcp.config.dhcp4" in sys.modules))

    doc = parse_doc(_doc("/l4.jnl", "/s.sock", ("/c4.jnl", "/resolv.conf")), before)
    assert seen == [(["Client4", "Dhcp4"], False)] and doc.get("Dhcp4") is not None
    seen.clear()
    assert _error('{"Dhcp5": {}}') and not seen  # a bad document never gets that far
    from mpdhcp import service
    service.preload(["Dhcp4", "Bogus"])
    service.starting(False)  # what build does after it: the collection threshold as it was
    assert "mpdhcp.v4.server4" in sys.modules
