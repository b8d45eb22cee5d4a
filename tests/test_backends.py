"""Backend parity: every helper model trains on each Keras backend installed here.

CI installs TensorFlow and JAX (CPU); PyTorch is checked when it is installed.
"""

import importlib.util
import os
import subprocess
import sys

import pytest

from .conftest import ROOT

BACKENDS = ["tensorflow", "jax", "torch"]
REQUIRED = {"tensorflow", "jax"}  # what requirements.txt installs: these must not be skipped


@pytest.mark.parametrize("backend", BACKENDS)
def test_models_train_on_backend(backend):
    module = backend
    if importlib.util.find_spec(module) is None:
        if backend in REQUIRED:
            pytest.fail(f"{backend} is in requirements.txt but not installed")
        pytest.skip(f"{backend} not installed")
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3",
           "JAX_PLATFORMS": "cpu", "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run([sys.executable, "-m", "tests.backend_smoke"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    print(proc.stdout)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    assert proc.stdout.count(" ok") == 12
