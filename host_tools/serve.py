# `serve CONFIG`: run the firmware on the Unix port in the foreground, in this namespace.
# The Unix port has no signal module, so SIGTERM would kill it without its closing steps;
# this wrapper turns SIGTERM (and SIGINT) into a SIGINT for the child, which the firmware
# handles as KeyboardInterrupt: journal closed, sockets closed, "mpdhcp: stopped".
import signal
import subprocess
import time

from .paths import micropython, mp_env


RESEND_S = 20  # seconds after a forwarded stop before asking again


def add_parser(sub):
    p = sub.add_parser("serve", help="run mpdhcp under the MicroPython Unix port (foreground)")
    p.add_argument("config", help="JSON config file (Kea Dhcp4 subset)")
    p.add_argument("--heapsize", default=None, help="MicroPython heap size, e.g. 256K (board-like)")
    p.add_argument("--native", action="store_true",
                   help="run this machine's machine-code build (build/native-unix, made first): "
                   "~25%% faster engines than the bytecode of firmware/")
    p.set_defaults(func=run)


def command(config, heapsize=None):
    argv = [micropython()]
    if heapsize:
        argv += ["-X", "heapsize=" + heapsize]
    return argv + ["-m", "mpdhcp", config]


def run(args):
    if args.native:
        from .build import native_env

        env = native_env()
    else:
        env = mp_env()
    child = subprocess.Popen(command(args.config, args.heapsize), env=env)
    asked = []  # when the first stop was forwarded

    def forward(signum, frame):
        if child.poll() is None:
            child.send_signal(signal.SIGINT)
            if not asked:
                asked.append(time.monotonic())

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    while True:
        try:
            return child.wait(timeout=1)
        except subprocess.TimeoutExpired:
            # Under load the Unix port has been seen to drop a SIGINT (still serving 60 s
            # later; a second one stopped it cleanly). Ask once more after the longest clean
            # stop (a DHCPv6 Release gives up after ~15 s); a SIGINT that is still pending
            # would instead end the child at once (the port exits on a second one).
            if len(asked) == 1 and time.monotonic() - asked[0] > RESEND_S and child.poll() is None:
                asked.append(time.monotonic())
                child.send_signal(signal.SIGINT)
        except KeyboardInterrupt:
            continue
