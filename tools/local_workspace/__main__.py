"""Serve the local workspace standalone: python -m tools.local_workspace [--port N]."""

import argparse
import time
from pathlib import Path

from tools.local_workspace import LocalWorkspace, default_state_dir

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--state-dir", type=Path, default=default_state_dir())
parser.add_argument("--port", type=int, default=8765)
args = parser.parse_args()
workspace = LocalWorkspace(args.state_dir, port=args.port)
print(f"local workspace at {workspace.start()} (state in {args.state_dir}); Ctrl-C stops it")
try:
    while True:
        time.sleep(3600)
except KeyboardInterrupt:
    workspace.stop()
