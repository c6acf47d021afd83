# Started by the engine as `python -I -u -B run.py`. -I keeps the host's PYTHON* variables, user
# site-packages and the script's own directory off the import path, so add the harness explicitly.
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from graphbox_harness.main import main  # noqa: E402

main()
