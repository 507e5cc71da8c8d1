"""The image's health check: exit 0 when the server in this container answers /readyz with 200.

Only the standard library, so that a check every few seconds costs little.
"""

import os
import sys
import urllib.request

url = f"http://127.0.0.1:{os.environ.get('MUSTER_PORT', '8000')}/readyz"
try:
    with urllib.request.urlopen(url, timeout=4):
        pass
except OSError as error:  # refused, timed out, or an HTTP error status such as 503
    sys.exit(f"not ready: {error}")
