"""The trainer dashboard (Solara): prevention vs late response on the same random draws.

Start it with ``hssim-dashboard`` (binds 127.0.0.1:8765 by default). Needs the
``dashboard`` extra: ``pip install 'hssim[dashboard]'``.
"""
