# The Unix-port "board" (demo, tests, the pty board): nothing to bring up, the interfaces
# exist already (namespaces, bridges). Serves in a background thread so the REPL stays free.
#   cd BOARD_DIR && MICROPYPATH=.:.frozen micropython -i main.py   (or: exec(open("main.py").read()))
from mpdhcp import service
from mpdhcp.platform import thread as platform_thread
from mpdhcp.platform.netif_unix6 import NetifUnix6  # all of it: the config is read in start

CONFIG = "mpdhcp.json"  # relative: the board's filesystem is its working directory

platform_thread.start(CONFIG, NetifUnix6(), service.build, preload=service.preload)
service.unload()  # start-up only: off the heap once the service is built
del service
