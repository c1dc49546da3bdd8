"""specc.tools.datasets: loaders on tiny fixtures, digits, resize, errors, npz round trip."""

from __future__ import annotations

import gzip
import pickle
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from specc.ir.train_config import (
    Adding,
    Cifar10,
    CopyTask,
    Digits,
    Mnist,
    Npz,
    Series,
    Synthetic,
)
from specc.tools import datasets
from specc.tools.datasets import (
    CIFAR10_MEAN,
    CIFAR10_STD,
    MNIST_MEAN,
    MNIST_STD,
    Arrays,
    DataError,
    check_against_model,
    load,
    load_npz,
    resize_bilinear,
    save_npz,
)


# ----- fixtures --------------------------------------------------------------------------------
def idx_bytes(array: np.ndarray) -> bytes:
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_mnist(folder: Path, gz: bool, n_train: int = 6, n_test: int = 4) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    raw = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 5, 4), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 5, 4), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in raw.items():
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(idx_bytes(array)))
        else:
            (folder / name).write_bytes(idx_bytes(array))
    return raw


def write_cifar(folder: Path, per_batch: int = 3) -> list[tuple[np.ndarray, list[int]]]:
    rng = np.random.default_rng(4)
    folder.mkdir(parents=True, exist_ok=True)
    batches = []
    for name in datasets.CIFAR10_FILES:
        data = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, per_batch)]
        with (folder / name).open("wb") as f:
            pickle.dump({b"data": data, b"labels": labels, b"batch_label": b"x"}, f)
        batches.append((data, labels))
    return batches


def write_npz(path: Path, **overrides: np.ndarray) -> None:
    rng = np.random.default_rng(5)
    arrays = {
        "x_train": rng.standard_normal((8, 2, 3)),
        "y_train": rng.integers(0, 3, 8),
        "x_test": rng.standard_normal((4, 2, 3)),
        "y_test": rng.integers(0, 3, 4),
    }
    arrays.update(overrides)
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})


def same(a: Arrays, b: Arrays) -> bool:
    return a.classes == b.classes and all(
        np.array_equal(getattr(a, k), getattr(b, k)) and getattr(a, k).dtype == getattr(b, k).dtype
        for k in ("x_train", "y_train", "x_test", "y_test")
    )


# ----- import ----------------------------------------------------------------------------------
def test_import_is_light() -> None:
    code = (
        "import sys, specc.tools.datasets; "
        "print(any(m.split('.')[0] in ('sklearn', 'torch', 'tensorflow') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ----- resize ----------------------------------------------------------------------------------
def test_resize_known_example() -> None:
    # 2 -> 4 along each axis, align_corners=False: source coords -0.25, 0.25, 0.75, 1.25,
    # clamped to [0, 1] -> weights of the second pixel 0, 0.25, 0.75, 1.
    image = np.array([[0.0, 4.0], [8.0, 12.0]])
    expected_row = np.array([0.0, 1.0, 3.0, 4.0])
    out = resize_bilinear(image, (4, 4))
    expected = expected_row[None, :] + 2 * expected_row[:, None]
    np.testing.assert_allclose(out, expected)
    # a 1-d ramp scaled 3 -> 2: coords 0.25 and 1.75
    np.testing.assert_allclose(resize_bilinear(np.array([[0.0, 1.0, 2.0]]), (1, 2)), [[0.25, 1.75]])


def test_resize_identity_and_constant() -> None:
    rng = np.random.default_rng(0)
    image = rng.standard_normal((3, 8, 8))
    np.testing.assert_array_equal(resize_bilinear(image, (8, 8)), image)
    np.testing.assert_allclose(resize_bilinear(np.full((5, 7), 2.5), (11, 3)), 2.5)


# ----- digits ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def digits16() -> Arrays:
    return load(Digits(size=16), (1, 16, 16))


def test_digits_shapes_and_split(digits16: Arrays) -> None:
    d = digits16
    assert d.x_train.shape == (1437, 1, 16, 16) and d.x_test.shape == (360, 1, 16, 16)
    assert d.x_train.dtype == np.float32 and d.y_train.dtype == np.int64
    assert d.classes == 10
    # stratified: every class's share of the test split is within one sample of 20%
    total = np.bincount(np.concatenate([d.y_train, d.y_test]), minlength=10)
    test = np.bincount(d.y_test, minlength=10)
    assert np.all(np.abs(test - 0.2 * total) < 1)


def test_digits_normalised_with_train_statistics(digits16: Arrays) -> None:
    assert abs(float(digits16.x_train.mean())) < 1e-4
    assert abs(float(digits16.x_train.std()) - 1) < 1e-4
    assert abs(float(digits16.x_test.mean())) < 0.1  # test uses the train statistics


def test_digits_deterministic_and_seed_independent(digits16: Arrays) -> None:
    again = load(Digits(size=16), (1, 16, 16), seed=123)
    assert same(digits16, again)
    # size 8 keeps the raw 8x8 pixels, and the same split
    small = load(Digits(), (1, 8, 8))
    assert small.x_train.shape == (1437, 1, 8, 8)
    np.testing.assert_array_equal(small.y_train, digits16.y_train)


def test_digits_read_without_importing_scikit_learn_are_its_digits() -> None:
    """The CSV is read directly (importing scikit-learn costs over a second of every run);
    the pixels and labels are exactly what scikit-learn's own loader gives."""
    code = (
        "import sys; from specc.tools.datasets import _digits_8x8; images, labels = _digits_8x8(); "
        "assert not [m for m in sys.modules if m.startswith('sklearn')]; "
        "import numpy as np; from sklearn.datasets import load_digits; d = load_digits(); "
        "assert np.array_equal(images, d.images) and np.array_equal(labels, d.target)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_digits_rejects_token_models() -> None:
    with pytest.raises(DataError, match="integer token ids"):
        load(Digits(), (1, 8, 8), input_dtype="int")


# ----- MNIST -----------------------------------------------------------------------------------
@pytest.mark.parametrize("gz", [False, True])
def test_mnist_loads_idx(tmp_path: Path, gz: bool) -> None:
    raw = write_mnist(tmp_path, gz)
    a = load(Mnist(path=str(tmp_path)), (1, 5, 4))
    assert a.x_train.shape == (6, 1, 5, 4) and a.x_test.shape == (4, 1, 5, 4)
    assert a.x_train.dtype == np.float32 and a.y_train.dtype == np.int64 and a.classes == 10
    expected = (raw["train-images-idx3-ubyte"][:, None] / 255.0 - MNIST_MEAN) / MNIST_STD
    np.testing.assert_allclose(a.x_train, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(a.y_test, raw["t10k-labels-idx1-ubyte"])


def test_mnist_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist") as e:
        load(Mnist(path=str(tmp_path / "nope")), (1, 28, 28))
    assert "nope" in str(e.value)
    assert all(name in str(e.value) for name in datasets.MNIST_FILES)


def test_mnist_missing_file_lists_what_it_looked_for(tmp_path: Path) -> None:
    write_mnist(tmp_path, gz=True)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError) as e:
        load(Mnist(path=str(tmp_path)), (1, 5, 4))
    message = str(e.value)
    assert str(tmp_path / "t10k-labels-idx1-ubyte") in message
    assert str(tmp_path / "t10k-labels-idx1-ubyte.gz") in message
    assert "train-images" not in message.split(";")[0]  # only the missing file is listed


def test_mnist_corrupt_header_names_file(tmp_path: Path) -> None:
    write_mnist(tmp_path, gz=False)
    bad = tmp_path / "train-images-idx3-ubyte"
    bad.write_bytes(b"\x12\x34" + bad.read_bytes()[2:])
    with pytest.raises(DataError, match="bad magic number") as e:
        load(Mnist(path=str(tmp_path)), (1, 5, 4))
    assert str(bad) in str(e.value)


def test_mnist_truncated_file(tmp_path: Path) -> None:
    write_mnist(tmp_path, gz=False)
    bad = tmp_path / "t10k-images-idx3-ubyte"
    bad.write_bytes(bad.read_bytes()[:-3])
    with pytest.raises(DataError, match="truncated or corrupt") as e:
        load(Mnist(path=str(tmp_path)), (1, 5, 4))
    assert str(bad) in str(e.value)


def test_mnist_bad_gzip_and_count_mismatch(tmp_path: Path) -> None:
    write_mnist(tmp_path, gz=True)
    bad = tmp_path / "train-labels-idx1-ubyte.gz"
    bad.write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match="cannot read") as e:
        load(Mnist(path=str(tmp_path)), (1, 5, 4))
    assert str(bad) in str(e.value)
    bad.write_bytes(gzip.compress(idx_bytes(np.zeros(5, dtype=np.uint8))))
    with pytest.raises(DataError, match="differ in count"):
        load(Mnist(path=str(tmp_path)), (1, 5, 4))


# ----- CIFAR-10 --------------------------------------------------------------------------------
@pytest.mark.parametrize("nested", [False, True])
def test_cifar10_loads_batches(tmp_path: Path, nested: bool) -> None:
    folder = tmp_path / datasets.CIFAR10_SUBFOLDER if nested else tmp_path
    batches = write_cifar(folder)
    a = load(Cifar10(path=str(tmp_path)), (3, 32, 32))
    assert a.x_train.shape == (15, 3, 32, 32) and a.x_test.shape == (3, 3, 32, 32)
    assert a.x_train.dtype == np.float32 and a.y_train.dtype == np.int64 and a.classes == 10
    data, labels = batches[0]
    first = data[0].reshape(3, 32, 32) / 255.0
    expected = (first - np.array(CIFAR10_MEAN)[:, None, None]) / np.array(CIFAR10_STD)[
        :, None, None
    ]
    np.testing.assert_allclose(a.x_train[0], expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(a.y_train[:3], labels)
    np.testing.assert_array_equal(a.y_test, batches[-1][1])


def test_cifar10_missing(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist") as e:
        load(Cifar10(path=str(tmp_path / "nope")), (3, 32, 32))
    assert "test_batch" in str(e.value) and "cifar-10-batches-py" in str(e.value)
    write_cifar(tmp_path)
    (tmp_path / "data_batch_3").unlink()
    with pytest.raises(DataError, match="files missing") as e:
        load(Cifar10(path=str(tmp_path)), (3, 32, 32))
    assert str(tmp_path / "data_batch_3") in str(e.value)


def test_cifar10_corrupt_batch(tmp_path: Path) -> None:
    write_cifar(tmp_path)
    bad = tmp_path / "data_batch_2"
    bad.write_bytes(b"garbage")
    with pytest.raises(DataError, match="cannot unpickle") as e:
        load(Cifar10(path=str(tmp_path)), (3, 32, 32))
    assert str(bad) in str(e.value)
    with bad.open("wb") as f:
        pickle.dump({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}, f)
    with pytest.raises(DataError, match=r"expected uint8\[N, 3072\]"):
        load(Cifar10(path=str(tmp_path)), (3, 32, 32))


# ----- npz -------------------------------------------------------------------------------------
def test_npz_loads(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    write_npz(path)
    a = load(Npz(path=str(path)), (2, 3))
    assert a.x_train.dtype == np.float32 and a.y_train.dtype == np.int64
    assert a.x_train.shape == (8, 2, 3) and a.classes is not None and a.classes <= 3


def test_npz_float_targets_and_int_inputs(tmp_path: Path) -> None:
    path = tmp_path / "r.npz"
    write_npz(
        path,
        x_train=np.arange(16).reshape(8, 2),
        x_test=np.arange(8).reshape(4, 2),
        y_train=np.linspace(0, 1, 8),
        y_test=np.linspace(0, 1, 4),
    )
    tokens = load(Npz(path=str(path)), (2,), input_dtype="int")
    assert tokens.x_train.dtype == np.int64
    assert tokens.y_train.dtype == np.float32 and tokens.classes is None
    floats = load(Npz(path=str(path)), (2,), input_dtype="float")
    assert floats.x_train.dtype == np.float32
    write_npz(path, x_train=np.full((8, 2), 0.5), x_test=np.zeros((4, 2)))
    with pytest.raises(DataError, match="non-integer values"):
        load(Npz(path=str(path)), (2,), input_dtype="int")


def test_npz_errors(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    with pytest.raises(DataError, match="does not exist") as e:
        load(Npz(path=str(path)), (2, 3))
    assert str(path) in str(e.value)
    write_npz(path, y_test=None, x_test=None)  # type: ignore[arg-type]
    with pytest.raises(DataError, match="lacks x_test, y_test") as e:
        load(Npz(path=str(path)), (2, 3))
    assert str(path) in str(e.value)
    write_npz(path, y_train=np.zeros(7, dtype=np.int64))
    with pytest.raises(DataError, match="x_train has 8 samples but y_train has 7"):
        load(Npz(path=str(path)), (2, 3))
    path.write_bytes(b"not a zip")
    with pytest.raises(DataError, match=r"is not an .npz \(zip\) file"):
        load(Npz(path=str(path)), (2, 3))
    np.savez(path, x_train=np.array([{"a": 1}], dtype=object), y_train=1, x_test=1, y_test=1)
    with pytest.raises(DataError, match="object arrays"):
        load(Npz(path=str(path)), (2, 3))


# ----- synthetic -------------------------------------------------------------------------------
def test_synthetic_deterministic() -> None:
    a = load(Synthetic(n=50, classes=4), (3, 5), seed=7)
    assert same(a, load(Synthetic(n=50, classes=4), (3, 5), seed=7))
    assert not np.array_equal(a.x_train, load(Synthetic(n=50, classes=4), (3, 5), seed=8).x_train)
    assert a.x_train.shape == (40, 3, 5) and a.x_test.shape == (10, 3, 5)
    assert a.x_train.dtype == np.float32 and a.y_train.dtype == np.int64 and a.classes == 4
    assert a.y_train.min() >= 0 and a.y_train.max() < 4


def test_synthetic_tokens() -> None:
    a = load(Synthetic(n=10, classes=2), (6,), input_dtype="int")
    assert a.x_train.dtype == np.int64 and a.x_train.shape == (8, 6)
    assert a.x_train.min() >= 0 and a.x_train.max() < datasets.TOKEN_IDS
    with pytest.raises(DataError, match="n >= 2"):
        load(Synthetic(n=1), (6,))


def test_synthetic_per_step_labels_and_token_range() -> None:
    a = datasets.synthetic(40, 3, (5,), "int", seed=2, steps=5, vocab=7)
    assert a.y_train.shape == (32, 5) and a.y_test.shape == (8, 5) and a.classes == 3
    assert a.x_train.max() == 6 and a.x_train.min() == 0  # every id below vocab, none above
    assert set(np.unique(a.y_train)) == {0, 1, 2}
    assert same(a, datasets.synthetic(40, 3, (5,), "int", seed=2, steps=5, vocab=7))
    # a vocab above TOKEN_IDS keeps the ids (and the random stream) of no vocab at all
    assert same(
        datasets.synthetic(40, 3, (5,), "int", seed=2, vocab=100_000),
        datasets.synthetic(40, 3, (5,), "int", seed=2),
    )


# ----- save / load -----------------------------------------------------------------------------
def test_save_load_round_trip(tmp_path: Path) -> None:
    a = load(Synthetic(n=20, classes=3), (2, 2), seed=1)
    path = tmp_path / "cache.npz"
    save_npz(a, path)
    assert same(a, load_npz(path))
    assert [p.name for p in tmp_path.iterdir()] == ["cache.npz"]  # no temp file left
    regression = Arrays(a.x_train, a.x_train[:, 0], a.x_test, a.x_test[:, 0], classes=None)
    save_npz(regression, path)  # overwrite in place
    assert same(regression, load_npz(path))
    assert [p.name for p in tmp_path.iterdir()] == ["cache.npz"]


def test_save_failure_leaves_no_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "cache.npz"
    save_npz(load(Synthetic(n=4), (1,)), path)
    before = path.read_bytes()

    def fail_halfway(file: object, **arrays: np.ndarray) -> None:
        file.write(b"partial")  # type: ignore[attr-defined]
        raise RuntimeError("disk full")

    monkeypatch.setattr(np, "savez", fail_halfway)
    with pytest.raises(RuntimeError, match="disk full"):
        save_npz(load(Synthetic(n=6), (1,)), path)
    assert [p.name for p in tmp_path.iterdir()] == ["cache.npz"]
    assert path.read_bytes() == before  # the old file is untouched


# ----- checks against the model ----------------------------------------------------------------
def small_arrays(**changes: np.ndarray) -> Arrays:
    fields = {
        "x_train": np.zeros((4, 1, 8, 8), np.float32),
        "y_train": np.array([0, 1, 2, 3]),
        "x_test": np.zeros((2, 1, 8, 8), np.float32),
        "y_test": np.array([1, 2]),
    }
    fields.update(changes)
    return Arrays(**fields, classes=None)


def test_check_accepts_good_data() -> None:
    check_against_model(small_arrays(), (1, 8, 8), (10,), "cross_entropy")
    check_against_model(small_arrays(), (None, 8, 8), (4,), "nll")
    binary = small_arrays(y_train=np.array([0, 1, 1, 0]), y_test=np.array([1, 0]))
    check_against_model(binary, (1, 8, 8), (1,), "bce_with_logits")
    targets = small_arrays(y_train=np.zeros((4, 3), np.float32), y_test=np.ones((2, 3), np.float32))
    check_against_model(targets, (1, 8, 8), (3,), "mse")
    scalar = small_arrays(y_train=np.zeros(4, np.float32), y_test=np.ones(2, np.float32))
    check_against_model(scalar, (1, 8, 8), (1,), "huber")


@pytest.mark.parametrize(
    ("arrays", "input_shape", "output_shape", "loss", "message"),
    [
        (small_arrays(), (1, 16, 16), (10,), "cross_entropy", r"digits\(size=16\)"),
        (small_arrays(), (1, 8, 8), (3,), "cross_entropy", r"labels 0..3, outside \[0, 3\)"),
        (
            small_arrays(y_test=np.array([-1, 0])),
            (1, 8, 8),
            (10,),
            "nll",
            r"labels -1..0, outside",
        ),
        (small_arrays(), (1, 8, 8), (1,), "bce", "needs labels 0 or 1"),
        (
            small_arrays(y_train=np.linspace(0, 1, 4)),
            (1, 8, 8),
            (10,),
            "cross_entropy",
            "needs integer class labels",
        ),
        (
            small_arrays(x_train=np.full((4, 1, 8, 8), np.nan, np.float32)),
            (1, 8, 8),
            (10,),
            "cross_entropy",
            "256 NaN or infinite",
        ),
        (
            small_arrays(x_test=np.zeros((0, 1, 8, 8), np.float32), y_test=np.zeros(0, int)),
            (1, 8, 8),
            (10,),
            "cross_entropy",
            "test split is empty",
        ),
        (
            small_arrays(y_train=np.array([0, 1, 2])),
            (1, 8, 8),
            (10,),
            "cross_entropy",
            "x_train has 4 samples but y_train has 3",
        ),
        (
            small_arrays(y_train=np.zeros((4, 2), np.float32), y_test=np.zeros((2, 2), np.float32)),
            (1, 8, 8),
            (3,),
            "mse",
            r"targets y_train are \[2\] per sample, but the model gives \[3\]",
        ),
    ],
)
def test_check_rejects(
    arrays: Arrays,
    input_shape: tuple[int, ...],
    output_shape: tuple[int, ...],
    loss: str,
    message: str,
) -> None:
    with pytest.raises(DataError, match=message) as e:
        check_against_model(arrays, input_shape, output_shape, loss, source="data.npz")
    assert str(e.value).startswith("data.npz: ")


def test_check_class_count() -> None:
    arrays = Arrays(
        np.zeros((2, 3), np.float32),
        np.array([0, 1]),
        np.zeros((1, 3), np.float32),
        np.array([0]),
        10,
    )
    with pytest.raises(DataError, match=r"10 classes, but the model gives 5.*dense\(10\)"):
        check_against_model(arrays, (3,), (5,), "cross_entropy")


def tokens(x: np.ndarray, y: np.ndarray) -> Arrays:
    return Arrays(x, y, x[:1], y[:1], classes=None)


def test_check_token_ids_against_the_embedding() -> None:
    x = np.array([[3, 4, 0], [5, 0, 0]])
    labels = np.array([0, 1])
    check_against_model(tokens(x, labels), (3,), (2,), "cross_entropy", vocab=6, mask_zero=True)
    with pytest.raises(DataError, match=r"x_train holds token ids 0..5, .*`embedding\(5, ...\)` "
                       r"takes ids 0..4; use `embedding\(6, ...\)`"):  # fmt: skip
        check_against_model(tokens(x, labels), (3,), (2,), "cross_entropy", vocab=5)
    with pytest.raises(DataError, match=r"data.npz: row 1 of x_train has a real token after"):
        check_against_model(
            tokens(np.array([[3, 4, 0], [0, 0, 5]]), labels), (3,), (2,), "cross_entropy",
            "data.npz", mask_zero=True,
        )  # fmt: skip
    with pytest.raises(DataError, match=r"row 0 of x_train is all padding"):
        check_against_model(
            tokens(np.array([[0, 0, 0], [1, 0, 0]]), labels), (3,), (2,), "cross_entropy",
            mask_zero=True,
        )  # fmt: skip
    # without mask_zero, 0 is an ordinary token anywhere
    check_against_model(tokens(np.array([[0, 0, 0], [0, 0, 5]]), labels), (3,), (2,), "nll")


def test_check_float_padding_for_masking() -> None:
    """`masking(value)`: steps whose features all equal the value pad each row at its end."""
    x = np.random.default_rng(0).standard_normal((2, 4, 3)).astype(np.float32)
    x[0, 2:] = -1.0  # lengths 2 and 4
    labels = np.array([0, 1])
    check_against_model(tokens(x, labels), (4, 3), (2,), "cross_entropy", pad_value=-1.0)
    gap = x.copy()
    gap[1, 1] = -1.0
    with pytest.raises(DataError, match=r"row 1 of x_train has a real step after padding, but "
                       r"`masking\(-1.0\)` needs the padding after the real steps"):  # fmt: skip
        check_against_model(tokens(gap, labels), (4, 3), (2,), "cross_entropy", pad_value=-1.0)
    empty = x.copy()
    empty[1] = -1.0
    with pytest.raises(DataError, match=r"row 1 of x_train is all padding, but `masking"):
        check_against_model(tokens(empty, labels), (4, 3), (2,), "cross_entropy", pad_value=-1.0)
    # a step equal to the value in some features only is a real step
    partly = x.copy()
    partly[1, 1, 0] = -1.0
    check_against_model(tokens(partly, labels), (4, 3), (2,), "cross_entropy", pad_value=-1.0)


def test_check_per_step_labels() -> None:
    x = np.ones((2, 4), np.int64)
    per_step = np.array([[0, 1, 2, 0], [1, 1, 1, 1]])
    check_against_model(tokens(x, per_step), (4,), (4, 3), "cross_entropy", vocab=2)
    with pytest.raises(DataError, match=r"per-step scores \[4, 3\].*y_train is \[2\]"):
        check_against_model(tokens(x, np.array([0, 1])), (4,), (4, 3), "cross_entropy")
    with pytest.raises(DataError, match=r"one class label per sample, but y_train is \[2, 4\]"):
        check_against_model(tokens(x, per_step), (4,), (3,), "cross_entropy")


@pytest.mark.parametrize(
    ("config", "dtype", "message"),
    [
        (Digits(rows=True), "int", "`digits` gives numbers"),
        (Adding(length=4, n=10), "int", "`adding` gives numbers"),
        (Series(n=10, window=4), "int", "`series` gives numbers"),
        (CopyTask(length=2, delay=2, n=10), "float", "`copy_task` gives integer token ids"),
    ],
)
def test_load_refuses_data_of_the_wrong_kind_for_the_input(
    config: object, dtype: str, message: str
) -> None:
    with pytest.raises(DataError, match=message):
        load(config, (4,), dtype)


def test_kinds_of_samples_agree_with_the_compiler() -> None:
    from specc.ir import train_config

    assert datasets.FLOAT_KINDS == train_config.FLOAT_DATASETS
    assert datasets.TOKEN_KINDS == train_config.TOKEN_DATASETS
    assert set(datasets.FLOAT_KINDS + datasets.TOKEN_KINDS + ("npz", "synthetic")) == set(
        train_config.DATASETS
    )


def test_a_class_subset_keeps_those_classes_relabelled_in_order() -> None:
    """`digits(classes=[7, 2])`: the samples of 7 and 2 alone, labelled 0 and 1, scaled as the
    whole set is (so two subsets of it are alike); the checks count its classes."""
    from specc.compiler import compile_source
    from specc.ir.train_config import Digits
    from specc.tools import datasets

    whole = datasets.load_digits(8)
    subset = datasets.load(Digits(classes=(7, 2)), (1, 8, 8), "float")
    assert subset.classes == 2
    for split in ("train", "test"):
        y_whole, x_whole = getattr(whole, f"y_{split}"), getattr(whole, f"x_{split}")
        keep = (y_whole == 7) | (y_whole == 2)
        np.testing.assert_array_equal(getattr(subset, f"x_{split}"), x_whole[keep])
        np.testing.assert_array_equal(getattr(subset, f"y_{split}"), (y_whole[keep] == 2) * 1)
    spec = (
        "model M {\n  input image: [1, 8, 8]\n  flatten\n  dense(CLASSES)\n}\n"
        "train M {\n  data = digits(classes=SUBSET)\n}\n"
    )
    codes = {
        (classes, subset): [
            d.code
            for d in compile_source(
                spec.replace("CLASSES", classes).replace("SUBSET", subset), "t.net"
            ).diagnostics
        ]
        for classes, subset in (
            ("2", "[0, 1]"),
            ("10", "[0, 1]"),
            ("2", "[1, 1]"),
            ("2", "[3, 10]"),
        )
    }
    assert codes == {
        ("2", "[0, 1]"): [],
        ("10", "[0, 1]"): ["E0613"],
        ("2", "[1, 1]"): ["E0603"],
        ("2", "[3, 10]"): ["E0603"],
    }


def test_npz_rescale_and_one_hot_labels(tmp_path: Path) -> None:
    """`npz(path, rescale=1/255)` scales stored 0..255 pixels; one-hot label rows become
    class labels for a classifier; other label rows are refused with the fix."""
    from specc.compiler import compile_source
    from specc.tools import datasets
    from specc.tools.run import prepare_data

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (20, 1, 4, 4)).astype(np.uint8)
    y = rng.integers(0, 3, 20)
    path = tmp_path / "raw.npz"
    np.savez(
        path, x_train=x[:15], y_train=np.eye(3)[y[:15]], x_test=x[15:], y_test=np.eye(3)[y[15:]]
    )
    spec = (
        "model M {\n  input image: [1, 4, 4]\n  flatten\n  dense(3)\n}\n"
        f'train M {{\n  data = npz("{path}", rescale=1/255)\n}}\n'
    )
    arrays = prepare_data(compile_source(spec, "t.net").spec)
    assert isinstance(arrays, datasets.Arrays)
    np.testing.assert_allclose(arrays.x_train, x[:15] / np.float32(255), rtol=1e-6)
    np.testing.assert_array_equal(arrays.y_train, y[:15])
    assert arrays.y_train.dtype == np.int64 and arrays.classes == 3
    # soft labels (class probabilities) stay rows, for `cross_entropy`; other rows are errors
    soft = np.full((15, 3), 1 / 3)
    arrays = datasets.labels_from_one_hot(
        datasets.Arrays(x[:15], soft, x[15:], np.eye(3)[y[15:]], None), "the file"
    )
    assert arrays.y_train.shape == (15, 3) and arrays.y_train.dtype == np.float32
    assert arrays.y_test.tolist() == y[15:].tolist() and arrays.classes == 3
    with pytest.raises(datasets.DataError, match="neither one-hot"):
        datasets.labels_from_one_hot(
            datasets.Arrays(x[:15], soft * 2, x[15:], soft[:5], None), "the file"
        )
    for loss in ("cross_entropy", "nll"):
        text = spec.replace("rescale=1/255)", f"rescale=1/255)\n  loss = {loss}")
        np.savez(path, x_train=x[:15], y_train=soft, x_test=x[15:], y_test=np.eye(3)[y[15:]])
        result = prepare_data(compile_source(text, "t.net").spec)
        if loss == "cross_entropy":
            assert isinstance(result, datasets.Arrays) and result.y_train.ndim == 2
        else:
            assert result == 1  # "`nll` needs class labels [N]: use `cross_entropy`"


def test_label_columns_and_rescaled_token_ids() -> None:
    """Integer labels [N, 1] (Keras's cifar10.load_data()) are class labels [N]; `rescale`
    on a model taking token ids is E0646."""
    from specc.compiler import compile_source
    from specc.tools import datasets

    x = np.zeros((4, 2), np.float32)
    arrays = datasets.labels_from_one_hot(
        datasets.Arrays(x, np.array([[1], [0], [2], [1]]), x, np.array([[0], [1], [2], [2]]), 3),
        "the file",
    )
    np.testing.assert_array_equal(arrays.y_train, [1, 0, 2, 1])
    assert arrays.y_test.shape == (4,)
    text = (
        "model T {\n  input t: [5] int\n  embedding(10, 4) -> flatten\n  dense(2)\n}\n"
        'train T {\n  data = npz("ids.npz", rescale=0.5)\n}\n'
    )
    assert [d.code for d in compile_source(text, "t.net").diagnostics] == ["E0646"]
