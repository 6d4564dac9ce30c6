"""Start-up hook of the processes a sweep test starts with ``tests.sweep_faults.fault_env``:
install the fault it names (nothing otherwise). Only on ``PYTHONPATH`` in those tests."""

import os

if os.environ.get("HSSIM_TEST_FAULT"):
    from tests.sweep_faults import install_from_env

    install_from_env()
