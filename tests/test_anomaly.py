"""helpers.anomaly on synthetic data where the right answer is known."""

import numpy as np
import pytest

from helpers import anomaly
from helpers.scores import auroc


def _blank_and_noise(n=50, seed=0):
    rng = np.random.default_rng(seed)
    blank = np.zeros((n, 28, 28), dtype=np.float32)
    blank[:, 10:18, 10:18] = 1.0
    noise = rng.uniform(0, 1, (n, 28, 28)).astype(np.float32)
    return blank, noise


def test_separable_pair_gives_auroc_one_and_identical_sets_one_half():
    rng = np.random.default_rng(0)
    normal = rng.normal(0, 1, 200)
    assert auroc(normal, normal + 10) == 1.0
    assert auroc(normal + 10, normal) == 0.0
    assert auroc(normal, normal) == pytest.approx(0.5)


def test_reconstruction_error_per_image():
    x = np.zeros((3, 28, 28, 1))
    x_hat = x.copy()
    x_hat[1] += 0.5
    x_hat[2, :14] = 1.0  # half the pixels wrong by 1
    np.testing.assert_allclose(anomaly.reconstruction_error(x, x_hat), [0, 0.25, 0.5])
    with pytest.raises(ValueError):
        anomaly.reconstruction_error(x, x_hat[:, :27])


def test_reconstruction_error_detector_separates_far_images():
    blank, noise = _blank_and_noise()
    mean_image = blank.mean(axis=0, keepdims=True)  # a "model" that outputs the normal mean
    normal = anomaly.reconstruction_error(blank, np.broadcast_to(mean_image, blank.shape))
    odd = anomaly.reconstruction_error(noise, np.broadcast_to(mean_image, noise.shape))
    assert auroc(normal, odd) == 1.0


@pytest.mark.parametrize("codec", ["png", "zlib"])
def test_compressed_bits_rank_simple_below_random(codec):
    blank, noise = _blank_and_noise(10)
    simple, random = anomaly.compressed_bits(blank, codec), anomaly.compressed_bits(noise, codec)
    assert simple.shape == (10,) and (simple > 0).all()
    assert simple.max() < random.min()
    # uint8 and [0, 1] floats of the same images give the same lengths
    as_uint8 = np.rint(noise * 255).astype(np.uint8)
    np.testing.assert_array_equal(anomaly.compressed_bits(as_uint8, codec), random)


def test_compressed_bits_rejects_unknown_codec():
    with pytest.raises(ValueError):
        anomaly.compressed_bits(np.zeros((1, 28, 28)), "gif")


def test_gaussian_code_length_matches_formula():
    x = np.zeros((2, 28, 28))
    x_hat = x.copy()
    x_hat[1] += 0.1
    sigma = 0.1
    bits = anomaly.gaussian_code_length(x, x_hat, sigma)
    const = 784 * np.log2(np.sqrt(2 * np.pi) * sigma * 255)
    np.testing.assert_allclose(bits, [const, const + 784 * 0.01 / (2 * 0.01 * np.log(2))])
    with pytest.raises(ValueError):
        anomaly.gaussian_code_length(x, x_hat, 0.0)


def test_complexity_correction_subtracts_reference():
    np.testing.assert_allclose(anomaly.complexity_corrected([10, 20], [3, 30]), [7, -10])


def test_knn_distance_is_zero_on_training_points_and_grows_away():
    rng = np.random.default_rng(1)
    train = rng.normal(0, 1, (100, 5))
    np.testing.assert_allclose(anomaly.knn_distance(train, train[:10], k=1), 0, atol=1e-5)
    near = anomaly.knn_distance(train, rng.normal(0, 1, (50, 5)), k=3)
    far = anomaly.knn_distance(train, rng.normal(8, 1, (50, 5)), k=3)
    assert auroc(near, far) == 1.0


def test_pca_error_zero_inside_the_subspace():
    rng = np.random.default_rng(2)
    basis = rng.normal(size=(3, 20))
    inside = rng.normal(size=(200, 3)) @ basis
    outside = inside + rng.normal(0, 1, inside.shape)
    np.testing.assert_allclose(anomaly.pca_error(inside, inside[:20], 3), 0, atol=1e-6)
    assert auroc(anomaly.pca_error(inside, inside, 3), anomaly.pca_error(inside, outside, 3)) == 1.0


def test_mahalanobis_is_identity_metric_for_white_data_and_scale_aware():
    rng = np.random.default_rng(3)
    codes = rng.normal(0, 1, (20000, 2)) * [1.0, 10.0]
    distance = anomaly.Mahalanobis(codes)
    d = distance(np.array([[3.0, 0.0], [0.0, 30.0]]))
    # three standard deviations along either axis, whatever its scale
    np.testing.assert_allclose(d, [3, 3], rtol=0.05)
    same = distance(rng.normal(0, 1, (500, 2)) * [1.0, 10.0])
    shifted = distance(rng.normal(0, 1, (500, 2)) * [1.0, 10.0] + [6.0, 0.0])
    assert auroc(same, shifted) > 0.99


def test_threshold_gives_the_asked_false_positive_rate():
    normal = np.arange(1000, dtype=float)
    threshold = anomaly.threshold_at_fpr(normal, 0.05)
    assert anomaly.detection_rate(normal, threshold) == pytest.approx(0.05, abs=0.002)
    assert anomaly.detection_rate(normal + 2000, threshold) == 1.0
    with pytest.raises(ValueError):
        anomaly.threshold_at_fpr(normal, 1.5)


def test_detector_autoencoder_shapes():
    keras = pytest.importorskip("keras")
    encoder, decoder, autoencoder = anomaly.detector_autoencoder(code_size=8)
    x = np.random.default_rng(0).uniform(0, 1, (4, 28, 28, 1)).astype("float32")
    assert keras.ops.convert_to_numpy(encoder(x)).shape == (4, 8)
    out = anomaly.reconstruct(autoencoder, x)
    assert out.shape == x.shape and (out >= 0).all() and (out <= 1).all()


def test_typicality_flags_both_too_simple_and_too_complex():
    rng = np.random.default_rng(4)
    normal = rng.normal(0, 1, (2000, 2))
    typical = anomaly.typicality(normal, rng.normal(0, 1, (300, 2)))
    too_small = anomaly.typicality(normal, rng.normal(0, 1, (300, 2)) - [6, 0])
    too_large = anomaly.typicality(normal, rng.normal(0, 1, (300, 2)) + [6, 0])
    assert auroc(typical, too_small) > 0.99 and auroc(typical, too_large) > 0.99


def test_image_statistics_columns():
    blank, noise = _blank_and_noise(5)
    stats = anomaly.image_statistics(blank, np.full(5, np.e), np.full(5, 100.0))
    assert stats.shape == (5, len(anomaly.STATISTICS))
    np.testing.assert_allclose(stats[:, 0], 1.0)
    np.testing.assert_allclose(stats[:, 2], 64 / 784, rtol=1e-6)  # an 8x8 white square
    np.testing.assert_allclose(stats[:, 4], 1 - 64 / 784, rtol=1e-6)


def test_ink_extent_measures_the_box_around_the_ink():
    images = np.zeros((3, 28, 28, 1), dtype=np.float32)
    images[0, 4:24, 10:18] = 1.0  # a 20 x 8 bar
    images[1, 2, 3] = images[1, 26, 20] = 0.5  # two dots span 25 rows, 18 columns
    images[2, 5:9, 5:9] = 0.01  # darker than the background threshold: blank
    np.testing.assert_array_equal(anomaly.ink_extent(images), [[20, 8], [25, 18], [0, 0]])


def test_mahalanobis_does_not_depend_on_the_units_of_a_column():
    rng = np.random.default_rng(5)
    normal, other = rng.normal(0, 1, (300, 3)), rng.normal(0.5, 1.5, (50, 3))
    scale = np.array([1.0, 1000.0, 0.001])
    np.testing.assert_allclose(anomaly.Mahalanobis(normal)(other),
                               anomaly.Mahalanobis(normal * scale)(other * scale), rtol=1e-6)


def test_a_nan_score_refuses_a_threshold():
    scores = np.array([0.1, 0.2, np.nan, 0.4])
    with pytest.raises(ValueError, match="1 of 4 normal scores are not finite"):
        anomaly.threshold_at_fpr(scores, 0.05)


def test_mnist_style_fits_the_ink_into_a_centred_20_pixel_box():
    from scipy.ndimage import center_of_mass

    letter = np.zeros((2, 28, 28), np.float32)
    letter[0, :, 3:17] = 1.0  # a bar 28 high and 14 wide, off to the left
    styled = anomaly.mnist_style(letter)
    assert styled.shape == letter.shape and 0 <= styled.min() and styled.max() <= 1
    height, width = anomaly.ink_extent(styled[:1])[0]
    assert height in (20, 21) and width in (10, 11)  # 28 -> 20, 14 -> 10 (+1 for the shift)
    np.testing.assert_allclose(center_of_mass(styled[0]), (13.5, 13.5), atol=0.3)
    assert not styled[1].any()  # a blank image stays blank
