"""Policy inference latency: ORT through the artifact loader vs torch eager. Same as `robocoord bench policy`."""

import sys

from robocoord.cli.main import app

if __name__ == "__main__":
    sys.exit(app(["bench", "policy", *sys.argv[1:]]))
