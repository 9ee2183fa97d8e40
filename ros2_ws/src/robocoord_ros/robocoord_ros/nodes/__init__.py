"""One module per executable; each has a node class and ``main(args=None)``."""
