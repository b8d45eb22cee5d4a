"""The weights cache keys on everything that decides a trained model, and nothing else."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from helpers import training  # noqa: E402
from helpers.training import fit  # noqa: E402

from .test_training import data, quiet_fit, tiny_model  # noqa: E402, F401


def wired(seed=0, skip=False):
    """Two Dense layers of the same shapes, wired in sequence or with a skip connection."""
    keras.utils.set_random_seed(seed)
    x = keras.Input(shape=(8,))
    h = keras.layers.Dense(8)(x)
    out = keras.layers.Dense(8)(keras.layers.Add()([h, x]) if skip else h)
    return keras.Model(x, out)


def wired_other(seed=0, skip=False):
    """The same layers as ``wired`` but with an ``Add`` in both, fed differently."""
    keras.utils.set_random_seed(seed)
    x = keras.Input(shape=(8,))
    h = keras.layers.Dense(8)(x)
    add = keras.layers.Add()([h, h] if skip else [h, x])
    return keras.Model(x, keras.layers.Dense(8)(add))


def test_the_wiring_is_in_the_key(data):
    quiet_fit(wired_other(skip=False), data)
    assert quiet_fit(wired_other(skip=False), data).reused
    assert not quiet_fit(wired_other(skip=True), data).reused


def test_generated_layer_names_are_not_in_the_key(data):
    quiet_fit(tiny_model(), data)
    for _ in range(3):  # every new model gets new auto-generated names (dense_7, ...)
        keras.layers.Dense(1)
    assert quiet_fit(tiny_model(), data).reused


def loss_one():
    def loss(y_true, y_pred):
        return keras.ops.mean((y_true - y_pred) ** 2, axis=-1)
    return loss


def loss_two():
    def loss(y_true, y_pred):
        return keras.ops.mean(keras.ops.abs(y_true - y_pred), axis=-1)
    return loss


def test_two_functions_of_one_name_are_two_losses(data):
    quiet_fit(tiny_model(), data, loss=loss_one())
    assert quiet_fit(tiny_model(), data, loss=loss_one()).reused
    assert not quiet_fit(tiny_model(), data, loss=loss_two()).reused


def test_edited_code_of_a_custom_class_misses(data, monkeypatch):
    quiet_fit(tiny_model(), data)
    key_code = training._code([tiny_model()])
    monkeypatch.setattr(training, "_code", lambda objects: key_code + "edited")
    assert not quiet_fit(tiny_model(), data).reused


def test_a_custom_layer_is_keyed_by_its_module_source():
    from helpers import itl

    layer = itl.ITLRegularizer(np.zeros((4, 3), "float32"))
    assert training._code([layer]) != training._code([keras.layers.Dense(2)])
    assert training._code([keras.layers.Dense(2)]) == training._code([keras.layers.Dense(3)])


def test_the_cache_version_is_in_the_key(data, monkeypatch):
    quiet_fit(tiny_model(), data)
    monkeypatch.setattr(training, "CACHE_VERSION", training.CACHE_VERSION + 1)
    assert not quiet_fit(tiny_model(), data).reused


def test_validation_data_seed_and_patience_are_in_the_key(data):
    val = (data[:16], data[:16])
    quiet_fit(tiny_model(), data, validation_data=val, patience=2)
    assert quiet_fit(tiny_model(), data, validation_data=val, patience=2).reused
    assert not quiet_fit(tiny_model(), data, validation_data=(data[16:32],) * 2, patience=2).reused
    assert not quiet_fit(tiny_model(), data, validation_data=val, patience=3).reused
    assert not quiet_fit(tiny_model(), data, validation_data=val, patience=2, seed=7).reused


def test_early_stopping_restores_the_best_weights(data):
    """After stopping, the model is the one of the best validation epoch, not the last."""
    model = tiny_model()
    val = (data, data)
    run = fit(model, data, name="tiny", epochs=200, batch_size=64, learning_rate=20.0,
              optimizer="sgd", validation_data=val, patience=1, verbose=False)
    losses = run.history["val_loss"]
    assert run.epochs < 200 and np.argmin(losses) < len(losses) - 1  # it did stop after a worse one
    assert training.evaluate_mse(model, *val) == pytest.approx(min(losses), rel=1e-4)


def test_metric_objects_do_not_make_identical_runs_miss(data):
    quiet_fit(tiny_model(), data, metrics=[keras.metrics.MeanAbsoluteError()])
    assert quiet_fit(tiny_model(), data, metrics=[keras.metrics.MeanAbsoluteError()]).reused


def test_learning_rate_with_an_optimizer_object_is_refused(data):
    with pytest.raises(ValueError, match="learning_rate is for an optimizer given by name"):
        quiet_fit(tiny_model(), data, optimizer=keras.optimizers.Adam(), learning_rate=0.1)


@pytest.mark.parametrize("name", ["../evil", "a/b", "", ".hidden", "with space"])
def test_a_name_that_is_not_a_plain_file_name_is_refused(data, name):
    with pytest.raises(ValueError, match="plain file name"):
        quiet_fit(tiny_model(), data, name=name)


def test_a_model_trained_then_reused_in_one_execution_counts_once(data, tmp_path, monkeypatch):
    from helpers import environment, results

    (tmp_path / "_toc.yml").write_text("root: intro\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(training, "SESSION", [])
    environment.setup("98_clock")
    trained = quiet_fit(tiny_model(), data)
    quiet_fit(tiny_model(), data)  # reused within the same execution
    training.record_training_time()
    recorded = results.load("98_clock", tmp_path)["training_time"]["value"]
    assert recorded["from_empty_cache"] is True and recorded["runs"] == 1
    assert recorded["chapter_seconds"] < environment.seconds_since_setup() + 1e-6
    assert recorded["seconds"] == pytest.approx(trained.seconds)
    results.set_chapter(None)
