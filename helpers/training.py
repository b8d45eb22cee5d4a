"""One training entry point for every chapter: profile-aware, seeded, timed, cached.

``fit`` compiles and trains a Keras model, prints one compact line per epoch, and stores the
trained weights under ``<cache>/models`` keyed by everything that decides them: the architecture,
the initial weights, the data, the optimiser, loss and schedule, the settings, the profile, the
Keras backend and version. Re-executing a chapter reuses them (set ``AEBOOK_RETRAIN=1`` or pass
``retrain=True`` to train again). Weights never go into the repository.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import time
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np

from helpers.data import cache_dir, check_not_test
from helpers.files import atomic_path, atomic_write
from helpers.profiles import get_profile

RETRAIN_ENV = "AEBOOK_RETRAIN"
CACHE_VERSION = 2  # bump when a helper changes what a training run produces
SESSION: list = []  # every TrainResult of this session, trained now or reused from the cache


@dataclass
class TrainResult:
    """What a training run produced, whether it ran now or was reused from the cache."""

    history: dict[str, list[float]]  # per-epoch metrics; "val_*" are on the validation data
    epochs: int  # epochs actually run (early stopping may cut them short)
    seconds: float  # wall time of the training itself
    images_per_second: float
    reused: bool = False
    weights: str = ""
    settings: dict = field(default_factory=dict)


def _fingerprint(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        if a is not None:
            a = np.ascontiguousarray(a)
            h.update(f"{a.shape}{a.dtype}".encode())
            h.update(a.tobytes())
    return h.hexdigest()[:16]


def _architecture(model) -> dict:
    """The model's functional configuration (layers, their settings and their wiring), with
    every layer name, often auto-generated (``dense_3``), replaced by the layer's position."""
    layers = list(model._flatten_layers(include_self=True, recursive=True))
    position = {layer.name: f"#{i}" for i, layer in enumerate(layers)}

    def canonical(node, key=None):
        if isinstance(node, dict):
            return {k: canonical(v, k) for k, v in node.items() if k != "compile_config"}
        if isinstance(node, list):
            if key in ("keras_history", "input_layers", "output_layers"):
                return [position.get(v, v) if isinstance(v, str) else canonical(v, key)
                        for v in node]
            return [canonical(v) for v in node]
        if key == "name" and isinstance(node, str):
            return position.get(node, node)
        return node

    config = json.loads(model.to_json())
    return canonical(config) | {"weight_shapes": [list(w.shape) for w in model.weights]}


def _code(objects) -> str:
    """A hash of the source of every class and function among ``objects`` (and their bases)
    that Keras does not define: editing a custom layer or loss invalidates its runs."""
    import inspect
    import sys

    sources = set()
    for obj in objects:
        found = [obj] if inspect.isfunction(obj) else list(type(obj).__mro__)
        for item in found:
            module = getattr(item, "__module__", "") or ""
            if module.split(".")[0] in ("keras", "builtins", "tensorflow", "jax", "torch"):
                continue
            for part in (item, sys.modules.get(module)):  # its module: what it calls
                try:
                    sources.add(inspect.getsource(part))
                except (TypeError, OSError):  # defined where no source is kept
                    sources.add(f"{module}.{getattr(part, '__qualname__', part)}")
    return hashlib.sha256("\n".join(sorted(sources)).encode()).hexdigest()[:16]


def _rng_variables(model) -> list:
    """The model's random-number states (e.g. dropout's seed generators), not in its weights."""
    weights = {id(w) for w in model.weights}
    return [v for v in model.variables if id(v) not in weights]


def _optimizer(optimizer, learning_rate):
    import keras

    if isinstance(optimizer, str):
        optimizer = keras.optimizers.get(optimizer)
        if learning_rate is not None:
            optimizer.learning_rate = learning_rate
    elif learning_rate is not None:
        raise ValueError("fit: learning_rate is for an optimizer given by name ('adam'); "
                         "set it on the optimizer object instead, e.g. "
                         "keras.optimizers.Adam(learning_rate)")
    return optimizer


def _checked_name(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name or "") or ".." in name:
        raise ValueError(f"fit: name {name!r} must be a plain file name (letters, digits, "
                         "'.', '_' and '-'; no folders): it names the cached weights")
    return name


def _unnamed(serialized):
    """A serialized Keras object without its name (often auto-generated: ``scaled_mse_1``)."""
    if isinstance(serialized, dict) and isinstance(serialized.get("config"), dict):
        serialized["config"].pop("name", None)
    return serialized


def _json(obj):
    """NumPy values in a layer's configuration as lists; nothing keyed by ``str`` (memory addresses)."""
    if hasattr(obj, "tolist"):
        return obj.tolist()
    raise TypeError(f"cannot key the weights cache on a {type(obj).__name__}: no stable description")


def _key(settings: dict) -> str:
    """The cache key of a run: a hash of its settings as JSON, in sorted order."""
    text = json.dumps(settings, sort_keys=True, default=_json)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _epoch_lines(epochs: int, n_images: int):
    """A Keras callback printing one short line per epoch (no progress-bar megabytes)."""
    import keras

    start = {}

    def on_epoch_end(epoch, logs):
        dt = time.perf_counter() - start["t"]
        metrics = "  ".join(f"{k} {v:.5f}" for k, v in logs.items() if k != "learning_rate")
        print(f"epoch {epoch + 1:>3}/{epochs}  {metrics}  {dt:5.1f} s  {n_images / dt:,.0f} img/s",
              flush=True)

    return keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: start.update(t=time.perf_counter()),
        on_epoch_end=on_epoch_end)


def _load(model, weights, record, initial: list) -> TrainResult | None:
    """The cached run, loaded into ``model``; None (with a warning if unreadable) on a miss."""
    if not (weights.is_file() and record.is_file()):
        return None
    try:
        content = json.loads(record.read_text())
        rng_states = content.pop("rng_states")
        result = TrainResult(**content)
        with warnings.catch_warnings():  # the cached optimiser state is not needed
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            model.load_weights(weights)
        for variable, state in zip(_rng_variables(model), rng_states, strict=True):
            variable.assign(np.asarray(state, dtype=variable.dtype))
    except (OSError, ValueError, TypeError, KeyError) as error:
        for variable, value in zip(model.variables, initial):  # undo a half-done load
            variable.assign(value)
        warnings.warn(f"unreadable cached run {weights.stem}, training again: {error}".splitlines()[0],
                      stacklevel=3)
        return None
    result.reused = True
    return result


def _save(model, result: TrainResult, weights, record) -> None:
    """Cache the trained weights and the run's record; warn and go on if the cache is not writable."""
    import keras

    rng_states = [keras.ops.convert_to_numpy(v).tolist() for v in _rng_variables(model)]
    try:
        weights.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(weights, suffix=".weights.h5") as tmp:
            model.save_weights(tmp)
        content = {k: v for k, v in asdict(result).items() if k != "reused"}
        atomic_write(record, json.dumps(content | {"rng_states": rng_states}))
    except OSError as error:
        warnings.warn(f"trained weights not cached in {weights.parent}: {error}", stacklevel=3)


def round_updates(steps: int, n_images: int, batch_size: int) -> int:
    """The updates in a round of ``fit(..., steps_per_epoch=steps)``.

    Keras's ``model.fit`` with ``steps_per_epoch`` ends an "epoch" after that many updates and
    starts the next one where it stopped in the data, reshuffled at every pass. A round is at
    most one pass (the quick profile's few images shorten it) and must divide a pass, so that
    every round is full and every image is used equally often.
    """
    per_pass = math.ceil(n_images / batch_size)
    steps = min(steps, per_pass)
    if steps < 1 or per_pass % steps:
        raise ValueError(f"fit: rounds of {steps} updates do not divide the {per_pass} "
                         f"batches of {batch_size} images in a pass")
    return steps


def fit(model, x, y=None, *, name: str, epochs: int, batch_size: int | None = None,
        steps_per_epoch: int | None = None, optimizer="adam",
        learning_rate: float | None = None, loss="mse", metrics=None, validation_data=None,
        patience: int | None = None, seed: int = 42,
        retrain: bool | None = None, verbose: bool = True) -> TrainResult:
    """Compile and train ``model`` on ``x -> y`` (``y=None``: an autoencoder, ``y = x``).

    ``epochs`` is the full-profile count; the quick profile caps it. ``validation_data`` is the
    validation part of the training data, never the test set: the ``val_*`` entries of the
    history are measured on it, and with ``patience`` training stops early and keeps the weights
    that scored best on it. Global random state is seeded with ``seed`` before training and
    re-seeded with ``seed + 1`` after it, so code after ``fit`` draws the same random numbers
    whether the run was trained now or reused from the cache.

    ``steps_per_epoch`` budgets a run in updates rather than passes: each "epoch" is then a
    round of that many updates (see :func:`round_updates`), with the validation loss measured
    after every round.
    """
    import keras

    profile = get_profile()
    epochs = profile.epochs(epochs)
    batch_size = batch_size or profile.batch_size
    name = _checked_name(name)
    if steps_per_epoch is not None:
        steps_per_epoch = round_updates(steps_per_epoch, len(x), batch_size)
    y = x if y is None else y
    checked = {}  # each array once (an autoencoder's y is its x)
    for what, array in (("x", x), ("y", y), *(
            (f"validation_data[{i}]", a) for i, a in enumerate(validation_data or ()))):
        checked.setdefault(id(array), (what, array))
    for what, array in checked.values():
        check_not_test(array, f"fit({name!r}): {what}")
    opt = _optimizer(optimizer, learning_rate)
    initial = [keras.ops.convert_to_numpy(v) for v in model.variables]  # weights and RNG states
    settings = {
        "cache_version": CACHE_VERSION,
        "name": name, "epochs": epochs, "batch_size": batch_size, "patience": patience, "seed": seed,
        "loss": _unnamed(keras.losses.serialize(keras.losses.get(loss))),
        "metrics": [m if isinstance(m, str) else _unnamed(keras.metrics.serialize(m))
                    for m in metrics or ()],
        "optimizer": _unnamed(keras.optimizers.serialize(opt)), "profile": profile.name,
        "model": _architecture(model),
        "code": _code([*model._flatten_layers(include_self=True, recursive=True), loss]),
        "initial_state": _fingerprint(*initial),
        "data": _fingerprint(x, y, *(validation_data or ())),
        "backend": keras.backend.backend(), "keras": keras.__version__,
    }
    if steps_per_epoch is not None:  # only then: the keys of runs by passes stay as they were
        settings["steps_per_epoch"] = steps_per_epoch
    key = _key(settings)
    folder = cache_dir() / "models"
    weights, record = folder / f"{name}-{key}.weights.h5", folder / f"{name}-{key}.json"
    retrain = retrain if retrain is not None else os.environ.get(RETRAIN_ENV, "") not in ("", "0")
    model.compile(optimizer=opt, loss=loss, metrics=metrics)
    keras.utils.set_random_seed(seed)

    result = None if retrain else _load(model, weights, record, initial)
    if result is not None:  # always said, so that nobody mistakes a reused run for a new one
        print(f"{name}: reused trained weights ({result.epochs} epochs, trained in "
              f"{result.seconds:.0f} s); set {RETRAIN_ENV}=1 to train again")
    else:
        per_epoch = len(x) if steps_per_epoch is None else steps_per_epoch * batch_size
        callbacks = [_epoch_lines(epochs, per_epoch)] if verbose else []
        if patience is not None and validation_data is not None:
            callbacks.append(keras.callbacks.EarlyStopping(
                patience=patience, restore_best_weights=True, monitor="val_loss"))
        start = time.perf_counter()
        history = model.fit(x, y, epochs=epochs, batch_size=batch_size,
                            steps_per_epoch=steps_per_epoch, shuffle=True,
                            validation_data=validation_data, callbacks=callbacks, verbose=0)
        seconds = time.perf_counter() - start
        run = len(history.history["loss"])
        result = TrainResult(
            history={k: [float(v) for v in vs] for k, vs in history.history.items()},
            epochs=run, seconds=seconds, images_per_second=run * per_epoch / seconds,
            weights=str(weights),
            settings={k: settings[k] for k in ("epochs", "batch_size", "steps_per_epoch", "loss",
                                               "seed") if k in settings},
        )
        _save(model, result, weights, record)
        if verbose:
            print(f"{name}: {run} epochs in {seconds:.1f} s ({result.images_per_second:,.0f} img/s)")
    keras.utils.set_random_seed(seed + 1)
    SESSION.append(result)
    return result


def record_training_time() -> float:
    """Record how long all of this chapter's training took (cached runs count their original time).

    ``helpers.environment.setup`` reads it back to warn readers without a GPU how long the chapter
    will take before it starts training.
    """
    import keras

    from helpers.environment import describe_device, seconds_since_setup, show_time
    from helpers.results import record

    runs: dict[str, list[TrainResult]] = {}
    for result in SESSION:
        runs.setdefault(result.weights, []).append(result)
    # a run trained in this execution and then reused by it counts once, inside the wall time
    reused = sum(rs[0].seconds for rs in runs.values() if all(r.reused for r in rs))
    seconds = float(sum(rs[0].seconds for rs in runs.values()))
    device = describe_device(keras.backend.backend())
    elapsed = seconds_since_setup()
    value = {"seconds": seconds, "runs": len(runs), "device": device,
             "chapter_seconds": None if elapsed is None else elapsed + reused,
             "from_empty_cache": not reused}
    record("training_time", value,
           f"seconds: sum of the wall times of the chapter's {len(runs)} training runs, each "
           "measured when it was trained (cached weights are machine-local); chapter_seconds: "
           "wall time of this execution, setup cell to this record, plus the original training "
           "time of every run it reused from the cache (so: the time from an empty cache)")
    show_time(value)
    return seconds


def warmup_cosine(peak: float, epochs: int, n_images: int, batch_size: int = 128):
    """Learning rate rising linearly from 0 to ``peak`` (300 steps, at most a fifth of training),
    then decaying along a cosine to 0 at step ``total`` (Keras' ``CosineDecay`` counts its
    ``decay_steps`` after the warm-up).

    An optimiser reads the schedule at its step count before counting the step, so the last of
    the ``total`` updates uses step ``total - 1``, where the rate is ``peak * sin(pi / 2d)^2`` for
    ``d`` decay steps (0.04% of ``peak`` for d = 80): practically 0, and no update is wasted on 0.
    """
    import keras

    total = epochs * math.ceil(n_images / batch_size)
    warmup = min(300, total // 5)
    return keras.optimizers.schedules.CosineDecay(0.0, total - warmup, warmup_target=peak,
                                                  warmup_steps=warmup)


def evaluate_mse(model, x, y=None, batch_size: int = 512) -> float:
    """Mean squared error per pixel of ``model(x)`` against ``y`` (default ``x``)."""
    y = x if y is None else y
    pred = model.predict(x, batch_size=batch_size, verbose=0)
    return float(np.mean((np.asarray(pred, dtype=np.float64) - y) ** 2))
