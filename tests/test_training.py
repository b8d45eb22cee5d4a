"""helpers.training.fit: profile-aware epochs, compact output, and the trained-weights cache."""

import json
import os
import platform
import random
import subprocess
import sys

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from helpers import training  # noqa: E402
from helpers.training import evaluate_mse, fit, warmup_cosine  # noqa: E402

from .conftest import ROOT  # noqa: E402


def tiny_model(seed=0, dropout=0.0):
    keras.utils.set_random_seed(seed)  # the initial weights are part of the cache key
    x = keras.Input(shape=(8,))
    h = keras.layers.Dropout(dropout)(keras.layers.Dense(3)(x))
    return keras.Model(x, keras.layers.Dense(8, activation="sigmoid")(h))


@pytest.fixture
def data():
    return np.random.default_rng(0).random((64, 8)).astype("float32")


def quiet_fit(model, data, **kwargs):
    return fit(model, data, **{"name": "tiny", "epochs": 2, "batch_size": 16, "verbose": False,
                               **kwargs})


def test_fit_trains_prints_one_line_per_epoch_and_caches(data, capsys, isolated_data_env):
    model = tiny_model()
    first = fit(model, data, name="tiny", epochs=3, batch_size=16)
    out = capsys.readouterr().out
    assert [line.split()[:2] for line in out.splitlines()[:3]] == [["epoch", f"{i}/3"] for i in (1, 2, 3)]
    assert not first.reused and first.epochs == 3 and first.images_per_second > 0
    assert first.history["loss"][-1] < first.history["loss"][0]
    assert list((isolated_data_env / "models").glob("tiny-*.weights.h5"))

    again = tiny_model()
    second = fit(again, data, name="tiny", epochs=3, batch_size=16)
    assert second.reused and "reused trained weights" in capsys.readouterr().out
    assert second.history == first.history
    for a, b in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_cache_key_depends_on_data_and_settings(data):
    quiet_fit(tiny_model(), data)
    assert not quiet_fit(tiny_model(), data[:32]).reused
    assert not quiet_fit(tiny_model(), data, batch_size=8).reused
    assert not quiet_fit(tiny_model(), data, learning_rate=0.1).reused
    assert not quiet_fit(tiny_model(), data, metrics=["mae"]).reused
    assert quiet_fit(tiny_model(), data).reused
    assert not quiet_fit(tiny_model(), data, retrain=True).reused


def test_a_new_process_reuses_the_weights_of_an_identical_run(isolated_data_env):
    """Loss objects and schedules are keyed by their configuration, not their memory address."""
    script = """
import keras
import numpy as np
from tests.test_training import tiny_model
from helpers.training import fit, warmup_cosine
data = np.random.default_rng(0).random((64, 8)).astype("float32")
run = fit(tiny_model(), data, name="tiny", epochs=2, batch_size=16, verbose=False,
          loss=keras.losses.MeanSquaredError(),
          optimizer=keras.optimizers.Adam(warmup_cosine(1e-2, 2, 64, 16)))
print("reused" if run.reused else "trained")
"""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    outcomes = [subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, text=True,
                               capture_output=True, check=True).stdout.split()[-1] for _ in range(2)]
    assert outcomes == ["trained", "reused"]


def test_changed_initial_weights_miss(data):
    quiet_fit(tiny_model(seed=0), data)
    assert not quiet_fit(tiny_model(seed=1), data).reused
    model = tiny_model(seed=0)
    model.layers[1].kernel.assign(model.layers[1].kernel + 1e-3)
    assert not quiet_fit(model, data).reused
    assert quiet_fit(tiny_model(seed=0), data).reused


class ScaledMSE(keras.losses.Loss):
    """A loss class of the kind ``str()`` shows with a memory address."""

    def __init__(self, scale=1.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def call(self, y_true, y_pred):
        return self.scale * keras.ops.mean((y_true - y_pred) ** 2, axis=-1)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


def test_loss_objects_key_by_configuration(data):
    quiet_fit(tiny_model(), data, loss=ScaledMSE())
    assert quiet_fit(tiny_model(), data, loss=ScaledMSE()).reused
    assert not quiet_fit(tiny_model(), data, loss=ScaledMSE(scale=2.0)).reused
    assert not quiet_fit(tiny_model(), data, loss=keras.losses.MeanAbsoluteError()).reused
    assert not quiet_fit(tiny_model(), data, loss="binary_crossentropy").reused


def test_backend_and_keras_version_are_in_the_key(data, monkeypatch):
    quiet_fit(tiny_model(), data)
    with monkeypatch.context() as patch:
        patch.setattr(keras.backend, "backend", lambda: "some-other-backend")
        assert not quiet_fit(tiny_model(), data).reused
    with monkeypatch.context() as patch:
        patch.setattr(keras, "__version__", "0.0.1")
        assert not quiet_fit(tiny_model(), data).reused
    assert quiet_fit(tiny_model(), data).reused


def random_draws(model, data) -> list:
    """What code after ``fit`` might draw: every global generator and the model's own dropout."""
    return [np.random.rand(3), [random.random()], keras.ops.convert_to_numpy(keras.random.uniform((3,))),
            keras.ops.convert_to_numpy(keras.random.uniform((3,), seed=keras.random.SeedGenerator())),
            keras.ops.convert_to_numpy(model(data[:4], training=True))]


def test_random_state_after_fit_is_the_same_warm_or_cold(data):
    cold = tiny_model(dropout=0.5)
    assert not quiet_fit(cold, data).reused
    after_cold = random_draws(cold, data)
    np.random.rand(5)  # whatever happens in between
    random.random()
    warm = tiny_model(dropout=0.5)
    assert quiet_fit(warm, data).reused
    for a, b in zip(after_cold, random_draws(warm, data), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("damaged", ["json", "weights.h5"])
def test_a_corrupt_cache_entry_is_a_miss_that_retrains(data, isolated_data_env, damaged):
    first = quiet_fit(tiny_model(), data)
    (path,) = (isolated_data_env / "models").glob(f"tiny-*.{damaged}")
    path.write_bytes(b"\x00 not what was written")
    with pytest.warns(UserWarning, match="unreadable cached run tiny-") as caught:
        again = quiet_fit(tiny_model(), data)
    assert not again.reused and len(str(caught[0].message).splitlines()) == 1
    assert again.history == first.history  # trained from the same initial weights
    assert quiet_fit(tiny_model(), data).reused  # the retrained run replaced the damaged one


def test_an_unusable_cache_folder_warns_and_trains_without_caching(data, tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("AEBOOK_CACHE", str(tmp_path / "a-file" / "cache"))  # mkdir fails
    with pytest.warns(UserWarning, match="not cached"):
        assert quiet_fit(tiny_model(), data).epochs == 2


def test_a_failing_write_warns_and_leaves_no_cache_entry(data, monkeypatch, isolated_data_env):
    def read_only(*args):
        raise PermissionError("read-only file system")

    with monkeypatch.context() as patch, pytest.warns(UserWarning, match="not cached"):
        patch.setattr(training, "atomic_write", read_only)
        quiet_fit(tiny_model(), data)
    assert not list((isolated_data_env / "models").glob("*.json"))
    assert not quiet_fit(tiny_model(), data).reused


def test_retrain_environment_variable(data, monkeypatch):
    fit(tiny_model(), data, name="tiny", epochs=1, verbose=False)
    monkeypatch.setenv("AEBOOK_RETRAIN", "1")
    assert not fit(tiny_model(), data, name="tiny", epochs=1, verbose=False).reused


def test_quick_profile_caps_epochs(data, monkeypatch):
    monkeypatch.setenv("AEBOOK_PROFILE", "quick")
    assert fit(tiny_model(), data, name="tiny", epochs=30, verbose=False).epochs == 2


def test_early_stopping_keeps_best_weights(data):
    result = fit(tiny_model(), data, name="tiny", epochs=200, batch_size=64, learning_rate=20.0,
                 optimizer="sgd", validation_data=(data, data), patience=1, verbose=False)
    assert result.epochs < 200 and "val_loss" in result.history


def test_evaluate_mse():
    x = keras.Input(shape=(4,))
    identity = keras.Model(x, keras.layers.Identity()(x))
    data = np.linspace(0, 1, 8, dtype="float32").reshape(2, 4)
    assert evaluate_mse(identity, data) == 0
    assert evaluate_mse(identity, data, np.zeros_like(data)) == pytest.approx(np.mean(data ** 2))


def test_training_time_is_recorded_silently_and_announced(data, tmp_path, monkeypatch, capsys):
    from helpers import environment, results

    (tmp_path / "_toc.yml").write_text("root: intro\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(training, "SESSION", [])
    environment.setup("98_timing")  # no record yet: announces nothing
    assert "this chapter took" not in capsys.readouterr().out
    fit(tiny_model(), data, name="tiny", epochs=2, verbose=False)
    fit(tiny_model(), data, name="tiny", epochs=2, verbose=False)  # reused: counts once
    fit(tiny_model(), data, name="tiny", epochs=1, verbose=False)
    capsys.readouterr()
    seconds = training.record_training_time()
    assert capsys.readouterr().out == ""
    assert len(training.SESSION) == 3  # the reused run counts once, with its original time
    assert seconds == pytest.approx(training.SESSION[0].seconds + training.SESSION[2].seconds)
    recorded = results.load("98_timing", tmp_path)["training_time"]["value"]
    assert recorded["runs"] == 2 and recorded["device"].startswith("CPU")
    # both runs were trained in this execution: its wall time is the time from an empty cache
    assert recorded["from_empty_cache"] is True
    assert recorded["chapter_seconds"] <= environment.seconds_since_setup()
    environment.setup("98_timing")
    out = capsys.readouterr().out
    assert "When this chapter was last run, it took under a minute on CPU" in out
    assert ", under a minute of it training (measured from an empty weights cache)." in out
    results.set_chapter(None)


def test_a_chapter_that_reused_weights_announces_an_estimate(data, tmp_path, monkeypatch,
                                                              capsys):
    from helpers import environment, results

    (tmp_path / "_toc.yml").write_text("root: intro\n")
    monkeypatch.chdir(tmp_path)
    fit(tiny_model(), data, name="tiny", epochs=2, verbose=False)  # an earlier execution
    monkeypatch.setattr(training, "SESSION", [])
    environment.setup("98_timing")
    reused = fit(tiny_model(), data, name="tiny", epochs=2, verbose=False)
    assert reused.reused
    training.record_training_time()
    recorded = results.load("98_timing", tmp_path)["training_time"]["value"]
    assert recorded["from_empty_cache"] is False
    assert recorded["chapter_seconds"] >= reused.seconds
    capsys.readouterr()
    environment.setup("98_timing")
    assert "estimated: that run's time plus the recorded training time" in capsys.readouterr().out
    results.set_chapter(None)


def test_a_run_starts_the_chapter_results_afresh(tmp_path, monkeypatch):
    from helpers import results

    (tmp_path / "_toc.yml").write_text("root: intro\n")
    monkeypatch.chdir(tmp_path)
    results.set_chapter("97_fresh")
    results.record("old.key", 1.0, "p")
    results.record("kept.key", 2.0, "p")
    results.set_chapter("97_fresh")  # the chapter is executed again
    results.record("new.key", 3.0, "p")
    assert set(results.load("97_fresh", tmp_path)) == {"new.key"}
    results.set_chapter(None)


def test_warmup_cosine_schedule():
    schedule = warmup_cosine(2e-3, epochs=10, n_images=1280, batch_size=128)  # 100 steps, warm-up 20
    lr = [float(keras.ops.convert_to_numpy(schedule(step))) for step in (0, 10, 20, 60, 99, 100)]
    assert lr[0] == 0 and lr[1] == pytest.approx(1e-3) and lr[2] == pytest.approx(2e-3)
    assert 0 < lr[3] < 2e-3
    assert lr[4] == pytest.approx(2e-3 * np.sin(np.pi / 160) ** 2, rel=1e-3) and lr[4] < 1e-3 * 2e-3
    assert lr[5] == pytest.approx(0, abs=1e-12)


def test_the_last_update_uses_a_learning_rate_of_practically_zero(data):
    """Optimisers read the schedule at ``iterations`` before counting the step: the first update
    uses step 0 (rate 0, the weights stay put), so the last of ``total`` updates uses ``total - 1``."""
    peak, model = 1.0, tiny_model()
    optimizer = keras.optimizers.SGD(warmup_cosine(peak, 5, len(data), 16))  # 20 steps, warm-up 4
    model.compile(optimizer=optimizer, loss="mse")
    before = model.get_weights()
    model.fit(data[:16], data[:16], epochs=1, batch_size=16, verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    model.fit(data, data, epochs=5, batch_size=16, verbose=0)  # 4 steps an epoch, as planned
    assert int(optimizer.iterations) == 1 + 20
    optimizer.iterations.assign(20 - 1)
    assert float(keras.ops.convert_to_numpy(optimizer.learning_rate)) < 0.02 * peak


def test_a_helpers_own_setup_does_not_restart_the_chapters_clock(monkeypatch):
    """Chapter 5 runs the command line (which calls ``setup()``) before it records its time."""
    from helpers import environment

    clock = iter([100.0, 130.0, 160.0])
    monkeypatch.setattr(environment.time, "perf_counter", lambda: next(clock))
    monkeypatch.setattr(environment, "_started", None)
    environment.setup()  # a command line on its own: starts the clock (100)
    environment.setup("98_timing")  # a chapter: restarts it (130)
    environment.setup()  # the command line inside the chapter: leaves it
    assert environment.seconds_since_setup() == 30.0  # 160 - 130
    from helpers import results

    results.set_chapter(None)


def test_improved_conv_recipe_trains_the_undercomplete_variant_on_request():
    from helpers import recipes

    x = np.random.default_rng(0).random((32, 28, 28, 1)).astype("float32")
    encoder, _, autoencoder, run = recipes.improved_conv_ae(
        "tiny_bottleneck", x, x[:8], epochs=1, verbose=False, code_size=5)
    assert encoder.output_shape == (None, 5) and run.epochs == 1
    assert autoencoder.name == "conv_ae_bottleneck_autoencoder"
    default = recipes.improved_conv_ae("tiny_map", x, x[:8], epochs=1, verbose=False)
    assert default[0].output_shape == (None, 7, 7, 32)


def rounds_fit(model, data, **kwargs):
    """``fit`` budgeted in updates: ``epochs`` rounds of ``steps_per_epoch`` updates."""
    return fit(model, data, **{"name": "tiny", "batch_size": 16, "verbose": False,
                               "optimizer": keras.optimizers.SGD(0.1), **kwargs})


def test_steps_per_epoch_measures_the_validation_loss_once_a_round(data, capsys):
    before = len(training.SESSION)
    run = rounds_fit(tiny_model(), data, epochs=6, steps_per_epoch=2,
                     validation_data=(data[:16], data[:16]), verbose=True)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("epoch")]
    assert len(lines) == 6 and lines[0].endswith("img/s")
    assert run.epochs == 6 and not run.reused and run.settings["steps_per_epoch"] == 2
    assert len(run.history["loss"]) == len(run.history["val_loss"]) == 6
    assert run.history["val_loss"][-1] < run.history["val_loss"][0]
    assert run.images_per_second > 0 and run.weights.endswith(".weights.h5")
    assert training.SESSION[before:] == [run]


def test_rounds_continue_through_the_data(data):
    """Rounds of 2 updates of 16 images: 2 rounds see the 64 images once, exactly as 1 epoch of
    4 updates does (same seed, same shuffle); 6 rounds, as 3 epochs do."""
    for rounds, steps, epochs in ((2, 2, 1), (6, 2, 3)):
        runs = []
        for kwargs in ({"epochs": rounds, "steps_per_epoch": steps}, {"epochs": epochs}):
            model = tiny_model()
            rounds_fit(model, data, optimizer=keras.optimizers.SGD(0.5), retrain=True, **kwargs)
            runs.append(model.get_weights())
        for a, b in zip(*runs, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_a_round_must_divide_a_pass(data):
    with pytest.raises(ValueError, match="do not divide the 4 batches"):
        rounds_fit(tiny_model(), data, epochs=2, steps_per_epoch=3)
    with pytest.raises(ValueError, match="do not divide"):
        rounds_fit(tiny_model(), data, epochs=2, steps_per_epoch=0)
    assert training.round_updates(4, 64, 16) == 4 and training.round_updates(1, 64, 16) == 1
    assert training.round_updates(211, 54_000, 32) == 211  # 1,688 batches: 8 rounds
    assert training.round_updates(9, 64, 16) == 4  # at most a pass
    assert training.round_updates(5, 65, 16) == 5  # 5 batches, the last of 1 image


def test_quick_profile_caps_rounds_and_shortens_them(data, monkeypatch):
    monkeypatch.setenv("AEBOOK_PROFILE", "quick")
    run = rounds_fit(tiny_model(), data, epochs=5, steps_per_epoch=8)
    assert run.epochs == 2 and run.settings["steps_per_epoch"] == 4


def test_training_and_validation_data_pass_the_test_guard(data, monkeypatch):
    calls = []
    guard = training.check_not_test
    monkeypatch.setattr(training, "check_not_test",
                        lambda array, what: calls.append(what) or guard(array, what))
    rounds_fit(tiny_model(), data, epochs=1, steps_per_epoch=4,
               validation_data=(data[:8], data[8:16]))
    assert calls == ["fit('tiny'): x", "fit('tiny'): validation_data[0]",
                     "fit('tiny'): validation_data[1]"]


def test_an_executed_notebook_states_how_long_that_execution_took(tmp_path, monkeypatch):
    """In a real kernel: the setup cell's time line is replaced, when the chapter records its
    time, by that execution's own figure (so a re-executed chapter never shows an older one)."""
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    (tmp_path / "_toc.yml").write_text("root: intro\n")
    monkeypatch.setenv("AEBOOK_PROFILE", "full")
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("from helpers.environment import setup\n"
                                  "setup('98_timing')"),
        nbformat.v4.new_code_cell("from helpers.training import record_training_time\n"
                                  "record_training_time();"),
    ]

    def time_lines():
        NotebookClient(nb, timeout=120, resources={"metadata": {"path": str(tmp_path)}}).execute()
        return [o["data"]["text/plain"] for o in nb.cells[0].outputs
                if o.get("output_type") == "display_data"]

    assert time_lines() == [  # no record at the start: replaced by this run's own
        "When this chapter was last run, it took under a minute on CPU only "
        f"({os.cpu_count()} cores, {platform.machine()}) (measured from an empty weights "
        "cache). Trained weights are cached (~/.cache/aebook/models), so a second run is "
        "faster."]
    assert nb.cells[1].outputs == []  # recording the time prints nothing
    recorded = json.loads((tmp_path / "results" / "98_timing.json").read_text())
    recorded["results"]["training_time"]["value"]["chapter_seconds"] = 600.0  # an older run
    (tmp_path / "results" / "98_timing.json").write_text(json.dumps(recorded))
    (line,) = time_lines()
    assert "about 10 min" not in line and "under a minute" in line
