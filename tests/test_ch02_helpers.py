"""helpers.training.fit_rounds: training budgeted in updates (chapter 2)."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from helpers import training  # noqa: E402
from helpers.training import fit_rounds  # noqa: E402


def tiny_model(seed=0):
    keras.utils.set_random_seed(seed)
    x = keras.Input(shape=(8,))
    h = keras.layers.Dense(3)(x)
    return keras.Model(x, keras.layers.Dense(8, activation="sigmoid")(h))


@pytest.fixture
def data():
    return np.random.default_rng(0).random((64, 8)).astype("float32")


def test_one_validation_loss_per_round_and_counted_once(data):
    before = len(training.SESSION)
    run = fit_rounds(tiny_model(), data, name="tiny", rounds=6, steps=2,
                     optimizer=keras.optimizers.SGD(0.1), batch_size=16,
                     validation_data=(data[:16], data[:16]))
    assert run.epochs == 6 and not run.reused
    assert len(run.history["loss"]) == len(run.history["val_loss"]) == 6
    assert run.history["val_loss"][-1] < run.history["val_loss"][0]
    assert run.images_per_second > 0 and run.weights == "tiny (not cached)"
    assert training.SESSION[before:] == [run]


def test_rounds_continue_through_the_data(data):
    """Rounds of 2 updates of 16 images: 2 rounds see the 64 images once,
    exactly as 1 epoch of 4 updates does (same seed, same shuffle)."""
    runs = []
    for rounds, steps in ((2, 2), (1, 4)):
        model = tiny_model()
        fit_rounds(model, data, name="tiny", rounds=rounds, steps=steps,
                   optimizer=keras.optimizers.SGD(0.5), batch_size=16)
        runs.append(model.get_weights())
    for a, b in zip(*runs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_a_round_must_divide_a_pass(data):
    with pytest.raises(ValueError, match="do not divide"):
        fit_rounds(tiny_model(), data, name="tiny", rounds=2, steps=3,
                   optimizer="sgd", batch_size=16)


def test_quick_profile_caps_rounds_and_shortens_them(data, monkeypatch):
    monkeypatch.setenv("AEBOOK_PROFILE", "quick")
    run = fit_rounds(tiny_model(), data, name="tiny", rounds=5, steps=8,
                     optimizer="sgd", batch_size=16)
    assert run.epochs == 2 and run.settings["steps"] == 4


def test_training_and_validation_data_pass_the_test_guard(data, monkeypatch):
    calls = []
    guard = training.check_not_test
    monkeypatch.setattr(training, "check_not_test",
                        lambda array, what: calls.append(what) or guard(array, what))
    fit_rounds(tiny_model(), data, name="tiny", rounds=1, steps=4,
               optimizer="sgd", batch_size=16,
               validation_data=(data[:8], data[:8]))
    assert calls == ["fit_rounds('tiny'): x", "fit_rounds('tiny'): validation_data[0]",
                     "fit_rounds('tiny'): validation_data[1]"]
