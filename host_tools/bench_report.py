# The figures of `python -m host_tools bench` as one flat list (name, value, unit, command),
# written to build/bench.json beside the raw results, as build/bench.md, and the loss against
# offered rate of every server as build/bench-loss.png (matplotlib, when it is installed).
import os

ENGINE_KINDS = (("v4", "DISCOVER"), ("v4", "REQUEST"), ("v4", "RENEW"),
                ("v6", "Solicit"), ("v6", "Request"), ("v6", "Renew"))


def _fig(out, name, value, unit, command):
    if value is not None:
        out.append({"name": name, "value": round(value, 2) if isinstance(value, float) else value,
                    "unit": unit, "command": command})


def figures(res):
    """Every headline figure of a bench run, flat."""
    cmd = res.get("command", "python -m host_tools bench")
    out = []
    p = res.get("perf")
    if p:
        for name, s in p["servers"].items():
            _fig(out, "dhcp4_dora_per_s." + name, s["best_achieved"], "leases/s (<1% loss)", cmd)
        for other in ("kea", "dnsmasq"):
            _fig(out, "dhcp4_ratio_over." + other, p.get("ours_over_" + other), "x", cmd)
    v6 = (res.get("v6") or {}).get("perf")
    if v6:
        for name, s in v6["servers"].items():
            _fig(out, "dhcp6_solicit_request_per_s." + name, s["best"], "leases/s (<1% loss)", cmd)
        _fig(out, "dhcp6_ratio_over.kea-dhcp6", v6.get("ratio_vs_kea"), "x", cmd)
    e = res.get("engine_rate") or {}
    eb = res.get("engine_rate_bytecode") or {}
    for fam, kind in ENGINE_KINDS:
        _fig(out, "engine_msgs_per_s.%s.%s" % (fam, kind), (e.get(fam) or {}).get(kind), "messages/s",
             "micropython tests/bench/engine_rate.py (Unix port, no sockets; build --emit native, as the bench serves)")
        _fig(out, "engine_msgs_per_s_bytecode.%s.%s" % (fam, kind), (eb.get(fam) or {}).get(kind), "messages/s",
             "micropython tests/bench/engine_rate.py (Unix port, no sockets; bytecode, as the boards run)")
    m = res.get("mp") or {}
    h = m.get("heap") or {}
    mp_cmd = "micropython tests/bench/mp_measure.py"
    _fig(out, "heap_per_v4_lease.at_256", h.get("per_lease_at_256"), "bytes", mp_cmd)
    _fig(out, "heap_per_v4_lease.at_1024", h.get("per_lease_at_1024"), "bytes", mp_cmd)
    _fig(out, "heap_per_v4_lease.marginal", h.get("marginal_per_lease"), "bytes", mp_cmd)
    _fig(out, "heap_per_v4_lease.hostnames_read_back_at_1024", h.get("names_read_back_1024"), "leases", mp_cmd)
    hd = m.get("heap_duid") or {}
    _fig(out, "heap_per_v4_lease.rfc4361_client_ids.marginal", hd.get("marginal_per_lease"), "bytes",
         mp_cmd + " (every client sends a 19-byte RFC 4361 client-id: its fingerprint is in the arena)")
    h6 = (res.get("v6") or {}).get("heap") or {}
    _fig(out, "heap_per_v6_lease", h6.get("bytes_per_lease"), "bytes", "micropython tests/bench/mp_measure6.py")
    _fig(out, "heap_per_v6_lease.marginal", h6.get("marginal_per_lease"), "bytes",
         "micropython tests/bench/mp_measure6.py (heap at N less at N/4, over the leases between)")
    eng = m.get("engine") or {}
    _fig(out, "engine_heap_per_dora", eng.get("bytes_per_dora"), "bytes", mp_cmd)
    f = m.get("flash") or {}
    _fig(out, "journal_bytes.per_1000_new_leases", f.get("bytes_per_1000_new_leases"), "bytes", mp_cmd)
    _fig(out, "journal_bytes.per_1000_renewals", f.get("bytes_per_1000_renewals"), "bytes", mp_cmd)
    for k, v in profile(res).items():
        _fig(out, "hot_path_us." + k, v, "microseconds", mp_cmd + " + tests/bench/engine_rate.py")
    for key, name in (("fit", "v4_router"), ("fit_whole", "v4_v6_servers_and_clients")):
        fit = res.get(key) or {}
        _fig(out, "board_fit.%s_smallest_heap" % name, fit.get("smallest_heap_k"), "KB (-X heapsize, 64-bit)",
             "python -m host_tools bench (host_tools/bench_fit.py)")
        sp = fit.get("split") or {}
        for part in ("code", "state"):
            _fig(out, "board_fit.%s_%s_bytes" % (name, part), sp.get(part), "bytes (at that heap)",
                 "tests/bench/mp_fit.py (host_tools/bench_fit.py)")
        _fig(out, "board_fit.%s_mpy_bytes" % name, fit.get("mpy_bytes"), "bytes", "python -m host_tools build unix")
    y = res.get("mpy") or {}
    _fig(out, "mpy_bytes.all_modules", y.get("total_mpy"), "bytes", "mpy-cross (bytecode)")
    for k, v in sorted((y.get("boards") or {}).items()):
        if k != "error":
            _fig(out, "mpy_bytes." + k, v["mpy_bytes"], "bytes", "python -m host_tools build %s%s (+ Client4)" % (
                k.split("_")[0], " --viper" if k.endswith("viper") else ""))
    return out


def profile(res):
    """Where a DORA's time goes on the Unix port, each part measured alone: the engine's four
    messages, the adapter's two receives and two sends, one journal commit (fsync)."""
    e = res.get("engine_rate") or {}
    v4 = e.get("v4") or {}
    m = res.get("mp") or {}
    a = m.get("adapter") or {}
    j = m.get("journal") or {}
    out = {}
    if v4.get("DISCOVER") and v4.get("REQUEST"):
        out["engine_per_dora"] = 1e6 / v4["DISCOVER"] + 1e6 / v4["REQUEST"]
    if a.get("netif_us_per_packet"):
        out["sockets_per_dora"] = 2 * a["netif_us_per_packet"]  # a pair is one send + one recv
    if j.get("us_per_commit"):
        out["journal_commit"] = j["us_per_commit"]
    return out


def markdown(res, text_report):
    lines = ["# mpdhcp bench", "", "`%s`, %s, %s, %s cores" % (
        res.get("command"), res.get("date"), res.get("host"), res.get("cores")), "",
        "| figure | value | unit | command |", "|---|---|---|---|"]
    for f in res.get("figures", []):
        lines.append("| %s | %s | %s | `%s` |" % (f["name"], f["value"], f["unit"], f["command"]))
    prof = profile(res)
    if prof:
        lines += ["", "## The hot path, per DORA (each part measured alone)", "",
                  "| part | microseconds |", "|---|---|"]
        for k, v in prof.items():
            lines.append("| %s | %.1f |" % (k, v))
        lines.append("")
        lines.append("A journal commit (write + fsync) is shared by every REQUEST of a step (group "
                     "commit), so its share per DORA falls as the rate rises.")
    if res.get("plot"):
        lines += ["", "![loss against offered rate](%s)" % os.path.basename(res["plot"])]
    lines += ["", "## Full report", "", "```", text_report, "```", ""]
    return "\n".join(lines)


def plot(res, path):
    """Loss against offered rate for every server, DHCPv4 and DHCPv6; returns the path, or
    None without matplotlib or without perfdhcp runs."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    p4 = res.get("perf")
    p6 = (res.get("v6") or {}).get("perf")
    if not p4 and not p6:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, p, title in ((axes[0], p4, "DHCPv4 DORA (perfdhcp -4)"),
                         (axes[1], p6, "DHCPv6 Solicit-Request (perfdhcp -6)")):
        ax.set_title(title)
        ax.set_xlabel("offered rate (exchanges/s)")
        ax.set_ylabel("loss (%)")
        ax.axhline(1.0, color="grey", linestyle=":", linewidth=1)
        if not p:
            continue
        for name, s in p["servers"].items():
            pts = sorted((st["rate"], 100 * st["loss"]) for st in s["steps"] if st.get("loss") is not None)
            if pts:
                ax.plot([x for x, _ in pts], [y for _, y in pts], marker="o", label=name)
        ax.set_xscale("log")
        ax.set_ylim(-1, 60)
        ax.legend()
    fig.tight_layout()
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
