# mpdhcp host tools (CPython): python -m host_tools <verb> --help
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRMWARE = os.path.join(ROOT, "firmware")
