"""DrIGM training throughput (env steps/s) on the tiny game and on team_push. Same as `robocoord bench drigm`."""

import sys

from robocoord.cli.main import app

if __name__ == "__main__":
    sys.exit(app(["bench", "drigm", *sys.argv[1:]]))
