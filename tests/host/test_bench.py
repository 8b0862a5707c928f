# bench's summary (no bench is run here: a result shaped like run()'s): text and Tables that
# output.plain renders for bench.md and a pipe, numbers right-aligned.
from host_tools import bench, output

RES = {"command": "python -m host_tools bench", "date": "2026-11-01 10:00", "host": "Linux", "cores": 2,
       "versions": {"micropython": "1.28.0"}, "elapsed_s": 12.4,
       "perf": {"duration_s": 5, "pool_size": 64512, "loss_limit": 0.01, "servers": {
           "mpdhcp": {"best_rate": 800, "best_achieved": 795.2, "best_loss": 0.002, "first_fail_rate": 1600,
                      "steps": [{"rate": 800, "loss": 0.002, "server_alive": True},
                                {"rate": 1600, "loss": 0.2, "server_alive": True}]}}},
       "mpy": {"mpy_cross": "mpy-cross 1.29", "total_source": 1200, "total_mpy": 500,
               "modules": {"runner": {"source": 1000, "mpy": 500}, "broken": {"source": 200, "mpy": None}}}}


def test_the_summary_renders_as_plain_tables():
    parts = bench.report(RES)
    assert sum(isinstance(p, output.Table) for p in parts) == 2
    text = output.plain(*parts).splitlines()
    i = text.index("  server         best rate/s  achieved/s  loss at best  first fail  steps (rate:loss%)")
    assert text[i + 1] == "  mpdhcp (ours)          800         795         0.20%        1600  800:0.2 1600:20.0"
    j = text.index("  module  source bytes  .mpy bytes")
    assert text[j + 1:j + 4] == ["  broken           200           -", "  runner          1000         500",
                                 "  total           1200         500"]
    assert text[-1] == "total time 12 s"
