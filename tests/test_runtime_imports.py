"""The runtime must run on an installation PC without TensorFlow."""

import subprocess
import sys

import pytest


@pytest.mark.child
def test_runtime_modules_do_not_import_tensorflow():
    code = (
        "import sys, pkgutil, importlib, realtime\n"
        "names = [m.name for m in pkgutil.walk_packages(realtime.__path__, 'realtime.')]\n"
        "assert len(names) > 20, names\n"
        "for name in names: importlib.import_module(name)\n"
        "import realtime.cli, realtime.parser; realtime.parser.build_parser()\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'tf2onnx', 'ray')]\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
