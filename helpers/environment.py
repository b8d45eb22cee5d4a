"""The first cell of every chapter: seeds, backend, device and profile, printed once."""

from __future__ import annotations

import contextlib
import logging
import os
import platform
import time

DEFAULT_SEED = 42
_started: float | None = None  # when setup() ran: the chapter's execution time starts there


def seconds_since_setup() -> float | None:
    """Wall time since this kernel's ``setup`` call (None before it)."""
    return None if _started is None else time.perf_counter() - _started


def describe_device(backend: str) -> str:
    """A one-line description of the accelerator the Keras backend will use."""
    if backend == "jax":
        import jax

        gpus = [d for d in jax.devices() if d.platform == "gpu"]
        return f"GPU: {gpus[0].device_kind} (JAX)" if gpus else _cpu()
    if backend == "torch":
        import torch

        return f"GPU: {torch.cuda.get_device_name(0)} (PyTorch)" if torch.cuda.is_available() else _cpu()
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            name = tf.config.experimental.get_device_details(gpus[0]).get("device_name", gpus[0].name)
            return f"GPU: {name} (TensorFlow)"
        return _cpu()
    return _cpu()


def _cpu() -> str:
    return f"CPU only ({os.cpu_count()} cores, {platform.machine()})"


@contextlib.contextmanager
def native_stderr_silenced():
    """Drop what C++ libraries write straight to file descriptor 2 (TensorFlow's start-up log)."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def setup(chapter: str | None = None, seed: int = DEFAULT_SEED) -> dict:
    """Seed every generator, quieten backend logs, print versions, device and run profile.

    ``chapter`` (the notebook's file stem) names where ``helpers.results.record`` writes.

    Returns the same facts as a dict so a chapter can record them with its results.
    """
    global _started
    if chapter or _started is None:  # a helper's own setup() does not restart the clock
        _started = time.perf_counter()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # hide TensorFlow's start-up chatter
    with native_stderr_silenced():
        import keras

        device = describe_device(keras.backend.backend())
    logging.getLogger("tensorflow").setLevel(logging.ERROR)  # its retracing notices, after import
    from helpers import plots, results
    from helpers.profiles import get_profile

    if chapter:
        results.set_chapter(chapter)

    keras.utils.set_random_seed(seed)  # Python, NumPy and the backend in one call
    plots.style()
    profile = get_profile()
    facts = {
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "device": device,
        "profile": profile.name,
        "seed": seed,
    }
    print(f"Keras {facts['keras']} | backend: {facts['backend']} | {facts['device']}")
    print(f"Run profile: {profile.name}"
          + ("" if profile.publishable else " (tiny subsets, few epochs: numbers NOT for publication)")
          + f" | seed: {seed}")
    if chapter and profile.publishable:
        _announce_time(results.results_dir() / f"{chapter}.json")
    return facts


def _minutes(seconds: float) -> str:
    return "under a minute" if seconds < 60 else f"{seconds / 60:.0f} min"


TIME_DISPLAY = "aebook-chapter-time"  # the setup cell's line on how long the chapter takes
_time_shown = False  # whether this kernel displayed that line, so that it can be updated


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return getattr(get_ipython(), "kernel", None) is not None


def _time_sentence(timing: dict) -> str:
    """How long the chapter took, from its ``training_time`` record."""
    total = timing.get("chapter_seconds")
    if total is None:  # recorded before chapter times were
        return (f"When this chapter was last run, its training took "
                f"{_minutes(timing['seconds'])} on {timing['device']}.")
    training = f", {_minutes(timing['seconds'])} of it training" if timing["runs"] else ""
    estimate = ("measured from an empty weights cache" if timing.get("from_empty_cache")
                else "estimated: that run's time plus the recorded training time of the "
                     "weights it reused from the cache")
    about = "about " if total >= 60 else ""
    return (f"When this chapter was last run, it took {about}{_minutes(total)} on "
            f"{timing['device']}{training} ({estimate}). Trained weights are cached "
            "(~/.cache/aebook/models), so a second run is faster.")


def _announce_time(path):
    """Say how long this chapter took when it was last run (its record), and on what.

    In a notebook the line is a display that ``show_time`` replaces with this run's own time
    when the chapter records it, so an executed notebook states how long that execution took.
    """
    global _time_shown
    import json

    try:
        text = _time_sentence(json.loads(path.read_text())["results"]["training_time"]["value"])
    except (OSError, ValueError, KeyError):
        text = None
    if _in_notebook():
        from IPython.display import display

        display({"text/plain": text or "This chapter records how long it took when it ends."},
                raw=True, display_id=TIME_DISPLAY)
        _time_shown = True
    elif text:
        print(text)


def show_time(timing: dict) -> None:
    """Replace the setup cell's time line with ``timing``, this run's record (in a notebook:
    the line is only displayed there)."""
    if _time_shown:
        from IPython.display import update_display

        update_display({"text/plain": _time_sentence(timing)}, raw=True, display_id=TIME_DISPLAY)


def show_source(obj) -> None:
    """Display the source of a helper (a model builder, say) so the reader can study it.

    It displays rather than returns, so that every call in a cell is shown, not just the last."""
    import inspect

    from IPython.display import Code, display

    display(Code(inspect.getsource(obj), language="python"))
