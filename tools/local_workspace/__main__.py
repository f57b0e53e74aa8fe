"""Serve the local workspace standalone: python -m tools.local_workspace [--port N].

Without --port it uses LAKEFLOW_LOCAL_PORT, else a free port. Clients authenticate with the
bearer token in <state dir>/token (readable by its owner only).
"""

import argparse
import time
from pathlib import Path

from tools.local_workspace import LocalWorkspace, default_state_dir

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--state-dir", type=Path, default=default_state_dir())
parser.add_argument("--port", type=int, default=None)
args = parser.parse_args()
workspace = LocalWorkspace(args.state_dir, port=args.port)
url = workspace.start()
print(f"local workspace at {url}, token in {workspace.store.token_path}; Ctrl-C stops it")
try:
    while True:
        time.sleep(3600)
except KeyboardInterrupt:
    workspace.stop()
