"""The test suite's settings: pm.settings, with a SITE_URL for e-mail links when none is set.

Production refuses to start without SITE_URL; the suite runs with DEBUG=0 and only needs links
that look real. Set in os.environ, so the workers, servers and commands that tests start in
subprocesses load the same value."""

import os

os.environ.setdefault("SITE_URL", "http://testserver")

from pm.settings import *  # noqa: E402, F403
