import os
import sys

from .main import main

code = main()
sys.stdout.flush()
sys.stderr.flush()
# Leave without waiting for the stdin reader thread or library atexit work.
os._exit(code)
