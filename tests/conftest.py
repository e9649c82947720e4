"""Suite-wide settings that make a run independent of chance and of earlier runs.

* Hypothesis runs derandomized and without its example database: a clone that once found a
  failing example must not fail differently from a fresh one (``.hypothesis/`` is not read or
  written). ``PODC_HYPOTHESIS=explore`` restores random search with a database for bug hunting.
* Every temporary file the tests (and the podc processes they start) create goes to one folder
  that is removed when the run ends, so a run leaves nothing in the system temp folder (crash
  logs of deliberately provoked internal errors, emulator folders…). ``PODC_KEEP_TEST_TMP=1``
  keeps it for debugging.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from hypothesis import settings

settings.register_profile("podc", database=None, derandomize=True, print_blob=True)
settings.register_profile("explore", print_blob=True)
settings.load_profile("explore" if os.environ.get("PODC_HYPOTHESIS") == "explore" else "podc")

_OWNER = "PODC_TEST_TMPDIR"  # set by the process that created the folder; xdist workers inherit it


def pytest_configure(config) -> None:
    if os.environ.get(_OWNER):  # an xdist worker: the controller's folder is already TMPDIR
        return
    folder = tempfile.mkdtemp(prefix="podc-tests-")
    config._podc_saved_tmpdir = os.environ.get("TMPDIR")
    os.environ[_OWNER] = folder
    os.environ["TMPDIR"] = folder
    tempfile.tempdir = folder
    config._podc_tmpdir = folder


def pytest_unconfigure(config) -> None:
    folder = getattr(config, "_podc_tmpdir", None)
    if folder is None or os.environ.get("PODC_KEEP_TEST_TMP"):
        return
    tempfile.tempdir = None
    saved = getattr(config, "_podc_saved_tmpdir", None)
    if saved is None:
        os.environ.pop("TMPDIR", None)
    else:
        os.environ["TMPDIR"] = saved
    os.environ.pop(_OWNER, None)
    shutil.rmtree(folder, ignore_errors=True)
