# mpdhcp host-side tasks. Idempotent: a second `make test` skips the venv and apt steps.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

PY         := .venv/bin/python
VENV_STAMP := .venv/.requirements.stamp

# Binaries that prove the peers are installed, and the Debian packages providing them.
PEER_BINS := kea-dhcp4 kea-dhcp6 perfdhcp dhclient dhcpd dhcrelay dnsmasq udhcpc udhcpd \
             dhcpcd socat ip
PEER_PKGS := kea-dhcp4-server kea-dhcp6-server kea-admin isc-dhcp-client isc-dhcp-server \
             isc-dhcp-relay dnsmasq-base udhcpc udhcpd dhcpcd-base socat iproute2
# Services those packages may start; they must not stay running (they would bind :67/:547).
PEER_SERVICES := kea-dhcp4-server kea-dhcp6-server kea-dhcp-ddns-server kea-ctrl-agent \
                 isc-dhcp-server isc-dhcp-server6 isc-dhcp-relay isc-dhcp-relay6

.PHONY: venv peers test demo bench stress

venv: $(VENV_STAMP)

$(VENV_STAMP): requirements.txt
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install -q -r requirements.txt
	touch $@

peers:
	@export PATH="$$PATH:/usr/sbin:/sbin"; missing=""; \
	for b in $(PEER_BINS); do command -v $$b >/dev/null 2>&1 || missing="$$missing $$b"; done; \
	if [ -z "$$missing" ]; then echo "peers: all present, skipping apt"; exit 0; fi; \
	echo "peers: missing:$$missing"; \
	if [ "$$(id -u)" != 0 ]; then echo "peers: need root to apt-get install" >&2; exit 1; fi; \
	export DEBIAN_FRONTEND=noninteractive; \
	rcd=/usr/sbin/policy-rc.d; own_rcd=0; \
	if [ ! -e $$rcd ]; then printf '#!/bin/sh\nexit 101\n' > $$rcd; chmod +x $$rcd; own_rcd=1; fi; \
	trap '[ $$own_rcd = 1 ] && rm -f '$$rcd' || true' EXIT; \
	apt-get update -q; \
	apt-get install -y -q --no-install-recommends $(PEER_PKGS) || { dpkg --configure -a || true; \
	  apt-get install -y -q --no-install-recommends $(PEER_PKGS); }; \
	for s in $(PEER_SERVICES); do \
	  if [ -d /run/systemd/system ]; then systemctl disable --now $$s >/dev/null 2>&1 || true; \
	  elif [ -x /etc/init.d/$$s ]; then /etc/init.d/$$s stop >/dev/null 2>&1 || true; \
	    update-rc.d $$s disable >/dev/null 2>&1 || true; fi; \
	done; \
	for b in $(PEER_BINS); do command -v $$b >/dev/null 2>&1 || { echo "peers: $$b still missing" >&2; exit 1; }; done

test: venv peers
	$(PY) -m pytest -q tests </dev/null

demo: venv peers
	$(PY) -m host_tools demo

bench: venv peers
	$(PY) -m host_tools bench

# The stress campaign (fuzzing, power cuts, journal damage, starvation, soak): figures in
# build/stress.json. `make test` runs a short version of it (tests/interop/test_stress_quick.py,
# tests/protocol/test_corpus.py).
stress: venv peers
	$(PY) -m host_tools stress --json-out build/stress.json
