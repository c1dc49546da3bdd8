"""Augmentation (`augment = [...]`): every transform is one NumPy definition in the emitted
runtime.py, which is the same file on every backend, so a same-seed batch is identical on
PyTorch and Keras; each transform's deterministic core is checked against a hand-made
result, and bad uses are located diagnostics."""

from __future__ import annotations

import contextlib
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from specc.backends import get_backend
from specc.compiler import Result, compile_source

SPEC = """model M {{
  input image: [3, 9, 9]
  conv2d(4, 3) -> relu -> flatten
  dense(2)
}}
train M {{
  data = synthetic(n=8, classes=2)
  augment = [{}]
}}
"""

TRANSFORMS = [
    "random_flip",
    "random_flip(mode=vertical)",
    "random_flip(mode=both)",
    "random_crop(2)",
    "random_crop(2, fill=reflect)",
    "random_crop(3, fill=edge)",
    "random_rotation(30)",
    "random_rotation(15, fill=reflect)",
    "random_translation(0.2, fill=zeros)",
    "random_zoom(0.3)",
    "random_shear(20)",
    "random_brightness(0.4)",
    "random_contrast(0.5)",
    "random_erasing(p=0.8, area_min=0.1, area_max=0.4, ratio=2.0)",
    "mixup(0.4)",
    "random_flip, cutmix",
]


def _runtime(augment: str, backend: str, folder: Path) -> tuple[str, ModuleType]:
    result = compile_source(SPEC.format(augment), "t.net")
    assert result.spec is not None, [d.message for d in result.diagnostics]
    text = get_backend(backend).emit(result.spec, result.source.text)["runtime.py"]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "runtime.py"
    path.write_text(text, encoding="utf-8")
    name = f"augment_runtime_{backend}_{abs(hash((augment, str(folder))))}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return text, module


@contextlib.contextmanager
def emitted_train(result: Result, backend: str, folder: Path) -> Iterator[ModuleType]:
    """The spec's emitted train.py for `backend`, imported from `folder` (its `model`,
    `runtime` and `optimizer` by those names, forgotten afterwards)."""
    folder.mkdir()
    for name, body in get_backend(backend).emit(result.spec, result.source.text).items():
        (folder / name).write_text(body, encoding="utf-8")
    sys.path.insert(0, str(folder))
    try:
        spec = importlib.util.spec_from_file_location(f"train_{backend}", folder / "train.py")
        assert spec is not None and spec.loader is not None
        train = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(train)
        yield train
    finally:
        sys.path.remove(str(folder))
        for name in ("model", "runtime", "optimizer"):
            sys.modules.pop(name, None)


@pytest.mark.parametrize("augment", TRANSFORMS)
def test_a_same_seed_batch_is_identical_on_both_backends(augment: str, tmp_path: Path) -> None:
    """The transform's code is the same on both backends, and so is a training batch it
    makes (images and labels) from the same data, seed and epoch; it changes the batch,
    keeps its shape and dtype, and another epoch draws another batch."""
    images = np.random.default_rng(0).standard_normal((16, 3, 9, 9)).astype(np.float32)
    labels = np.arange(16) % 2
    order = np.arange(16)
    texts, made = [], []
    for backend in ("torch", "keras"):
        text, runtime = _runtime(augment, backend, tmp_path / backend)
        texts.append(text)
        ((x, y),) = runtime.batches(images, labels, 16, order, runtime.augment_rng(7, 2))
        ((other, _),) = runtime.batches(images, labels, 16, order, runtime.augment_rng(7, 3))
        made.append((x, y))
    assert texts[0] == texts[1]
    np.testing.assert_array_equal(made[0][0], made[1][0])
    np.testing.assert_array_equal(made[0][1], made[1][1])
    x, y = made[0]
    assert x.shape == images.shape and x.dtype == np.float32
    assert not np.array_equal(x, images)
    assert not np.array_equal(x, other)
    if "mix" in augment:  # class probabilities [N, 2], each summing to 1
        assert y.shape == (16, 2) and y.dtype == np.float32
        np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-6)
    else:
        np.testing.assert_array_equal(y, labels)


@pytest.fixture(scope="module")
def rt(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """One runtime.py holding every transform."""
    image_transforms = [t for t in TRANSFORMS if "mix" not in t]
    _, module = _runtime(
        ", ".join([*image_transforms, "mixup"]), "torch", tmp_path_factory.mktemp("all")
    )
    return module


@pytest.fixture(scope="module")
def rt_cutmix(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    _, module = _runtime("cutmix", "torch", tmp_path_factory.mktemp("cutmix"))
    return module


def _image(h: int = 5, w: int = 7) -> np.ndarray:
    return np.random.default_rng(1).standard_normal((2, 3, h, w)).astype(np.float32)


def test_rotation_by_a_right_angle_is_exact(rt: ModuleType) -> None:
    square = _image(5, 5)
    turned = rt.rotate(square, np.array([90.0, -90.0]), "zeros")
    np.testing.assert_allclose(turned[0], np.rot90(square[0], 1, axes=(1, 2)), atol=1e-5)
    np.testing.assert_allclose(turned[1], np.rot90(square[1], -1, axes=(1, 2)), atol=1e-5)
    np.testing.assert_allclose(rt.rotate(square, np.zeros(2), "edge"), square, atol=1e-6)


def test_translation_by_whole_pixels_shifts_and_fills(rt: ModuleType) -> None:
    images = _image()
    shifted = rt.translate(images, np.array([2.0, 0.0]), np.array([0.0, -1.0]), "zeros")
    np.testing.assert_allclose(shifted[0, :, :, 2:], images[0, :, :, :-2], atol=1e-6)
    assert np.all(shifted[0, :, :, :2] == 0)
    np.testing.assert_allclose(shifted[1, :, :-1], images[1, :, 1:], atol=1e-6)
    edge = rt.translate(images, np.array([2.0, 2.0]), np.zeros(2), "edge")
    np.testing.assert_allclose(edge[:, :, :, 0], images[:, :, :, 0], atol=1e-6)
    mirror = rt.translate(images, np.array([2.0, 2.0]), np.zeros(2), "reflect")
    np.testing.assert_allclose(mirror[:, :, :, :2], images[:, :, :, 2:0:-1], atol=1e-6)
    # half a pixel: the mean of two neighbours (bilinear)
    half = rt.translate(images, np.array([0.5, 0.5]), np.zeros(2), "edge")
    neighbours = (images[..., 1:] + images[..., :-1]) / 2
    np.testing.assert_allclose(half[..., 1:], neighbours, atol=1e-6)


def test_zoom_and_shear(rt: ModuleType) -> None:
    images = _image(5, 5)
    np.testing.assert_allclose(rt.zoom(images, np.ones(2), "edge"), images, atol=1e-6)
    np.testing.assert_allclose(rt.shear(images, np.zeros(2), "edge"), images, atol=1e-6)
    doubled = rt.zoom(images, np.full(2, 2.0), "edge")
    np.testing.assert_allclose(doubled[..., 2, 2], images[..., 2, 2], atol=1e-6)  # the centre
    np.testing.assert_allclose(  # two pixels out read one pixel out
        doubled[..., 2, 4], images[..., 2, 3], atol=1e-6
    )
    sheared = rt.shear(images, np.full(2, 45.0), "zeros")
    np.testing.assert_allclose(sheared[..., 2, :], images[..., 2, :], atol=1e-6)  # centre row
    np.testing.assert_allclose(sheared[..., 3, 1:], images[..., 3, :-1], atol=1e-6)


def test_consecutive_geometric_transforms_resample_once(rt: ModuleType) -> None:
    """Composed maps are the transforms one after the other: two turns are one turn by the
    sum, and whole-pixel shifts through composed maps equal two shifts in a row."""
    a, b = np.array([30.0, -10.0]), np.array([15.0, 40.0])
    np.testing.assert_allclose(
        rt.then(rt.rotation_maps(a), rt.rotation_maps(b)), rt.rotation_maps(a + b), atol=1e-12
    )
    images = _image(9, 9)
    first, second = (
        rt.translation_maps(np.array([1.0, 2.0]), np.array([0.0, -1.0])),
        (rt.translation_maps(np.array([-2.0, 1.0]), np.array([1.0, 1.0]))),
    )
    twice = rt.warp(rt.warp(images, first, "zeros"), second, "zeros")
    once = rt.warp(images, rt.then(first, second), "zeros")
    np.testing.assert_allclose(once[..., 2:-2, 3:-3], twice[..., 2:-2, 3:-3], atol=1e-6)
    # the plan: rotation and translation with one fill in one resampling; a fill apart
    from specc.backends.runtime import augment_plan
    from specc.compiler import compile_source

    text = SPEC.format("random_rotation(5), random_translation(0.1), random_erasing(), "
                       "random_zoom(0.1), random_shear(5, fill=reflect)")  # fmt: skip
    spec = compile_source(text, "t.net").spec
    assert spec is not None
    plan = augment_plan(spec.training)
    assert [(len(g.steps), g.warp, g.fill) for g in plan] == [
        (2, True, "edge"), (1, False, ""), (1, True, "edge"), (1, True, "reflect")
    ]  # fmt: skip


def test_flips_crops_brightness_contrast_and_erasing(rt: ModuleType) -> None:
    images = _image()
    rng = np.random.default_rng(3)
    flipped = rt.random_flip(images, "vertical", np.random.default_rng(0))
    for original, out in zip(images, flipped, strict=True):
        assert np.array_equal(out, original) or np.array_equal(out, original[:, ::-1])
    cropped = rt.random_crop(images, 2, "reflect", rng)
    padded = np.pad(images, ((0, 0), (0, 0), (2, 2), (2, 2)), mode="reflect")
    for i in range(2):  # each crop is a window of the mirrored image
        windows = np.lib.stride_tricks.sliding_window_view(padded[i], (3, 5, 7))[0]
        assert any(np.array_equal(cropped[i], w) for row in windows for w in row)
    brighter = rt.random_brightness(images, 0.5, rng)
    offsets = (brighter - images).reshape(2, -1)
    assert np.allclose(offsets, offsets[:, :1], atol=1e-6) and np.all(np.abs(offsets) <= 0.5)
    contrast = rt.random_contrast(images, 0.5, rng)
    np.testing.assert_allclose(contrast.mean(axis=(2, 3)), images.mean(axis=(2, 3)), atol=1e-5)
    big = np.ones((400, 1, 20, 20), np.float32)
    erased = rt.random_erasing(big, 0.5, (0.1, 0.3), 2.0, rng)
    zeros = (erased == 0).reshape(400, -1).mean(axis=1)
    assert 0.35 < (zeros > 0).mean() < 0.65  # about half the images
    assert zeros[zeros > 0].min() >= 0.05 and zeros.max() <= 0.4  # areas near [0.1, 0.3]


def test_mixup_and_cutmix_mix_images_and_labels_alike(
    rt: ModuleType, rt_cutmix: ModuleType
) -> None:
    images = _image(6, 6)
    images = np.concatenate([np.zeros_like(images[:1]), np.ones_like(images[:1])])
    labels = np.array([0, 1])
    x, y = rt.mixup(images, labels, 0.4, np.random.default_rng(2))  # a swap
    lam = y[0, 0] if np.array_equal(y[:, 0], y[::-1, 1]) else None
    weight = x.reshape(2, -1).mean(axis=1)  # image 0 is all 0, image 1 all 1
    assert lam is not None
    np.testing.assert_allclose(y[:, 1], weight, rtol=1e-5)  # the label's share of image 1
    x, y = rt_cutmix.cutmix(images, labels, 1.0, np.random.default_rng(2))  # a swap
    share = x.reshape(2, -1).mean(axis=1)  # pixels pasted from the other image
    np.testing.assert_allclose(y[:, 1], share, rtol=1e-6)
    assert 0 < share[0] < 1


def test_the_loss_takes_mixed_labels_on_both_backends(tmp_path: Path) -> None:
    """With `mixup`, both backends' loss on class probabilities is the cross-entropy
    -sum(p log softmax(z)) averaged over the batch, and class labels still work (the test
    set's)."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("tensorflow")
    text = SPEC.format("mixup")
    scores = np.random.default_rng(2).standard_normal((4, 2)).astype(np.float32)
    probabilities = np.random.default_rng(3).dirichlet([1.0, 1.0], 4).astype(np.float32)
    log_softmax = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    expected = float(-(probabilities * log_softmax).sum(axis=1).mean())
    hits = float((scores.argmax(1) == probabilities.argmax(1)).sum())
    result = compile_source(text, "t.net")
    for backend in ("torch", "keras"):
        with emitted_train(result, backend, tmp_path / backend) as train:
            if backend == "torch":
                training = train.Training(train.M())
                z = torch.from_numpy(scores)
                loss, correct = training.loss(z, torch.from_numpy(probabilities))
                plain, _ = training.loss(z, torch.tensor([0, 1, 1, 0]))
            else:
                tf = sys.modules["tensorflow"]
                z = tf.constant(scores)
                loss, correct = train.loss_and_metrics(z, tf.constant(probabilities))
                plain, _ = train.loss_and_metrics(z, tf.constant([0, 1, 1, 0]))
        assert float(loss) == pytest.approx(expected, rel=1e-5), backend
        assert float(correct) == hits, backend
        assert np.isfinite(float(plain)), backend


@pytest.mark.parametrize(
    ("augment", "code"),
    [
        ("mixup, random_flip", "E0640"),
        ("mixup, cutmix", "E0640"),
        ("random_erasing(area_min=0.5, area_max=0.2)", "E0603"),
        ("random_rotation(0)", "E0603"),
        ("random_zoom(1.5)", "E0603"),
        ("random_crop(2, fill=wrap)", "E0603"),
        ("random_flip(mode=diagonal)", "E0603"),
        ("random_spin(3)", "E0602"),
    ],
)
def test_bad_transforms_are_located(augment: str, code: str) -> None:
    diagnostics = compile_source(SPEC.format(augment), "t.net").diagnostics
    assert [d.code for d in diagnostics] == [code]


def test_mixing_needs_cross_entropy_on_class_labels() -> None:
    text = (
        SPEC.format("cutmix")
        .replace("dense(2)", "dense(1)")
        .replace(
            "data = synthetic(n=8, classes=2)",
            "data = synthetic(n=8, classes=2)\n  loss = bce_with_logits",
        )
    )
    assert [d.code for d in compile_source(text, "t.net").diagnostics] == ["E0641"]


def test_augmenting_a_sequence_is_refused() -> None:
    text = (
        "model S {\n  input x: [6, 4]\n  lstm(3)\n  dense(2)\n}\n"
        "train S {\n  data = synthetic(n=8, classes=2)\n  augment = [random_rotation(10)]\n}\n"
    )
    assert [d.code for d in compile_source(text, "t.net").diagnostics] == ["E0617"]


NORMALIZE = """model M {{
  input image: [2, 4, 4]
  flatten
  dense(3)
}}
train M {{
  data = synthetic(n=8, classes=3)
  normalize = {}
}}
"""


@pytest.mark.parametrize("given", [False, True])
def test_per_channel_normalisation_on_every_split(given: bool, tmp_path: Path) -> None:
    """`normalize = per_channel`: runtime.py's load_arrays normalises each channel with the
    training split's mean and std (or the spec's), the test split with the same, in the
    same file on both backends."""
    norm = "per_channel(mean=[1.0, -2.0], std=[2.0, 0.5])" if given else "per_channel"
    result = compile_source(NORMALIZE.format(norm), "t.net")
    texts = [
        get_backend(b).emit(result.spec, result.source.text)["runtime.py"]
        for b in ("torch", "keras")
    ]
    assert texts[0] == texts[1]
    _, runtime = _runtime_text(texts[0], tmp_path)
    rng = np.random.default_rng(0)
    x_train = (rng.standard_normal((50, 2, 4, 4)) * [[[[3.0]], [[0.2]]]] + 5).astype(np.float32)
    x_test = (rng.standard_normal((10, 2, 4, 4)) + 5).astype(np.float32)
    path = tmp_path / "data.npz"
    np.savez(path, x_train=x_train, y_train=np.zeros(50), x_test=x_test, y_test=np.zeros(10))
    a, _, b, _ = runtime.load_arrays(str(path))
    if given:
        mean, std = np.array([1.0, -2.0]), np.array([2.0, 0.5])
    else:
        mean, std = x_train.mean(axis=(0, 2, 3)), x_train.std(axis=(0, 2, 3))
        np.testing.assert_allclose(a.mean(axis=(0, 2, 3)), 0.0, atol=1e-5)
        np.testing.assert_allclose(a.std(axis=(0, 2, 3)), 1.0, rtol=1e-5)
    expected = (x_test - mean[:, None, None]) / std[:, None, None]
    np.testing.assert_allclose(b, expected, rtol=1e-5, atol=1e-5)
    assert a.dtype == b.dtype == np.float32


def _runtime_text(text: str, folder: Path) -> tuple[str, ModuleType]:
    path = folder / "runtime.py"
    path.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"norm_runtime_{abs(hash(str(folder)))}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return text, module


@pytest.mark.parametrize(
    ("norm", "fragment"),
    [
        ("per_channel(mean=[0.5], std=[1.0])", "one mean and one std per channel, 2 of each"),
        ("per_channel(mean=[0.5, 0.5])", "both `mean` and `std`"),
        ("per_channel(std=[1.0, -1.0])", "invalid `std`"),
    ],
)
def test_bad_normalisation_is_located(norm: str, fragment: str) -> None:
    diagnostics = compile_source(NORMALIZE.format(norm), "t.net").diagnostics
    assert len(diagnostics) == 1 and fragment in diagnostics[0].message
    text = "model S {\n  input x: [6, 4]\n  lstm(3)\n  dense(2)\n}\n"
    text += "train S {\n  data = synthetic(n=8, classes=2)\n  normalize = per_channel\n}\n"
    assert [d.code for d in compile_source(text, "t.net").diagnostics] == ["E0642"]


def test_test_time_augmentation_averages_an_image_and_its_mirror(tmp_path: Path) -> None:
    """`tta = true`: both backends evaluate a batch on the mean of the model's scores for
    each image and its left-right mirror (training is unchanged)."""
    torch = pytest.importorskip("torch")
    text = SPEC.format("random_flip").replace("  augment", "  tta = true\n  augment")
    result = compile_source(text, "t.net")
    x = np.random.default_rng(4).standard_normal((5, 3, 9, 9)).astype(np.float32)
    y = np.array([0, 1, 1, 0, 1])
    losses = {}
    for backend in ("torch", "keras"):
        with emitted_train(result, backend, tmp_path / backend) as train:
            if backend == "torch":
                torch.manual_seed(0)
                model = train.M()
                sys.modules["model"].save_canonical(model, str(tmp_path / "w.safetensors"))
                training = train.Training(model)
                loss, correct = training.evaluate(torch.from_numpy(x), torch.from_numpy(y))
                with torch.no_grad():
                    scores = (
                        model(torch.from_numpy(x)) + model(torch.from_numpy(x[..., ::-1].copy()))
                    ) / 2
                    expected = torch.nn.functional.cross_entropy(scores, torch.from_numpy(y))
                assert float(loss) == pytest.approx(float(expected), rel=1e-6)
                assert int(correct) == int((scores.argmax(1).numpy() == y).sum())
            else:
                model = train.build_m()
                sys.modules["model"].load_canonical(model, str(tmp_path / "w.safetensors"))
                loss, _ = train.Training(model).evaluate(x, y)
            losses[backend] = float(loss)
    assert losses["torch"] == pytest.approx(losses["keras"], rel=1e-5)


def test_test_time_augmentation_is_for_image_classifiers() -> None:
    text = "model S {\n  input x: [6, 4]\n  lstm(3)\n  dense(2)\n}\n"
    text += "train S {\n  data = synthetic(n=8, classes=2)\n  tta = true\n}\n"
    assert [d.code for d in compile_source(text, "t.net").diagnostics] == ["E0644"]


def test_value_shifts_where_values_must_stay_in_zero_one() -> None:
    """Brightness and contrast are refused for a `bce` reconstruction and an RBM (E0645);
    a failed `augment` does not hide the model's class-count error."""
    autoencoder = (
        "model A {\n  input image: [1, 8, 8]\n  flatten -> dense(64) -> reshape([1, 8, 8])\n}\n"
        "train A {\n  data = digits(scale=unit)\n  target = input\n  loss = bce_with_logits\n"
        "  augment = [random_brightness(0.2)]\n}\n"
    )
    rbm = (
        "model R {\n  input image: [1, 8, 8]\n  flatten\n  rbm(16)\n}\n"
        "train R {\n  data = digits(scale=binary)\n  target = input\n"
        "  augment = [random_flip, random_contrast(0.3)]\n}\n"
    )
    for text in (autoencoder, rbm):
        assert [d.code for d in compile_source(text, "t.net").diagnostics] == ["E0645"]
    mse = autoencoder.replace("bce_with_logits", "mse")
    assert compile_source(mse, "t.net").diagnostics == []
    both = SPEC.format("random_rotation(300)").replace("dense(2)", "dense(5)")
    codes = sorted(d.code for d in compile_source(both, "t.net").diagnostics)
    assert codes == ["E0603", "E0613"]
