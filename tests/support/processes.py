"""Start real server processes on loopback for integration tests, and always stop them.

The launcher lives in devenv (the benchmarks use it too); tests import it from here.
"""

from devenv.gunicorn import ROOT, GunicornServer, clean_env
from devenv.process import free_port

__all__ = ["ROOT", "GunicornServer", "clean_env", "free_port"]
