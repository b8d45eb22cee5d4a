"""helpers.training.fit: profile-aware epochs, compact output, and the trained-weights cache."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from helpers.training import evaluate_mse, fit  # noqa: E402


def tiny_model():
    x = keras.Input(shape=(8,))
    return keras.Model(x, keras.layers.Dense(8, activation="sigmoid")(keras.layers.Dense(3)(x)))


@pytest.fixture
def data():
    return np.random.default_rng(0).random((64, 8)).astype("float32")


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
    fit(tiny_model(), data, name="tiny", epochs=2, batch_size=16, verbose=False)
    assert not fit(tiny_model(), data[:32], name="tiny", epochs=2, batch_size=16, verbose=False).reused
    assert not fit(tiny_model(), data, name="tiny", epochs=2, batch_size=8, verbose=False).reused
    assert not fit(tiny_model(), data, name="tiny", epochs=2, batch_size=16, learning_rate=0.1,
                   verbose=False).reused
    assert fit(tiny_model(), data, name="tiny", epochs=2, batch_size=16, verbose=False).reused
    assert not fit(tiny_model(), data, name="tiny", epochs=2, batch_size=16, retrain=True,
                   verbose=False).reused


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
    assert result.epochs < 200


def test_evaluate_mse():
    x = keras.Input(shape=(4,))
    identity = keras.Model(x, keras.layers.Identity()(x))
    data = np.linspace(0, 1, 8, dtype="float32").reshape(2, 4)
    assert evaluate_mse(identity, data) == 0
    assert evaluate_mse(identity, data, np.zeros_like(data)) == pytest.approx(np.mean(data ** 2))


def test_training_time_is_recorded_and_announced(data, tmp_path, monkeypatch, capsys):
    from helpers import environment, results, training

    (tmp_path / "_toc.yml").write_text("root: intro\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(training, "SESSION", [])
    results.set_chapter("98_timing")
    fit(tiny_model(), data, name="tiny", epochs=2, verbose=False)
    fit(tiny_model(), data, name="tiny", epochs=2, verbose=False)  # reused: counts its original time
    fit(tiny_model(), data, name="tiny", epochs=1, verbose=False)
    seconds = training.record_training_time()
    assert len(training.SESSION) == 3  # the reused run counts once, with its original time
    assert seconds == pytest.approx(training.SESSION[0].seconds + training.SESSION[2].seconds)
    recorded = results.load("98_timing", tmp_path)["training_time"]["value"]
    assert recorded["runs"] == 2 and recorded["device"].startswith("CPU")
    capsys.readouterr()
    environment.setup("98_timing")
    assert "No GPU found. Training this chapter from scratch took" in capsys.readouterr().out
    results.set_chapter(None)


def test_warmup_cosine_schedule():
    from helpers.training import warmup_cosine

    schedule = warmup_cosine(2e-3, epochs=10, n_images=1280, batch_size=128)  # 100 steps, warm-up 20
    lr = [float(keras.ops.convert_to_numpy(schedule(step))) for step in (0, 10, 20, 60, 120)]
    assert lr[0] == 0 and lr[1] == pytest.approx(1e-3) and lr[2] == pytest.approx(2e-3)
    assert 0 < lr[3] < 2e-3 and lr[4] == pytest.approx(0, abs=1e-9)
