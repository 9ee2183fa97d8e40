"""Serial bridge: codec vs pymavlink, pty round trip through the firmware, host CPU. Same as `robocoord bench bridge`."""

import sys

from robocoord.cli.main import app

if __name__ == "__main__":
    sys.exit(app(["bench", "bridge", *sys.argv[1:]]))
