"""Data-set loaders for training runs: numpy arrays in the language's layout.

Images come out channels-first, [N, C, H, W] float32; token inputs int64; class labels int64.
Everything here is local: nothing is downloaded, nothing is cached on disk. The digits are read
from the CSV file inside scikit-learn's package without importing it (that alone takes over a
second)."""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import importlib.util
import math
import os
import pickle
import struct
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from specc.ir.train_config import DataSet

__all__ = [
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "MNIST_MEAN",
    "MNIST_STD",
    "Arrays",
    "DataError",
    "check_against_model",
    "load",
    "load_npz",
    "resize_bilinear",
    "save_npz",
]

PathLike = str | os.PathLike[str]

MNIST_MEAN = 0.1307
MNIST_STD = 0.3081
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)

TEST_FRACTION = 0.2
SPLIT_SEED = 0  # digits' split never depends on the training seed
TOKEN_IDS = 100  # synthetic token inputs are ids in [0, TOKEN_IDS)

MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
CIFAR10_FILES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)
CIFAR10_SUBFOLDER = "cifar-10-batches-py"
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
BCE_LOSSES = ("bce", "bce_with_logits")
#: data sets of float samples, and of integer token ids (train_config's FLOAT_DATASETS and
#: TOKEN_DATASETS; not imported, so that loading data never imports pydantic)
FLOAT_KINDS = ("digits", "mnist", "cifar10", "adding", "series")
TOKEN_KINDS = ("text", "copy_task", "imdb")
CLASSIFICATION_LOSSES = ("cross_entropy", "nll")


@dataclass(frozen=True)
class Arrays:
    """Train and test splits. x: [N, *sample_shape]; y: [N] class labels or [N, ...] targets."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: int | None  # number of classes for class labels, else None
    #: token id i -> tokens[i], for data sets made from text (saved in the run folder)
    vocab: tuple[str, ...] | None = None


class DataError(Exception):
    """A data set is missing, malformed, or does not fit the model. The message says what is
    wrong, where (file or folder), and how to fix it."""


# ----- entry point -----------------------------------------------------------------------------
def load(
    config: DataSet | Any,
    input_shape: tuple[int, ...],
    input_dtype: str = "float",
    seed: int = 0,
    *,
    output_shape: Sequence[int | None] = (),
    vocab: int | None = None,
    mask_zero: bool = False,
) -> Arrays:
    """Load the data set `config` (one of specc.ir.train_config's data sets) for a model taking
    samples of `input_shape` with `input_dtype` ("float" or "int") and giving `output_shape`.
    `seed` affects the generated sets (`synthetic`, `adding`, `series`, `copy_task`); every
    file's split is fixed. `synthetic` makes per-step labels [T] for a model giving per-step
    scores [T, classes], token ids below `vocab` (the model's embedding size) if given, and
    no id 0 if `mask_zero` (the embedding's padding id)."""
    if input_dtype not in ("float", "int"):
        raise ValueError(f"input_dtype must be 'float' or 'int', got {input_dtype!r}")
    kind = getattr(config, "kind", None)
    if kind in FLOAT_KINDS and input_dtype == "int":
        raise DataError(
            f"`{kind}` gives numbers (float samples), but the model takes integer token ids; "
            "use `npz(...)` or `synthetic(...)` with integer inputs, or give the model a "
            "float input"
        )
    if kind in TOKEN_KINDS and input_dtype == "float":
        raise DataError(
            f"`{kind}` gives integer token ids, but the model takes float samples; declare "
            "the input as `[T] int` and start the model with `embedding(vocab, dim)`"
        )
    if kind == "digits":
        arrays = class_subset(load_digits(config.size, config.scale), config.classes)
        arrays = few_shot(arrays, config.per_class)
        return as_rows(arrays) if config.rows else arrays
    if kind == "adding":
        return adding(config.length, config.n, seed)
    if kind == "series":
        return series(config.n, config.window, config.period, config.noise, seed)
    if kind == "text":
        return load_text(config.path, config.length)
    if kind == "copy_task":
        return copy_task(config.symbols, config.length, config.delay, config.n, seed)
    if kind == "imdb":
        return load_imdb(config.path, config.length, config.vocab, config.padding)
    if kind == "mnist":
        arrays = class_subset(load_mnist(config.path, config.scale), config.classes)
        arrays = few_shot(arrays, config.per_class)
        return as_rows(arrays) if config.rows else arrays
    if kind == "cifar10":
        arrays = class_subset(load_cifar10(config.path), config.classes)
        return few_shot(arrays, config.per_class)
    if kind == "npz":
        arrays = _as_input_dtype(load_npz(config.path), input_dtype, str(config.path))
        return rescaled(arrays, config.rescale)
    if kind == "synthetic":
        out = tuple(output_shape)
        steps = out[0] if len(out) == 2 else None  # per-step scores [T, classes]
        return synthetic(
            config.n, config.classes, tuple(input_shape), input_dtype, seed, steps, vocab,
            mask_zero,
        )  # fmt: skip
    raise DataError(
        f"unknown data set kind {kind!r}; use one of digits, mnist, cifar10, npz, synthetic, "
        "adding, series, text, copy_task, imdb"
    )


# ----- digits ----------------------------------------------------------------------------------
def rescaled(arrays: Arrays, factor: float) -> Arrays:
    """Float inputs multiplied by `factor` (token ids are left alone)."""
    if factor == 1.0 or not np.issubdtype(arrays.x_train.dtype, np.floating):
        return arrays
    scale = np.float32(factor)
    return dataclasses.replace(arrays, x_train=arrays.x_train * scale, x_test=arrays.x_test * scale)


def labels_from_one_hot(arrays: Arrays, source: str) -> Arrays:
    """Label rows [N, C] for a classification loss on one class per sample: one-hot rows
    (each all 0 but one 1) become class labels [N]; soft labels (class probabilities, each
    row non-negative and summing to 1) stay float32 rows, which the loss takes as they are.
    Other labels are left as they are."""
    ys = [arrays.y_train, arrays.y_test]
    if any(y.ndim != 2 for y in ys):
        return arrays
    if all(y.shape[1] == 1 and np.issubdtype(y.dtype, np.integer) for y in ys):
        # class labels as a column [N, 1], as Keras's cifar10.load_data() gives them
        return dataclasses.replace(arrays, y_train=ys[0][:, 0], y_test=ys[1][:, 0])
    out = []
    for split, y in zip(("train", "test"), ys, strict=True):
        if np.isin(y, (0, 1)).all() and (y.sum(axis=1) == 1).all():
            out.append(y.argmax(axis=1).astype(np.int64))
        elif (
            np.issubdtype(y.dtype, np.floating)
            and np.isfinite(y).all()
            and (y >= 0).all()
            and np.allclose(y.sum(axis=1), 1.0, atol=1e-3)
        ):
            out.append(y.astype(np.float32))
        else:
            raise DataError(
                f"{source}: y_{split} holds rows of {y.shape[1]} values that are neither "
                "one-hot (all 0 but one 1) nor class probabilities (non-negative floats "
                "summing to 1); save class labels [N], one-hot rows or soft labels [N, classes]"
            )
    if ys[0].shape[1] != ys[1].shape[1]:
        raise DataError(
            f"{source}: y_train has rows of {ys[0].shape[1]} classes, y_test of "
            f"{ys[1].shape[1]}; save both splits with the same classes"
        )
    return dataclasses.replace(arrays, y_train=out[0], y_test=out[1], classes=ys[0].shape[1])


def class_subset(arrays: Arrays, classes: Sequence[int] | None) -> Arrays:
    """The samples of `classes` alone, relabelled 0, 1, ... in the order given (None: all).
    Pixel statistics stay the whole set's, so two subsets are scaled alike."""
    if classes is None:
        return arrays
    relabel = np.full(max(int(arrays.y_train.max()), int(arrays.y_test.max()), *classes) + 1, -1)
    relabel[list(classes)] = np.arange(len(classes))
    keep_train = np.isin(arrays.y_train, classes)
    keep_test = np.isin(arrays.y_test, classes)
    return dataclasses.replace(
        arrays,
        x_train=arrays.x_train[keep_train],
        y_train=relabel[arrays.y_train[keep_train]],
        x_test=arrays.x_test[keep_test],
        y_test=relabel[arrays.y_test[keep_test]],
        classes=len(classes),
    )


def few_shot(arrays: Arrays, per_class: int | None) -> Arrays:
    """The first `per_class` training samples of each class in a fixed shuffled order
    (SPLIT_SEED), kept in their original order; the test split whole (None: all)."""
    if per_class is None:
        return arrays
    order = np.random.default_rng(SPLIT_SEED).permutation(len(arrays.y_train))
    keep: list[int] = []
    for label in np.unique(arrays.y_train):
        keep += order[arrays.y_train[order] == label][:per_class].tolist()
    keep.sort()
    return dataclasses.replace(arrays, x_train=arrays.x_train[keep], y_train=arrays.y_train[keep])


def load_digits(size: int = 8, scale: str = "standard") -> Arrays:
    """scikit-learn's 8x8 digits (bundled, no download), resized to size x size, normalised
    with the train split's mean and std (`scale="unit"`: left in [0, 1]; `"binary"`: 0 or 1),
    stratified 80/20
    split fixed by SPLIT_SEED."""
    images, labels = _digits_8x8()
    images = images / 16.0  # [N, 8, 8] in [0, 1]
    if size != images.shape[-1]:
        images = resize_bilinear(images, (size, size))
    train, test = stratified_split(labels, TEST_FRACTION, np.random.default_rng(SPLIT_SEED))
    x_train, x_test = images[train], images[test]
    if scale in ("unit", "binary"):
        x_train = _unit(np.clip(x_train, 0.0, 1.0), scale)[:, None]
        x_test = _unit(np.clip(x_test, 0.0, 1.0), scale)[:, None]
        return Arrays(x_train, labels[train], x_test, labels[test], classes=10)
    mean, std = float(x_train.mean()), float(x_train.std())
    x_train = ((x_train - mean) / std).astype(np.float32)[:, None]
    x_test = ((x_test - mean) / std).astype(np.float32)[:, None]
    return Arrays(x_train, labels[train], x_test, labels[test], classes=10)


def _digits_8x8() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 images [N, 8, 8] (float64, 0..16) and labels of scikit-learn's digits.

    Read straight from the CSV that scikit-learn ships (what `load_digits` reads), because
    importing scikit-learn takes over a second; `load_digits` itself if the file moved."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or spec.origin is None:
        raise DataError(
            "the digits data set ships with scikit-learn, which is not installed: "
            "pip install scikit-learn"
        )
    csv = Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz"
    if csv.is_file():
        with gzip.open(csv, "rt", encoding="utf-8") as handle:
            table = np.loadtxt(handle, delimiter=",")
        return table[:, :-1].reshape(-1, 8, 8), table[:, -1].astype(np.int64)
    from sklearn.datasets import load_digits as sk_load_digits

    bunch = sk_load_digits()
    return np.asarray(bunch.images, dtype=np.float64), np.asarray(bunch.target, dtype=np.int64)


def stratified_split(
    labels: np.ndarray, test_fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, test) with ceil(test_fraction * N) test samples, spread over classes in
    proportion to their sizes (largest remainder, ties to the lower class), each class
    permuted by `rng` in class order. Both index arrays are shuffled by `rng` afterwards."""
    classes, counts = np.unique(labels, return_counts=True)
    n_test = math.ceil(test_fraction * len(labels))
    quotas = counts * (n_test / len(labels))
    per_class = np.floor(quotas).astype(np.int64)
    # stable sort: equal remainders keep class order
    order = np.argsort(-(quotas - per_class), kind="stable")
    per_class[order[: n_test - int(per_class.sum())]] += 1
    train_parts, test_parts = [], []
    for cls, k in zip(classes, per_class, strict=True):
        idx = rng.permutation(np.flatnonzero(labels == cls))
        test_parts.append(idx[:k])
        train_parts.append(idx[k:])
    train = rng.permutation(np.concatenate(train_parts))
    test = rng.permutation(np.concatenate(test_parts))
    return train, test


def resize_bilinear(images: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of the last two axes to `size` (height, width), align_corners=False
    (the convention of torch.nn.functional.interpolate, without antialiasing): output pixel i
    samples input coordinate (i + 0.5) * in / out - 0.5, clamped to the image."""
    in_h, in_w = images.shape[-2:]
    rows = _interpolation_matrix(in_h, size[0])  # [out_h, in_h]
    cols = _interpolation_matrix(in_w, size[1])  # [out_w, in_w]
    out = np.einsum("oh,...hw,pw->...op", rows, images.astype(np.float64), cols)
    return out.astype(images.dtype if np.issubdtype(images.dtype, np.floating) else np.float64)


def _interpolation_matrix(n_in: int, n_out: int) -> np.ndarray:
    src = (np.arange(n_out, dtype=np.float64) + 0.5) * (n_in / n_out) - 0.5
    src = np.clip(src, 0.0, n_in - 1)
    lo = np.floor(src).astype(np.int64)
    hi = np.minimum(lo + 1, n_in - 1)
    frac = src - lo
    weights = np.zeros((n_out, n_in), dtype=np.float64)
    rows = np.arange(n_out)
    np.add.at(weights, (rows, lo), 1.0 - frac)
    np.add.at(weights, (rows, hi), frac)
    return weights


# ----- MNIST -----------------------------------------------------------------------------------
_IDX_DTYPES: dict[int, np.dtype[Any]] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def load_mnist(path: PathLike, scale: str = "standard") -> Arrays:
    """The four standard IDX files (each optionally gzipped) in the folder `path`."""
    folder = Path(path).expanduser()
    fix = (
        "download MNIST's four IDX files (train-images-idx3-ubyte.gz etc.) into that folder, "
        "or point `mnist(path=...)` at the folder that holds them"
    )
    if not folder.is_dir():
        looked = ", ".join(f"{n}[.gz]" for n in MNIST_FILES)
        raise DataError(f"MNIST folder {str(folder)!r} does not exist (looked for {looked}); {fix}")
    found: dict[str, Path] = {}
    missing: list[str] = []
    for name in MNIST_FILES:
        plain, packed = folder / name, folder / f"{name}.gz"
        if plain.is_file():
            found[name] = plain
        elif packed.is_file():
            found[name] = packed
        else:
            missing.append(f"{plain} or {packed}")
    if missing:
        raise DataError(f"MNIST files missing in {str(folder)!r}: {'; '.join(missing)}; {fix}")
    x_train = _read_idx(found["train-images-idx3-ubyte"], ndim=3)
    y_train = _read_idx(found["train-labels-idx1-ubyte"], ndim=1)
    x_test = _read_idx(found["t10k-images-idx3-ubyte"], ndim=3)
    y_test = _read_idx(found["t10k-labels-idx1-ubyte"], ndim=1)
    for images, labels, split in ((x_train, y_train, "train"), (x_test, y_test, "t10k")):
        if len(images) != len(labels):
            raise DataError(
                f"MNIST {split} images and labels differ in count ({len(images)} vs "
                f"{len(labels)}) in {str(folder)!r}; the files do not belong together, "
                "download them again"
            )
        if labels.size and (labels.min() < 0 or labels.max() > 9):
            raise DataError(
                f"MNIST {split} labels in {str(folder)!r} fall outside 0..9 "
                f"(found {labels.min()}..{labels.max()}); the labels file is corrupt"
            )
    if x_train.shape[1:] != x_test.shape[1:]:
        raise DataError(
            f"MNIST train images are {x_train.shape[1]}x{x_train.shape[2]} but test images are "
            f"{x_test.shape[1]}x{x_test.shape[2]} in {str(folder)!r}; the files do not belong "
            "together"
        )
    return Arrays(
        _normalise_mnist(x_train, scale),
        y_train.astype(np.int64),
        _normalise_mnist(x_test, scale),
        y_test.astype(np.int64),
        classes=10,
    )


def _unit(x: np.ndarray, scale: str) -> np.ndarray:
    """Pixels in [0, 1] as float32; `binary`: each 0 or 1 (1 where the ink is over half)."""
    if scale == "binary":
        return (x > 0.5).astype(np.float32)
    return x.astype(np.float32)


def _normalise_mnist(images: np.ndarray, scale: str = "standard") -> np.ndarray:
    x = images.astype(np.float32)[:, None] / np.float32(255.0)
    if scale in ("unit", "binary"):
        return _unit(x, scale)
    return (x - np.float32(MNIST_MEAN)) / np.float32(MNIST_STD)


def _read_idx(file: Path, ndim: int) -> np.ndarray:
    """Parse one IDX file: magic (two zero bytes, type code, number of dimensions), big-endian
    uint32 dimensions, then the data."""
    try:
        if file.suffix == ".gz":
            with gzip.open(file, "rb") as f:
                data = f.read()
        else:
            data = file.read_bytes()
    except (OSError, EOFError) as e:  # gzip.BadGzipFile is an OSError
        raise DataError(f"cannot read {str(file)!r}: {e}; download the file again") from e
    if len(data) < 4:
        raise DataError(
            f"{str(file)!r} is not an IDX file: {len(data)} bytes, too short for a header; "
            "download the file again"
        )
    zero, code, dims = struct.unpack(">HBB", data[:4])
    if zero != 0 or code not in _IDX_DTYPES:
        raise DataError(
            f"{str(file)!r} is not an IDX file (bad magic number {data[:4].hex()}); if it is "
            "gzipped, name it *.gz; otherwise download it again"
        )
    if dims != ndim:
        raise DataError(
            f"{str(file)!r} has {dims} dimension(s), expected {ndim}; is it the right file "
            "(images are idx3, labels idx1)?"
        )
    header = 4 + 4 * dims
    if len(data) < header:
        raise DataError(f"{str(file)!r} is truncated inside its header; download it again")
    shape = struct.unpack(f">{dims}I", data[4:header])
    dtype = _IDX_DTYPES[code]
    expected = header + math.prod(shape) * dtype.itemsize
    if len(data) != expected:
        raise DataError(
            f"{str(file)!r} has {len(data)} bytes, but its header {list(shape)} calls for "
            f"{expected}; the file is truncated or corrupt, download it again"
        )
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)


# ----- CIFAR-10 --------------------------------------------------------------------------------
def load_cifar10(path: PathLike) -> Arrays:
    """The python-pickle batches data_batch_1..5 and test_batch, in `path` or in
    `path`/cifar-10-batches-py."""
    folder = Path(path).expanduser()
    fix = (
        "download and unpack cifar-10-python.tar.gz, and point `cifar10(path=...)` at the "
        "folder holding the batches (or at its parent)"
    )
    candidates = [folder, folder / CIFAR10_SUBFOLDER]
    chosen = next(
        (d for d in candidates if d.is_dir() and any((d / n).is_file() for n in CIFAR10_FILES)),
        None,
    )
    if chosen is None:
        looked = ", ".join(str(d / n) for d in candidates for n in CIFAR10_FILES)
        state = "does not exist" if not folder.is_dir() else "holds no CIFAR-10 batches"
        raise DataError(f"CIFAR-10 folder {str(folder)!r} {state} (looked for {looked}); {fix}")
    missing = [str(chosen / n) for n in CIFAR10_FILES if not (chosen / n).is_file()]
    if missing:
        raise DataError(f"CIFAR-10 files missing: {', '.join(missing)}; {fix}")
    train = [_read_cifar_batch(chosen / n) for n in CIFAR10_FILES[:-1]]
    x_test, y_test = _read_cifar_batch(chosen / CIFAR10_FILES[-1])
    x_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train])
    return Arrays(_normalise_cifar(x_train), y_train, _normalise_cifar(x_test), y_test, classes=10)


def _normalise_cifar(data: np.ndarray) -> np.ndarray:
    x = data.reshape(-1, 3, 32, 32).astype(np.float32) / np.float32(255.0)
    mean = np.asarray(CIFAR10_MEAN, dtype=np.float32)[:, None, None]
    std = np.asarray(CIFAR10_STD, dtype=np.float32)[:, None, None]
    return (x - mean) / std


def _read_cifar_batch(file: Path) -> tuple[np.ndarray, np.ndarray]:
    # These files are Python pickles, read by `_ArraysOnly`, which refuses anything but
    # NumPy arrays: a crafted batch cannot run code.
    try:
        with file.open("rb") as f:
            batch = _ArraysOnly(f, encoding="bytes").load()
    except pickle.UnpicklingError as e:
        if "refers to" in str(e):
            raise DataError(
                f"{str(file)!r} is no CIFAR-10 batch: {e}, which a batch never does (loading "
                "it could run code); download and unpack cifar-10-python.tar.gz again"
            ) from None
        raise DataError(f"cannot unpickle CIFAR-10 batch {str(file)!r} ({e})") from None
    except Exception as e:  # EOFError, ValueError, ... all mean corrupt
        raise DataError(
            f"cannot unpickle CIFAR-10 batch {str(file)!r} ({type(e).__name__}: {e}); "
            "download and unpack cifar-10-python.tar.gz again"
        ) from e
    if not isinstance(batch, dict):
        raise DataError(
            f"{str(file)!r} is not a CIFAR-10 batch (a pickled dict); use the python version "
            "of CIFAR-10 (cifar-10-python.tar.gz)"
        )
    data = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if data is None or labels is None:
        raise DataError(
            f"{str(file)!r} lacks the 'data' and 'labels' entries of a CIFAR-10 batch; use the "
            "python version of CIFAR-10 (cifar-10-python.tar.gz)"
        )
    data = np.asarray(data)
    labels = np.asarray(labels, dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or data.dtype != np.uint8:
        raise DataError(
            f"{str(file)!r}: 'data' is {data.dtype}{list(data.shape)}, expected uint8[N, 3072]; "
            "the batch is corrupt, download it again"
        )
    if labels.shape != (len(data),):
        raise DataError(
            f"{str(file)!r}: {len(data)} images but labels of shape {list(labels.shape)}; "
            "the batch is corrupt, download it again"
        )
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise DataError(
            f"{str(file)!r}: labels outside 0..9 (found {labels.min()}..{labels.max()}); "
            "the batch is corrupt, download it again"
        )
    return data, labels


# ----- npz -------------------------------------------------------------------------------------
def load_npz(path: PathLike) -> Arrays:
    """x_train, y_train, x_test, y_test (and optionally a 0-d `classes`) from one .npz file.
    Inputs: integer arrays become int64, the rest float32. Labels: integer arrays become int64
    (class labels; `classes` defaults to max label + 1), float arrays float32 (targets)."""
    file = Path(path).expanduser()
    write = "write one with numpy.savez(path, x_train=..., y_train=..., x_test=..., y_test=...)"
    if not file.exists():
        raise DataError(f"npz file {str(file)!r} does not exist; {write}, or fix `npz(path=...)`")
    if file.is_dir():
        raise DataError(f"npz(path=...) {str(file)!r} is a folder; give the .npz file in it")
    if not file.is_file():
        raise DataError(f"npz(path=...) {str(file)!r} is not a regular file; {write}")
    with file.open("rb") as handle:
        magic = handle.read(6)
    if magic[:4] != b"PK\x03\x04":  # every .npz is a zip archive
        what = "an .npy file (one array)" if magic == b"\x93NUMPY" else "not an .npz (zip) file"
        raise DataError(
            f"npz file {str(file)!r} is {what}" + (" or empty" if not magic else "") + f"; {write}"
        )
    try:
        with np.load(file, allow_pickle=False) as npz:
            missing = [k for k in NPZ_KEYS if k not in npz.files]
            if missing:
                raise DataError(
                    f"npz file {str(file)!r} lacks {', '.join(missing)} (it has "
                    f"{', '.join(npz.files) or 'no arrays'}); save all of "
                    f"{', '.join(NPZ_KEYS)}"
                )
            raw = {k: npz[k] for k in NPZ_KEYS}
            stored_classes = npz["classes"] if "classes" in npz.files else None
    except DataError:
        raise
    except ValueError as e:
        # object arrays need pickle, which is refused for safety (NumPy's own message would
        # suggest allow_pickle, which specc never uses)
        reason = "it holds object arrays" if "pickle" in str(e) else str(e)
        raise DataError(
            f"cannot read npz file {str(file)!r}: {reason}; save plain numeric arrays with "
            "numpy.savez (object arrays are never loaded)"
        ) from None
    except (OSError, EOFError, zipfile.BadZipFile) as e:
        raise DataError(
            f"cannot read npz file {str(file)!r} ({e}): it is truncated or damaged; {write}"
        ) from None
    arrays: dict[str, np.ndarray] = {}
    for key, value in raw.items():
        if value.ndim == 0:
            raise DataError(
                f"npz file {str(file)!r}: {key} is a scalar; save an array with one row per sample"
            )
        if not (np.issubdtype(value.dtype, np.number) or value.dtype == np.bool_):
            raise DataError(
                f"npz file {str(file)!r}: {key} has dtype {value.dtype}; save numeric arrays"
            )
        if np.issubdtype(value.dtype, np.complexfloating):
            raise DataError(f"npz file {str(file)!r}: {key} is complex; save real arrays")
        is_int = np.issubdtype(value.dtype, np.integer)
        arrays[key] = value.astype(np.int64 if is_int else np.float32)
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if len(x) != len(y):
            raise DataError(
                f"npz file {str(file)!r}: x_{split} has {len(x)} samples but y_{split} has "
                f"{len(y)}; save one label per sample"
            )
    if arrays["y_train"].dtype != arrays["y_test"].dtype:
        raise DataError(
            f"npz file {str(file)!r}: y_train is {raw['y_train'].dtype} but y_test is "
            f"{raw['y_test'].dtype}; save both as integer class labels or both as float targets"
        )
    classes: int | None = None
    if stored_classes is not None:
        if stored_classes.ndim != 0 or not np.issubdtype(stored_classes.dtype, np.integer):
            raise DataError(
                f"npz file {str(file)!r}: `classes` must be a 0-d integer array, got "
                f"{stored_classes.dtype}{list(stored_classes.shape)}"
            )
        classes = int(stored_classes)
    elif arrays["y_train"].dtype == np.int64:
        ys = [arrays["y_train"], arrays["y_test"]]
        classes = max((int(y.max()) + 1 for y in ys if y.size), default=0) or None
    return Arrays(arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"], classes)


def _as_input_dtype(arrays: Arrays, input_dtype: str, source: str) -> Arrays:
    def convert(x: np.ndarray, name: str) -> np.ndarray:
        if input_dtype == "float":
            return x.astype(np.float32, copy=False)
        if x.dtype == np.int64:
            return x
        if not (np.isfinite(x).all() and (x == np.round(x)).all()):
            raise DataError(
                f"{source!r}: the model takes integer token ids, but {name} holds non-integer "
                "values; save token ids as an integer array"
            )
        return x.astype(np.int64)

    return Arrays(
        convert(arrays.x_train, "x_train"),
        arrays.y_train,
        convert(arrays.x_test, "x_test"),
        arrays.y_test,
        arrays.classes,
    )


def save_npz(arrays: Arrays, path: PathLike) -> None:
    """Write `arrays` to `path` atomically (temp file in the same folder, then os.replace), so
    a reader never sees a half-written file. `classes` is stored as a 0-d array when known."""
    target = Path(path)
    payload: dict[str, np.ndarray] = {
        "x_train": arrays.x_train,
        "y_train": arrays.y_train,
        "x_test": arrays.x_test,
        "y_test": arrays.y_test,
    }
    if arrays.classes is not None:
        payload["classes"] = np.asarray(arrays.classes, dtype=np.int64)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **payload)  # a file object: numpy adds no .npz suffix
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


# ----- synthetic -------------------------------------------------------------------------------
def synthetic(
    n: int,
    classes: int,
    input_shape: tuple[int, ...],
    input_dtype: str = "float",
    seed: int = 0,
    steps: int | None = None,
    vocab: int | None = None,
    mask_zero: bool = False,
) -> Arrays:
    """n random samples of input_shape (standard normal float32, or token ids in
    [0, min(TOKEN_IDS, vocab)) int64, from 1 if `mask_zero`: no padding) with uniform labels in
    [0, classes): one per sample, or `steps` per sample ([n, steps], for per-step scores);
    first 80% train, rest test."""
    if n < 2:
        raise DataError(f"`synthetic(n={n})` cannot be split into train and test; use n >= 2")
    rng = np.random.default_rng(seed)
    shape = (n, *input_shape)
    if input_dtype == "int":
        ids = TOKEN_IDS if vocab is None else min(TOKEN_IDS, vocab)
        low = 1 if mask_zero and ids > 1 else 0  # id 0 would be padding
        x = rng.integers(low, ids, size=shape, dtype=np.int64)
    else:
        x = rng.standard_normal(size=shape, dtype=np.float32)
    y = rng.integers(0, classes, size=n if steps is None else (n, steps), dtype=np.int64)
    return dataclasses.replace(_split(x, y), classes=classes)


# ----- sequences -------------------------------------------------------------------------------
MAX_VOCAB = 10_000
TEXT_TEST_FRACTION = 0.1


def as_rows(arrays: Arrays) -> Arrays:
    """Images [N, 1, H, W] read as sequences [N, H, W]: each row a time step."""
    return dataclasses.replace(arrays, x_train=arrays.x_train[:, 0], x_test=arrays.x_test[:, 0])


def _split(x: np.ndarray, y: np.ndarray, test_fraction: float = TEST_FRACTION) -> Arrays:
    """The first samples train, the last ceil(test_fraction * N) (at least one) test."""
    n_test = min(max(math.ceil(test_fraction * len(x)), 1), len(x) - 1)
    k = len(x) - n_test
    return Arrays(x[:k], y[:k], x[k:], y[k:], classes=None)


def adding(length: int = 50, n: int = 10000, seed: int = 0) -> Arrays:
    """The adding problem (Hochreiter & Schmidhuber 1997, in the form of Le et al. 2015):
    samples [length, 2] float32, channel 0 values U[0, 1), channel 1 a marker that is 1 at
    one step of the first half and one of the second half; target [1] the sum of the two
    marked values. Always answering 1 scores an MSE of 1/6 ≈ 0.167 (the variance of the sum).
    Seeded by `seed`; the first 80% train, the rest test."""
    rng = np.random.default_rng(seed)
    values = rng.random((n, length), dtype=np.float64)
    half = length // 2
    first = rng.integers(0, half, n)
    second = rng.integers(half, length, n)
    marker = np.zeros((n, length))
    rows = np.arange(n)
    marker[rows, first] = 1.0
    marker[rows, second] = 1.0
    x = np.stack([values, marker], axis=-1).astype(np.float32)
    y = (values[rows, first] + values[rows, second]).astype(np.float32)[:, None]
    return _split(x, y)


def series(
    n: int = 2000, window: int = 32, period: float = 25.0, noise: float = 0.1, seed: int = 0
) -> Arrays:
    """A noisy periodic series s(t) = sin(2πt/period) + 0.5·sin(2πt/(0.37·period)) + noise·ε,
    cut into n windows [window, 1] whose target [1] is the next value. Split by time: the
    first 80% of the windows train; test windows start after the last training target."""
    rng = np.random.default_rng(seed)
    t = np.arange(n + window, dtype=np.float64)
    clean = np.sin(2 * np.pi * t / period) + 0.5 * np.sin(2 * np.pi * t / (0.37 * period))
    values = clean + noise * rng.standard_normal(len(t))
    index = np.arange(n)[:, None] + np.arange(window)[None, :]
    x = values[index][..., None].astype(np.float32)
    y = values[np.arange(n) + window][:, None].astype(np.float32)
    k = n - min(max(math.ceil(TEST_FRACTION * n), 1), n - 1)
    # the first test window begins after the last training target: no overlap
    return Arrays(x[:k], y[:k], x[k + window :], y[k + window :], classes=None)


def load_text(path: PathLike, length: int = 64) -> Arrays:
    """A UTF-8 text file for character-level language modelling: the vocabulary is the
    sorted set of its characters; samples are non-overlapping windows of `length` character
    ids (int64), targets the same windows shifted by one (the next characters). The first 90%
    of the windows train, the rest test (contiguous, not shuffled)."""
    file = Path(path).expanduser()
    fix = "point `text(path=...)` at a UTF-8 text file"
    if not file.is_file():
        raise DataError(f"text file {str(file)!r} does not exist; {fix}")
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise DataError(f"text file {str(file)!r} is not UTF-8 ({e}); {fix}") from e
    except OSError as e:
        raise DataError(f"cannot read text file {str(file)!r}: {e}") from e
    vocab = tuple(sorted(set(text)))
    if len(vocab) > MAX_VOCAB:
        raise DataError(
            f"text file {str(file)!r} has {len(vocab):,} distinct characters (at most "
            f"{MAX_VOCAB:,}); is it text? {fix}"
        )
    windows = (len(text) - 1) // length
    if windows < 2:
        raise DataError(
            f"text file {str(file)!r} has {len(text)} characters, too few for one training "
            f"and one test window of {length} (+1); use a longer file or a smaller `length`"
        )
    lookup = {ch: i for i, ch in enumerate(vocab)}
    ids = np.fromiter((lookup[ch] for ch in text), dtype=np.int64, count=len(text))
    starts = np.arange(windows) * length
    index = starts[:, None] + np.arange(length)[None, :]
    arrays = _split(ids[index], ids[index + 1], TEXT_TEST_FRACTION)
    return dataclasses.replace(arrays, classes=len(vocab), vocab=vocab)


def copy_task(
    symbols: int = 8, length: int = 10, delay: int = 20, n: int = 10000, seed: int = 0
) -> Arrays:
    """The copy task (Hochreiter & Schmidhuber 1997; in the form of Arjovsky et al. 2016):
    token ids [2 * length + delay]: `length` symbols drawn from 1..symbols, delay - 1 blanks
    (id 0), the delimiter (id symbols + 1), then `length` blanks during which the model must
    repeat the symbols. Targets are per-step classes: blanks (0) until the last `length`
    steps, which hold the symbols. classes = symbols + 2. Answering blanks, then guessing,
    scores a cross-entropy of length * ln(symbols) / (2 * length + delay). Seeded by `seed`;
    the first 80% train, the rest test. (Id 0 is the blank here, not padding: no mask_zero.)"""
    rng = np.random.default_rng(seed)
    steps = 2 * length + delay
    data = rng.integers(1, symbols + 1, (n, length))
    x = np.zeros((n, steps), np.int64)
    x[:, :length] = data
    x[:, length + delay - 1] = symbols + 1
    y = np.zeros((n, steps), np.int64)
    y[:, length + delay :] = data
    arrays = _split(x, y)
    return dataclasses.replace(arrays, classes=symbols + 2)


IMDB_START, IMDB_OOV, IMDB_INDEX_FROM = 1, 2, 3  # keras.datasets.imdb.load_data's defaults
IMDB_SEED = 113  # load_data's seed: it shuffles train, then test, with one RandomState


class _ArraysOnly(pickle.Unpickler):
    """An unpickler for data files that are pickles: imdb.npz (each review a Python list
    inside an object array) and CIFAR-10's batches (a dict of bytes, lists and one array).
    Unpickling runs whatever a file names; this one lets a file name only what rebuilds a
    NumPy array, so a crafted file cannot run code."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"it refers to {module}.{name}")
        return super().find_class(module, name)


def _read_npy(handle: Any) -> np.ndarray:
    """One array of an .npz member: plain arrays as NumPy reads them, object arrays through
    `_ArraysOnly`."""
    version = np.lib.format.read_magic(handle)
    readers = {
        (1, 0): np.lib.format.read_array_header_1_0,
        (2, 0): np.lib.format.read_array_header_2_0,
    }
    if version not in readers:
        raise ValueError(f".npy format version {version} is not supported")
    shape, fortran, dtype = readers[version](handle)
    if dtype.hasobject:
        array = _ArraysOnly(handle, encoding="latin1").load()
        return np.asarray(array, dtype=object).reshape(shape)
    count = int(np.prod(shape))
    data = np.frombuffer(handle.read(count * dtype.itemsize), dtype=dtype, count=count)
    return data.reshape(shape, order="F" if fortran else "C")


def load_imdb(
    path: PathLike, length: int = 200, vocab: int = 10000, padding: str = "post"
) -> Arrays:
    """Keras's imdb.npz from `path` (what `keras.datasets.imdb.load_data` downloads; never
    downloaded here), as `load_data(num_words=vocab)` gives it: train and test each shuffled
    as Keras does (RandomState(113)), each review made [1] + [w + 3 for w in review] with ids
    >= vocab replaced by 2 (Keras's start, index_from and oov conventions). Then padded with 0
    or cut to `length`, both at the end (`padding="post"`, so `mask_zero` sees trailing
    padding) or both at the front ("pre": Keras's pad_sequences defaults, padding="pre",
    truncating="pre"). Labels 0/1; Keras's own train/test split."""
    if padding not in ("post", "pre"):
        raise ValueError(f"padding must be 'post' or 'pre', got {padding!r}")
    file = Path(path).expanduser()
    fix = "point `imdb(path=...)` at the imdb.npz that keras.datasets.imdb downloads"
    if not file.is_file():
        raise DataError(f"imdb file {str(file)!r} does not exist; {fix}")
    arrays: dict[str, np.ndarray] = {}
    # Keras reads this file with np.load(allow_pickle=True) (Keras 3: a restricted unpickler),
    # because each review is a Python list inside an object array, and NumPy stores object
    # arrays only as a pickle. `_read_npy` unpickles with `_ArraysOnly`, which refuses
    # everything but NumPy arrays; the content is then checked strictly below.
    try:
        with zipfile.ZipFile(file) as archive:
            names = {Path(m).stem: m for m in archive.namelist() if m.endswith(".npy")}
            missing = [k for k in NPZ_KEYS if k not in names]
            if missing:
                raise DataError(
                    f"imdb file {str(file)!r} lacks {', '.join(missing)} (it has "
                    f"{', '.join(sorted(names)) or 'no arrays'}); {fix}"
                )
            for key in NPZ_KEYS:
                with archive.open(names[key]) as handle:
                    arrays[key] = _read_npy(handle)
    except (zipfile.BadZipFile, ValueError, EOFError, pickle.UnpicklingError) as e:
        raise DataError(f"imdb file {str(file)!r} is not a valid imdb.npz ({e}); {fix}") from e
    rng = np.random.RandomState(IMDB_SEED)
    out = []
    for part in ("train", "test"):
        reviews, labels = arrays[f"x_{part}"], arrays[f"y_{part}"]
        if reviews.ndim != 1 or labels.ndim != 1 or len(reviews) != len(labels) or not len(reviews):
            raise DataError(
                f"imdb file {str(file)!r}: x_{part} must be a non-empty list of reviews with "
                f"one label each in y_{part} (got {reviews.shape} and {labels.shape}); {fix}"
            )
        if labels.dtype.kind not in "iu" or not np.isin(labels, (0, 1)).all():
            found = np.unique(labels) if labels.dtype.kind in "iufb" else labels[:0]
            shown = ", ".join(str(v) for v in found[:5]) + (", ..." if len(found) > 5 else "")
            raise DataError(
                f"imdb file {str(file)!r}: y_{part} must hold labels 0 and 1, but holds "
                f"{labels.dtype} {shown or 'values'}; {fix}"
            )
        order = np.arange(len(reviews))
        rng.shuffle(order)
        ids = np.zeros((len(reviews), length), np.int64)
        for row, i in enumerate(order):
            words = _review(reviews[i])
            if words is None:
                raise DataError(
                    f"imdb file {str(file)!r}: review {i} of x_{part} is not a list of "
                    f"non-negative word ids; {fix}"
                )
            seq = np.concatenate([[IMDB_START], words + IMDB_INDEX_FROM])
            seq[seq >= vocab] = IMDB_OOV
            if padding == "post":
                seq = seq[:length]
                ids[row, : len(seq)] = seq
            else:
                seq = seq[-length:]
                ids[row, length - len(seq) :] = seq
        out += [ids, labels[order].astype(np.int64)]
    return Arrays(*out, classes=2)


def _review(value: Any) -> np.ndarray | None:
    """One imdb review (a list of word ids) as int64, or None if it is not one."""
    if not isinstance(value, list | np.ndarray):
        return None
    if len(value) == 0:
        return np.zeros(0, np.int64)
    try:
        words = np.asarray(value)
    except (ValueError, TypeError):  # ragged nested lists
        return None
    if words.ndim != 1 or words.dtype.kind not in "iu" or (words < 0).any():
        return None
    return words.astype(np.int64)


# ----- checks against the model ----------------------------------------------------------------
def _fmt(shape: Sequence[int | None]) -> str:
    return "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"


def _shape_matches(have: tuple[int, ...], want: Sequence[int | None]) -> bool:
    return len(have) == len(want) and all(
        w is None or h == w for h, w in zip(have, want, strict=True)
    )


def check_against_model(
    arrays: Arrays,
    input_shape: Sequence[int | None],
    output_shape: Sequence[int | None],
    loss: str,
    source: str = "the data set",
    *,
    vocab: int | None = None,
    mask_zero: bool = False,
    pad_value: float | None = None,
    target_is_input: bool = False,
) -> None:
    """Raise DataError when `arrays` cannot train a model taking samples `input_shape` and
    giving `output_shape` under `loss`: empty splits, mismatched counts, wrong sample shape,
    NaN/inf values, class labels outside [0, output classes) for cross_entropy/nll (one per
    sample, or one per step [T] for per-step scores [T, classes]), labels other than 0/1 for
    bce losses, float targets whose shape differs from the output. For a model whose input is
    token ids read by `embedding(vocab, ...)`: ids outside [0, vocab), and, with
    `mask_zero`, padding (0) that is not trailing or rows that are all padding; the same for
    float sequences [N, T, F] padded with steps of `pad_value` (`masking(pad_value)`).
    `target_is_input` (an autoencoder): the labels are not read; a `bce` loss needs inputs in
    [0, 1].
    `source` (a path or data-set name) is named in the messages. None in a shape matches any
    size."""
    want_in = tuple(input_shape)
    out = tuple(output_shape)
    for split in ("train", "test"):
        x: np.ndarray = getattr(arrays, f"x_{split}")
        y: np.ndarray = getattr(arrays, f"y_{split}")
        if len(x) == 0:
            raise DataError(f"{source}: the {split} split is empty; provide at least one sample")
        if len(x) != len(y):
            raise DataError(
                f"{source}: x_{split} has {len(x)} samples but y_{split} has {len(y)}; give "
                "one label per sample"
            )
        have = tuple(x.shape[1:])
        if not _shape_matches(have, want_in):
            fix = f"make the model's input {_fmt(have)}"
            if len(want_in) == 3 and want_in[0] == 1 and want_in[1] == want_in[2]:
                fix += f" (for digits: `digits(size={want_in[1]})`)"
            raise DataError(
                f"{source}: samples are {_fmt(have)}, but the model takes {_fmt(want_in)}; {fix}"
            )
        for name, a in ((f"x_{split}", x), (f"y_{split}", y)):
            if np.issubdtype(a.dtype, np.floating) and not np.isfinite(a).all():
                bad = int(np.size(a) - np.count_nonzero(np.isfinite(a)))
                raise DataError(
                    f"{source}: {name} holds {bad} NaN or infinite value(s); clean the data "
                    "(drop or impute those samples)"
                )
        if np.issubdtype(x.dtype, np.integer):
            _check_token_ids(x, f"x_{split}", vocab, mask_zero, source)
        elif pad_value is not None and x.ndim == 3:
            real = (x != pad_value).any(axis=-1)
            _check_trailing(real, f"x_{split}", source, f"`masking({pad_value!r})`", "steps")
        if not target_is_input:
            _check_labels(y, split, out, loss, source, arrays.classes)
        elif loss in ("bce", "bce_with_logits") and x.size and (x.min() < 0 or x.max() > 1):
            raise DataError(
                f"{source}: `{loss}` compares the reconstruction with the input as "
                f"probabilities, but x_{split} holds values {float(x.min()):.3g}.."
                f"{float(x.max()):.3g}; give inputs in [0, 1] (`digits(..., scale=unit)`, "
                "`mnist(..., scale=unit)`), or use `mse`"
            )


def _check_token_ids(
    x: np.ndarray, name: str, vocab: int | None, mask_zero: bool, source: str
) -> None:
    """Token ids for `embedding(vocab, ...)`: in [0, vocab); with `mask_zero`, each row's
    padding (0) after its real tokens, and at least one real token."""
    if vocab is not None and x.size:
        lo, hi = int(x.min()), int(x.max())
        if lo < 0 or hi >= vocab:
            fix = (
                f"use `embedding({hi + 1}, ...)`, or save ids below {vocab} (one id for all "
                "rare tokens)"
                if lo >= 0
                else f"save ids in 0..{vocab - 1} (token ids are never negative)"
            )
            raise DataError(
                f"{source}: {name} holds token ids {lo}..{hi}, but the model's "
                f"`embedding({vocab}, ...)` takes ids 0..{vocab - 1}; {fix}"
            )
    if mask_zero and x.ndim == 2:
        _check_trailing(x != 0, name, source, "`mask_zero=true`", "tokens")


def _check_trailing(real: np.ndarray, name: str, source: str, reader: str, what: str) -> None:
    """Padding that `reader` can mask: each row's padded steps (False in `real` [N, T]) after
    its real ones, and at least one real step."""
    padding = "padding (0)" if what == "tokens" else "padding"
    empty = np.flatnonzero(~real.any(axis=1))
    if len(empty):
        raise DataError(
            f"{source}: row {int(empty[0])} of {name} is all {padding}, but {reader} needs at "
            f"least one real {what[:-1]} per sequence; drop empty sequences"
        )
    # trailing padding: once a row has a padded step, only padded steps follow
    gaps = np.flatnonzero((real[:, 1:] & ~real[:, :-1]).any(axis=1))
    if len(gaps):
        raise DataError(
            f"{source}: row {int(gaps[0])} of {name} has a real {what[:-1]} after {padding}, "
            f"but {reader} needs the padding after the real {what} (right/post padding: "
            "pad_sequences(..., padding='post')); re-pad the sequences at the end"
        )


def _check_labels(
    y: np.ndarray,
    split: str,
    out: tuple[int | None, ...],
    loss: str,
    source: str,
    classes: int | None,
) -> None:
    soft = y.ndim == 2 and np.issubdtype(y.dtype, np.floating)
    if loss in CLASSIFICATION_LOSSES and soft and len(out) == 1:
        if loss != "cross_entropy":
            raise DataError(
                f"{source}: y_{split} holds soft labels (class probabilities); `{loss}` needs "
                "class labels [N]: use `cross_entropy`, which takes probabilities"
            )
        if out[0] is not None and y.shape[1] != out[0]:
            raise DataError(
                f"{source}: y_{split} holds probabilities over {y.shape[1]} classes, but the "
                f"model gives {out[0]} scores; end the model with `dense({y.shape[1]})`"
            )
        return
    if loss in CLASSIFICATION_LOSSES:
        if not np.issubdtype(y.dtype, np.integer):
            raise DataError(
                f"{source}: `{loss}` needs integer class labels, but y_{split} is {y.dtype}; "
                "save the labels as an integer array, or use a regression loss such as `mse`"
            )
        n_out = out[-1] if out else None
        if len(out) == 2:  # per-step scores [T, C]: one class per step, labels [N, T]
            if not _shape_matches(tuple(y.shape[1:]), out[:1]):
                raise DataError(
                    f"{source}: the model gives per-step scores {_fmt(out)}, so `{loss}` "
                    f"needs one class per step, labels [N, {out[0]}]; y_{split} is "
                    f"{_fmt(y.shape)}"
                )
        elif y.ndim != 1:
            raise DataError(
                f"{source}: `{loss}` needs one class label per sample, but y_{split} is "
                f"{_fmt(y.shape)}; save labels of shape [N]"
            )
        if n_out is None:
            return
        if classes is not None and classes > n_out:
            raise DataError(
                f"{source}: the data set has {classes} classes, but the model gives {n_out} "
                f"score(s); end the model with `dense({classes})`"
            )
        lo, hi = int(y.min()), int(y.max())
        if lo < 0 or hi >= n_out:
            raise DataError(
                f"{source}: y_{split} holds labels {lo}..{hi}, outside [0, {n_out}) for a "
                f"model with {n_out} output(s); end the model with `dense({hi + 1})` or "
                f"relabel the classes 0..{n_out - 1}"
            )
    elif loss in BCE_LOSSES:
        if not np.isin(y, (0, 1)).all():
            values = np.unique(y)
            shown = ", ".join(str(v) for v in values[:5]) + (", ..." if len(values) > 5 else "")
            raise DataError(
                f"{source}: `{loss}` needs labels 0 or 1, but y_{split} holds {shown}; use "
                "`cross_entropy` for more than two classes"
            )
        if not (y.ndim == 1 or _shape_matches(tuple(y.shape[1:]), out)):
            raise DataError(
                f"{source}: y_{split} is {_fmt(y.shape[1:])} per sample, but the model gives "
                f"{_fmt(out)}; save one 0/1 label per sample"
            )
    elif np.issubdtype(y.dtype, np.floating):
        per_sample = tuple(y.shape[1:])
        scalar_ok = per_sample == () and tuple(out) in ((1,), (None,))
        if not (scalar_ok or _shape_matches(per_sample, out)):
            raise DataError(
                f"{source}: targets y_{split} are {_fmt(per_sample)} per sample, but the model "
                f"gives {_fmt(out)}; `{loss}` needs targets shaped like the output"
            )
