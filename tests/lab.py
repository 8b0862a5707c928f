# The namespace lab lives in host_tools/lab.py (the demo and bench use it too); tests import
# it as `lab`, and this makes that the very same module object.
import os
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
from host_tools import lab as _lab  # noqa: E402

sys.modules[__name__] = _lab
