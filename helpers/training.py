"""One training entry point for every chapter: profile-aware, seeded, timed, cached.

``fit`` compiles and trains a Keras model, prints one compact line per epoch, and stores the
trained weights under ``<cache>/models`` keyed by the architecture, the data, the optimiser and
the settings, so re-executing a chapter reuses them (set ``AEBOOK_RETRAIN=1`` or pass
``retrain=True`` to train again). Weights never go into the repository.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from helpers.data import cache_dir
from helpers.profiles import get_profile

RETRAIN_ENV = "AEBOOK_RETRAIN"
SESSION: list = []  # every TrainResult of this session, trained now or reused from the cache


@dataclass
class TrainResult:
    """What a training run produced, whether it ran now or was reused from the cache."""

    history: dict[str, list[float]]  # per-epoch metrics, e.g. "loss", "val_loss"
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


def _architecture(model) -> list:
    """Layer types, settings and weight shapes, leaving out the auto-generated layer names."""
    described = []
    for layer in model.layers:
        if hasattr(layer, "layers"):  # a nested model, e.g. the encoder inside an autoencoder
            described.append(_architecture(layer))
        else:
            config = {k: v for k, v in layer.get_config().items() if k != "name"}
            described.append([type(layer).__name__, config, [list(w.shape) for w in layer.weights]])
    return described


def _optimizer(optimizer, learning_rate):
    import keras

    if isinstance(optimizer, str):
        optimizer = keras.optimizers.get(optimizer)
        if learning_rate is not None:
            optimizer.learning_rate = learning_rate
    return optimizer


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


def fit(model, x, y=None, *, name: str, epochs: int, batch_size: int | None = None,
        optimizer="adam", learning_rate: float | None = None, loss="mse", metrics=None,
        validation_data=None, patience: int | None = None, seed: int = 42,
        retrain: bool | None = None, verbose: bool = True) -> TrainResult:
    """Compile and train ``model`` on ``x -> y`` (``y=None``: an autoencoder, ``y = x``).

    ``epochs`` is the full-profile count; the quick profile caps it. With ``patience`` and
    ``validation_data``, training stops early and keeps the best weights.
    """
    import keras

    profile = get_profile()
    epochs = profile.epochs(epochs)
    batch_size = batch_size or profile.batch_size
    y = x if y is None else y
    opt = _optimizer(optimizer, learning_rate)
    settings = {
        "name": name, "epochs": epochs, "batch_size": batch_size, "loss": str(loss),
        "optimizer": {k: v for k, v in keras.optimizers.serialize(opt)["config"].items() if k != "name"}
        | {"class": type(opt).__name__}, "patience": patience, "seed": seed,
        "model": _architecture(model), "profile": profile.name,
        "data": _fingerprint(x, y, *(validation_data or ())),
    }
    key = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:16]
    folder = cache_dir() / "models"
    weights, record = folder / f"{name}-{key}.weights.h5", folder / f"{name}-{key}.json"
    retrain = retrain if retrain is not None else os.environ.get(RETRAIN_ENV, "") not in ("", "0")
    model.compile(optimizer=opt, loss=loss, metrics=metrics)

    if weights.is_file() and record.is_file() and not retrain:
        with warnings.catch_warnings():  # the cached optimiser state is not needed
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            model.load_weights(weights)
        result = TrainResult(**json.loads(record.read_text()))
        result.reused = True
        if verbose:
            print(f"{name}: reused trained weights ({result.epochs} epochs, trained in "
                  f"{result.seconds:.0f} s); set {RETRAIN_ENV}=1 to train again")
        SESSION.append(result)
        return result

    keras.utils.set_random_seed(seed)
    callbacks = [_epoch_lines(epochs, len(x))] if verbose else []
    if patience is not None and validation_data is not None:
        callbacks.append(keras.callbacks.EarlyStopping(
            patience=patience, restore_best_weights=True, monitor="val_loss"))
    start = time.perf_counter()
    history = model.fit(x, y, epochs=epochs, batch_size=batch_size, shuffle=True,
                        validation_data=validation_data, callbacks=callbacks, verbose=0)
    seconds = time.perf_counter() - start
    run = len(history.history["loss"])
    result = TrainResult(
        history={k: [float(v) for v in vs] for k, vs in history.history.items()},
        epochs=run, seconds=seconds, images_per_second=run * len(x) / seconds,
        weights=str(weights), settings={k: settings[k] for k in ("epochs", "batch_size", "loss", "seed")},
    )
    folder.mkdir(parents=True, exist_ok=True)
    tmp = weights.with_name(f".{weights.name}.part.weights.h5")
    model.save_weights(tmp)
    os.replace(tmp, weights)
    record.write_text(json.dumps({k: v for k, v in asdict(result).items() if k != "reused"}))
    if verbose:
        print(f"{name}: {run} epochs in {seconds:.1f} s ({result.images_per_second:,.0f} img/s)")
    SESSION.append(result)
    return result


def record_training_time() -> float:
    """Record how long all of this chapter's training took (cached runs count their original time).

    ``helpers.environment.setup`` reads it back to warn readers without a GPU how long the chapter
    will take before it starts training.
    """
    import keras

    from helpers.environment import describe_device
    from helpers.results import record

    runs = {r.weights: r for r in SESSION}  # a run reused twice in one chapter counts once
    seconds = float(sum(r.seconds for r in runs.values()))
    device = describe_device(keras.backend.backend())
    record("training_time", {"seconds": seconds, "runs": len(runs), "device": device},
           f"sum of the wall times of the chapter's {len(runs)} training runs, each measured when "
           "it was trained (on this machine: cached weights are machine-local)")
    return seconds


def warmup_cosine(peak: float, epochs: int, n_images: int, batch_size: int = 128):
    """Learning rate rising linearly from 0 to ``peak`` (300 steps, at most a fifth of training),
    then decaying along a cosine to 0 at the last step of the last epoch."""
    import keras

    steps = epochs * math.ceil(n_images / batch_size)
    return keras.optimizers.schedules.CosineDecay(0.0, steps, warmup_target=peak,
                                                  warmup_steps=min(300, steps // 5))


def evaluate_mse(model, x, y=None, batch_size: int = 512) -> float:
    """Mean squared error per pixel of ``model(x)`` against ``y`` (default ``x``)."""
    y = x if y is None else y
    pred = model.predict(x, batch_size=batch_size, verbose=0)
    return float(np.mean((np.asarray(pred, dtype=np.float64) - y) ** 2))
