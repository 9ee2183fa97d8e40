"""The one ``robocoord`` command line (typer). Layers attach their commands in ``<layer>/cli.py``."""
