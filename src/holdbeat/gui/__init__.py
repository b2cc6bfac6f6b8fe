"""The live window: a pure model (model.py), palette, and the Qt widgets (window.py).

`model` and `palette` import no Qt, so they can be used and tested without a display.
"""
