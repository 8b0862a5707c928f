# pytest loads this first: it puts tests/host on the path so the tests can import hostutil.
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostutil  # noqa: E402,F401
