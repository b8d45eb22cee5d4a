"""The weights cache keys on everything that decides a trained model, and nothing else."""

import hashlib
import os
import re
import sys

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from helpers import training  # noqa: E402
from helpers.training import evaluate_mse, fit  # noqa: E402

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


def test_patience_counts_the_epochs_without_improvement_and_none_means_no_stopping(data):
    """A learning rate of 0 never improves the validation loss after the first epoch."""
    val, frozen = (data, data), dict(optimizer="sgd", learning_rate=0.0, epochs=8)
    assert quiet_fit(tiny_model(), data, validation_data=val, patience=3, **frozen).epochs == 4
    assert quiet_fit(tiny_model(), data, validation_data=val, **frozen).epochs == 8
    assert quiet_fit(tiny_model(), data, patience=3, **frozen).epochs == 8  # nothing to watch


def test_images_per_second_counts_the_images_of_a_round_not_of_a_pass(data):
    run = fit(tiny_model(), data, name="tiny", epochs=2, batch_size=16, steps_per_epoch=2,
              verbose=False)
    assert run.images_per_second * run.seconds == pytest.approx(2 * 2 * 16)


def test_a_run_reports_its_settings_and_one_closing_line_and_trains_on_shuffled_data(
        data, capsys, monkeypatch):
    model = tiny_model()
    calls = []
    original = model.fit
    monkeypatch.setattr(model, "fit", lambda *a, **k: calls.append(k) or original(*a, **k))
    run = fit(model, data, name="tiny", epochs=2, batch_size=16)
    assert run.settings.keys() == {"epochs", "batch_size", "loss", "seed"}
    assert (run.settings["epochs"], run.settings["batch_size"]) == (2, 16)
    assert run.settings["loss"]["config"] == "mean_squared_error"
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.startswith("tiny: 2 epochs in ") and last.endswith(" img/s)")
    assert calls[0]["shuffle"] is True


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
    assert recorded["seconds"] == pytest.approx(trained.seconds, rel=1e-5)  # 6 digits stored
    results.set_chapter(None)


def test_steps_per_epoch_is_in_the_key_and_a_steps_run_is_reused(data, isolated_data_env):
    first = quiet_fit(tiny_model(), data, epochs=3, steps_per_epoch=2)
    assert not first.reused and first.settings["steps_per_epoch"] == 2
    assert len(list((isolated_data_env / "models").glob("tiny-*.weights.h5"))) == 1
    model = tiny_model()
    again = quiet_fit(model, data, epochs=3, steps_per_epoch=2)
    assert again.reused and again.history == first.history and again.weights == first.weights
    assert again.settings["steps_per_epoch"] == 2
    assert not quiet_fit(tiny_model(), data, epochs=3, steps_per_epoch=1).reused
    assert not quiet_fit(tiny_model(), data, epochs=3).reused  # by passes: another run
    assert quiet_fit(tiny_model(), data, epochs=3, steps_per_epoch=2).reused


def test_a_run_by_passes_keys_as_before_steps_per_epoch_existed(data, monkeypatch):
    """Without ``steps_per_epoch`` the settings in the key are exactly the ones they were before
    it existed, so that every cached run by passes keeps its key (and its weights)."""
    keyed = []
    key = training._key
    monkeypatch.setattr(training, "_key", lambda settings: keyed.append(dict(settings))
                        or key(settings))
    quiet_fit(tiny_model(), data)
    quiet_fit(tiny_model(), data, steps_per_epoch=2)
    before = {"cache_version", "name", "epochs", "batch_size", "patience", "seed", "loss",
              "metrics", "optimizer", "profile", "model", "code", "initial_state", "data",
              "backend", "keras"}
    assert set(keyed[0]) == before
    assert keyed[1] == keyed[0] | {"steps_per_epoch": 2}


def test_the_key_hashes_the_settings_as_sorted_json():
    """A golden value: the same settings give the same key in every process and every order."""
    settings = {"b": [1, 2], "a": {"y": None, "x": np.float32(0.5)}, "c": np.arange(2)}
    text = b'{"a": {"x": 0.5, "y": null}, "b": [1, 2], "c": [0, 1]}'
    assert training._key(settings) == hashlib.sha256(text).hexdigest()[:16] == "f8df60c4e9562906"
    assert training._key(dict(reversed(settings.items()))) == training._key(settings)


# mutmut wraps every function it mutates in one more frame: a warning's stacklevel cannot be
# checked under it (see the mutants at the end).
UNDER_MUTMUT = "MUTANT_UNDER_TEST" in os.environ


# Mutation testing (issue 26): `mutmut` mutates the cache-key and cache I/O code of
# helpers/training.py; each test below kills mutants that the behavioural tests above let
# live. Mutants that change nothing observable are listed, with the reason, at the end.

def test_a_fingerprint_hashes_shape_dtype_and_bytes_and_skips_none():
    a, b = np.arange(6, dtype="int16").reshape(2, 3), np.ones(2, "float32")
    h = hashlib.sha256()
    for array in (a, b):
        h.update(f"{array.shape}{array.dtype}".encode())
        h.update(array.tobytes())
    assert training._fingerprint(a, None, b) == h.hexdigest()[:16]
    assert training._fingerprint(a) != training._fingerprint(a.reshape(3, 2))
    assert training._fingerprint(a.T) == training._fingerprint(np.ascontiguousarray(a.T))


def two_inputs():
    a, b = keras.Input(shape=(4,)), keras.Input(shape=(4,))
    return keras.Model([a, b], keras.layers.Dense(2)(keras.layers.Concatenate()([a, b])))


def nested():
    inner = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3)])
    x = keras.Input(shape=(4,))
    return keras.Model(x, keras.layers.Dense(2)(inner(x)))


@pytest.mark.parametrize("build", [two_inputs, nested])
def test_generated_names_in_nested_and_multi_input_models_are_not_in_the_key(build):
    first = training._architecture(build())
    for _ in range(3):
        keras.layers.Dense(1)
    assert training._architecture(build()) == first


def shared(order):
    """One layer applied twice; the two applications subtracted in either order."""
    x = keras.Input(shape=(4,))
    dense = keras.layers.Dense(4)
    h1 = dense(x)
    h2 = dense(h1)
    return keras.Model(x, keras.layers.Subtract()([h1, h2] if order else [h2, h1]))


def test_which_call_of_a_shared_layer_feeds_a_layer_is_in_the_key():
    assert training._architecture(shared(True)) != training._architecture(shared(False))


def test_compiling_a_model_beforehand_does_not_change_its_key():
    plain, compiled = tiny_model(), tiny_model()
    compiled.compile(optimizer="sgd", loss="mae")
    assert training._architecture(compiled) == training._architecture(plain)


def test_the_dtype_policy_and_weight_shapes_are_in_the_key():
    def dense(dtype):
        x = keras.Input(shape=(8,))
        return keras.Model(x, keras.layers.Dense(3, dtype=dtype)(x))

    assert training._architecture(dense("bfloat16")) != training._architecture(dense("float32"))
    assert training._architecture(tiny_model())["weight_shapes"] == [[8, 3], [3], [3, 8], [8]]


@pytest.mark.parametrize("package", ["keras", "builtins", "tensorflow", "jax", "torch"])
def test_code_that_a_library_defines_is_not_in_the_key(package):
    def loss(y_true, y_pred):
        return y_true

    loss.__module__ = f"{package}.losses"
    assert training._code([loss]) == training._code([]) == hashlib.sha256(b"").hexdigest()[:16]
    assert training._code([keras.layers.Dense(2), keras.losses.mean_squared_error, "mse"]) \
        == training._code([])


def test_the_key_of_code_without_source_is_its_qualified_name():
    """Classes made at run time have no source: their module and name stand for it, for the
    class and for every base that is not Keras's, even after a Keras base (a mixin)."""
    def layer(mixin_name):
        mixin = type(mixin_name, (), {"__module__": "elsewhere.mixins"})
        return type("Made", (keras.layers.Layer, mixin), {"__module__": "elsewhere"})()

    parts = ["elsewhere.Made", "elsewhere.None", "elsewhere.mixins.Mixin",
             "elsewhere.mixins.None"]
    expected = hashlib.sha256("\n".join(sorted(parts)).encode()).hexdigest()[:16]
    assert training._code([layer("Mixin")]) == expected
    assert training._code([layer("Other")]) != expected


def test_a_function_without_source_is_keyed_by_name_not_by_address():
    def compiled():
        namespace = {}
        exec("def loss(y_true, y_pred):\n    return y_true\n", namespace)  # no source file
        return namespace["loss"]

    assert training._code([compiled()]) == training._code([compiled()])


def test_editing_a_function_that_a_custom_layer_calls_changes_the_key(tmp_path, monkeypatch):
    import importlib
    import linecache

    source = '''import keras


def scale():
    return {}


class Scaled(keras.layers.Layer):
    def call(self, x):
        return x * scale()
'''
    (tmp_path / "custom_layer_module.py").write_text(source.format(2.0))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "custom_layer_module", raising=False)  # a rerun's copy
    module = importlib.import_module("custom_layer_module")
    before = training._code([module.Scaled()])
    (tmp_path / "custom_layer_module.py").write_text(source.format(3.0))  # the class is as it was
    linecache.clearcache()
    module = importlib.reload(module)
    assert training._code([module.Scaled()]) != before


def test_a_models_random_state_is_its_seed_generators_not_its_weights():
    assert training._rng_variables(tiny_model()) == []
    model = tiny_model(dropout=0.5)
    (state,) = training._rng_variables(model)
    assert "seed_generator" in state.path
    assert not any(state is w for w in model.weights)


def test_the_refusals_say_what_to_do_instead(data):
    with pytest.raises(ValueError) as refused:
        quiet_fit(tiny_model(), data, optimizer=keras.optimizers.Adam(), learning_rate=0.1)
    assert str(refused.value) == (
        "fit: learning_rate is for an optimizer given by name ('adam'); set it on the optimizer "
        "object instead, e.g. keras.optimizers.Adam(learning_rate)")
    with pytest.raises(ValueError) as refused:
        quiet_fit(tiny_model(), data, name="a..b")
    assert str(refused.value) == (
        "fit: name 'a..b' must be a plain file name (letters, digits, '.', '_' and '-'; no "
        "folders): it names the cached weights")
    with pytest.raises(TypeError, match="cannot key the weights cache on a object: no stable"):
        training._key({"x": object()})


def test_a_plain_name_may_use_capitals_digits_dots_dashes_and_underscores(data):
    assert training._checked_name("Model_1-v2.seed") == "Model_1-v2.seed"
    assert quiet_fit(tiny_model(), data, name="Tiny.AE-2_x").epochs == 2


class UnnamedLoss(keras.losses.Loss):
    """A loss whose configuration leaves out its name."""

    def call(self, y_true, y_pred):
        return keras.ops.mean((y_true - y_pred) ** 2, axis=-1)

    def get_config(self):
        return {}


def test_a_loss_configuration_without_a_name_is_keyed(data):
    quiet_fit(tiny_model(), data, loss=UnnamedLoss())
    assert quiet_fit(tiny_model(), data, loss=UnnamedLoss()).reused


@pytest.mark.parametrize("where", ["x", "y", "validation_data[0]", "validation_data[1]"])
def test_fit_refuses_test_images_wherever_they_are_and_names_the_array(where, monkeypatch):
    from helpers import data as data_module

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (40, 784), dtype=np.uint8)
    monkeypatch.setattr(data_module, "_TEST_IMAGES", {})
    data_module._register_test_part("Tiny digits", images[:20])
    train, test = images[20:] / 255.0, images[:20] / 255.0
    arrays = {"x": train, "y": None, "validation_data": (train, train)}
    if where.startswith("validation"):
        arrays["validation_data"] = tuple(test if where.endswith(f"[{i}]") else train
                                          for i in range(2))
    else:
        arrays[where] = test
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(784)])
    with pytest.raises(data_module.DatasetError,
                       match=rf"fit\('pixels'\): {re.escape(where)}: 20 of its 20 .*Tiny digits"):
        fit(model, arrays["x"], y=arrays["y"], validation_data=arrays["validation_data"],
            name="pixels", epochs=1, verbose=False)
    assert not quiet_fit(model, train, name="pixels", validation_data=(train, train)).reused


def test_a_quiet_run_prints_nothing_while_it_trains(data, capsys):
    assert not quiet_fit(tiny_model(), data).reused  # verbose=False
    assert capsys.readouterr().out == ""


def test_a_run_saved_into_an_existing_cache_folder_is_cached_too(data, recwarn):
    quiet_fit(tiny_model(), data)  # creates the folder
    quiet_fit(tiny_model(seed=1), data)  # saved beside it
    assert not [w for w in recwarn if "not cached" in str(w.message)]
    assert quiet_fit(tiny_model(seed=1), data).reused


def test_a_missing_record_is_a_silent_miss_and_a_reuse_is_silent(data, isolated_data_env):
    import warnings

    quiet_fit(tiny_model(), data)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # e.g. "Skipping variable loading ..."
        assert quiet_fit(tiny_model(), data).reused
    (record,) = (isolated_data_env / "models").glob("tiny-*.json")
    record.unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        assert not quiet_fit(tiny_model(), data).reused


def test_a_record_with_the_wrong_random_states_is_a_miss_from_the_initial_weights(
        data, isolated_data_env):
    import json

    first = quiet_fit(tiny_model(dropout=0.5), data)
    (record,) = (isolated_data_env / "models").glob("tiny-*.json")
    content = json.loads(record.read_text())
    assert set(content) == {"history", "epochs", "seconds", "images_per_second", "weights",
                            "settings", "rng_states"}  # not whether it was reused
    record.write_text(json.dumps(content | {"rng_states": content["rng_states"] * 2}))
    with pytest.warns(UserWarning, match="unreadable cached run") as caught:
        again = fit(tiny_model(dropout=0.5), data, name="tiny", epochs=2, batch_size=16,
                    verbose=False)
    (warned,) = [w for w in caught if "unreadable" in str(w.message)]
    assert warned.filename == __file__ or UNDER_MUTMUT  # it points at the caller of fit
    assert not again.reused and again.history == first.history  # the weights were put back


def test_a_failed_write_warns_at_the_caller(data, monkeypatch):
    def read_only(*args):
        raise PermissionError("read-only file system")

    monkeypatch.setattr(training, "atomic_write", read_only)
    with pytest.warns(UserWarning, match="trained weights not cached in ") as caught:
        fit(tiny_model(), data, name="tiny", epochs=1, verbose=False)
    (warned,) = [w for w in caught if "not cached" in str(w.message)]
    assert warned.filename == __file__ or UNDER_MUTMUT


def test_a_new_cache_folder_is_made_with_its_parents(data, tmp_path, monkeypatch):
    monkeypatch.setenv("AEBOOK_CACHE", str(tmp_path / "not" / "yet"))
    quiet_fit(tiny_model(), data)
    assert quiet_fit(tiny_model(), data).reused
    assert not quiet_fit(tiny_model(), data, name="other").reused  # into the folder made
    assert quiet_fit(tiny_model(), data, name="other").reused


def test_targets_other_than_the_inputs_are_keyed_and_trained_on(data):
    y = 1 - data
    quiet_fit(tiny_model(), data, y=y, epochs=20, optimizer=keras.optimizers.SGD(1.0))
    model = tiny_model()
    assert quiet_fit(model, data, y=y, epochs=20, optimizer=keras.optimizers.SGD(1.0)).reused
    assert evaluate_mse(model, data, y) < evaluate_mse(model, data)
    other_x = np.random.default_rng(1).random(data.shape).astype("float32")
    assert not quiet_fit(tiny_model(), other_x, y=y, epochs=20,
                         optimizer=keras.optimizers.SGD(1.0)).reused
    assert not quiet_fit(tiny_model(), data, y=data, epochs=20,
                         optimizer=keras.optimizers.SGD(1.0)).reused


def test_defaults_seed_42_and_the_profiles_batch_size(data):
    from helpers.profiles import get_profile

    run = fit(tiny_model(), data, name="tiny", epochs=1, verbose=False)
    assert run.settings["batch_size"] == get_profile().batch_size and run.settings["seed"] == 42
    assert fit(tiny_model(), data, name="tiny", epochs=1, verbose=False, seed=42).reused


def test_the_optimizer_and_metrics_given_are_the_ones_used(data):
    model = tiny_model()
    before = model.get_weights()
    run = quiet_fit(model, data, optimizer=keras.optimizers.SGD(0.0), metrics=["mae"])
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert "mae" in run.history
    quiet_fit(tiny_model(), data, metrics=[keras.metrics.MeanAbsoluteError()])
    assert not quiet_fit(tiny_model(), data, metrics=[keras.metrics.MeanSquaredError()]).reused


def test_retrain_zero_means_reuse(data, monkeypatch):
    quiet_fit(tiny_model(), data)
    monkeypatch.setenv("AEBOOK_RETRAIN", "0")
    assert quiet_fit(tiny_model(), data).reused


def test_after_fit_the_global_random_state_is_seeded_with_seed_plus_one(data):
    quiet_fit(tiny_model(), data, seed=5)
    after = np.random.rand(3)
    keras.utils.set_random_seed(6)
    np.testing.assert_array_equal(after, np.random.rand(3))


def test_the_code_key_covers_the_model_and_every_nested_layer(monkeypatch):
    seen = []
    code = training._code
    monkeypatch.setattr(training, "_code", lambda objects: seen.extend(objects) or code(objects))
    model = nested()
    quiet_fit(model, np.zeros((16, 4), "float32"), y=np.zeros((16, 2), "float32"))
    inner = model.layers[1]
    assert model in seen and inner in seen and inner.layers[0] in seen


# Mutants of helpers/training.py that no test can kill: they change nothing observable.
# From the run of 2026-12-07 (mutmut 3.8.1; 500 mutants of the cache code, every function but
# _epoch_lines, warmup_cosine, evaluate_mse and record_training_time; each run in-process with
# the tests covering its function, since mutmut's forking runner deadlocks under TensorFlow):
# 455 killed, 45 survived; 18 of these are killed by tests written after the run (fit 29, 30,
# 38, 153, 155, 158, 163, 170, 183, 192, 196, 215, 216, 218, 219, 224, 225, 237). The other 27:
# - _architecture 28/29/30: `position.get(v, None)` / `position.get(v)` for a string in a
#   tensor's history, the model's inputs or outputs: every such string names a layer of the
#   model, so it is always found; 36: `key == "name" or isinstance(node, str)`: a string that is
#   not a name is mapped only if it equals a layer's name, the same way in every run; 5/6 (and
#   fit 88/89): `_flatten_layers(recursive=True)` / `(include_self=True)` alone: Keras's defaults.
# - _code 12/15/18/19: `getattr(item, "__module__", None)`, `getattr(item, "__module__")`, and
#   the default or fallback "" replaced: every class and function has a `__module__`; 41:
#   `getattr(part, "__qualname__", None)`: the fallback is only read for a missing module
#   (None), whose str is "None" either way.
# - _load 13: `filterwarnings("ignore")` without the message: it silences only load_weights,
#   whose one warning is the optimiser note; 17/18: the message in another case: the filter is
#   case-insensitive; 30/32: `np.asarray(state)` without the variable's dtype: a seed
#   generator's state is int64, as the JSON's integers load.
# - fit 2/4: `optimizer="ADAM"`, `loss="MSE"`: Keras looks both names up in any case, and the
#   key holds the object found; 69: `[m if isinstance(m, str) and False ...]`: Keras serializes a
#   metric's name to itself; 172: EarlyStopping without `monitor=`: "val_loss" is its default;
#   186: `model.fit(verbose=None)`: Keras 3 prints nothing for it, as for 0
#   (test_a_quiet_run_prints_nothing_while_it_trains passes under it).
# - _load 41/43 and _save 33/34, the warnings' `stacklevel`: mutmut adds a frame to every
#   function it mutates, so the location cannot be checked under it; outside mutmut
#   test_a_record_with_the_wrong_random_states_is_a_miss_from_the_initial_weights and
#   test_a_failed_write_warns_at_the_caller check that both warnings point at fit's caller.
