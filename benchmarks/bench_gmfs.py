"""GMFS scale: training time at n = 25 vs n = 1000 (ratio), 1000-agent execution ms/step. Same as `robocoord bench gmfs`."""

import sys

from robocoord.cli.main import app

if __name__ == "__main__":
    sys.exit(app(["bench", "gmfs", *sys.argv[1:]]))
