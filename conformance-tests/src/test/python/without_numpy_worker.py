"""The reference worker as it runs where numpy is not installed: a None entry in sys.modules makes
``import numpy`` raise ImportError. The data-plane rules must hold without numpy."""
import runpy
import sys

sys.modules["numpy"] = None
runpy.run_module("snakebridge_worker", run_name="__main__")
