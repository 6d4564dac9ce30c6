"""A plain, non-editable install carries configs/ and scenarios/ and runs from anywhere."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import pytest

from .conftest import REPO


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    dist = tmp_path_factory.mktemp("dist")
    out = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist), str(REPO)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    (whl,) = dist.glob("hssim-*.whl")
    return whl


def test_wheel_contains_data(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "hssim/_data/configs/config.yaml" in names
    assert "hssim/_data/configs/scenario/default.yaml" in names
    assert "hssim/_data/scenarios/synthetic_region/districts.csv" in names
    assert "hssim/_data/scenarios/synthetic_region/adjacency.csv" in names
    assert any(n.endswith("entry_points.txt") for n in names)
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "hssim = hssim.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()


def test_installed_wheel_runs_from_another_directory(wheel, tmp_path):
    target = tmp_path / "site"
    out = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    work = tmp_path / "work"
    work.mkdir()
    # Kernels run as plain Python (NUMBA_DISABLE_JIT): what this checks is the package
    # (its data found from anywhere, the installed copy used), not numba, and compiling
    # every kernel afresh for the installed copy took most of a minute of the suite.
    # The README's first command, compilation included, is measured by
    # benchmarks/bench_cli.py.
    env = {**os.environ, "PYTHONPATH": str(target), "NUMBA_CACHE_DIR": str(tmp_path / "numba-cache"),
           "NUMBA_DISABLE_JIT": "1"}
    code = "import hssim, sys; print(hssim.__file__); from hssim.cli import main; main()"
    run = subprocess.run(
        [sys.executable, "-c", code, "population.households=500", "months=3", "spinup_months=0", "output.figure=false"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[0].startswith(str(target)), "the installed copy, not the checkout, must be used"
    assert list((work / "outputs").rglob("summary.json"))
