"""The sequence data sets: digits and MNIST row by row, the adding problem, a periodic series,
text, the copy task, imdb, token sequences in npz files, per-step labels from synthetic."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from specc.compiler import compile_source
from specc.ir.train_config import Mnist, Synthetic
from specc.layers.core import Embedding
from specc.tools import datasets, run
from specc.tools.datasets import DataError


def test_digit_rows_are_the_images_rows() -> None:
    images = datasets.load_digits(28)
    rows = datasets.as_rows(images)
    assert rows.x_train.shape[1:] == (28, 28)
    np.testing.assert_array_equal(rows.x_train, images.x_train[:, 0])
    np.testing.assert_array_equal(rows.y_test, images.y_test)


def test_adding_problem() -> None:
    data = datasets.adding(length=20, n=10000, seed=3)
    x, y = data.x_train, data.y_train
    assert x.shape == (8000, 20, 2) and y.shape == (8000, 1) and data.x_test.shape[0] == 2000
    marker = x[..., 1]
    assert (marker.sum(axis=1) == 2).all()
    assert (marker[:, :10].sum(axis=1) == 1).all()  # one mark in each half
    np.testing.assert_allclose(y[:, 0], (x[..., 0] * marker).sum(axis=1), rtol=1e-6)
    assert abs(float(np.mean((y - 1.0) ** 2)) - 1 / 6) < 0.01  # always answering 1
    again = datasets.adding(length=20, n=10000, seed=3)
    np.testing.assert_array_equal(again.x_train, x)
    assert not np.array_equal(datasets.adding(length=20, n=10000, seed=4).x_train, x)


def test_series_windows_predict_the_next_value_without_leaking() -> None:
    data = datasets.series(n=200, window=8, period=10.0, noise=0.1)  # noise: values unique
    x, y = data.x_train, data.y_train
    assert x.shape[1:] == (8, 1) and y.shape[1:] == (1,)
    np.testing.assert_array_equal(x[1, :-1, 0], x[0, 1:, 0])  # windows slide by one step
    np.testing.assert_array_equal(x[1, -1, 0], y[0, 0])  # the target is the next value
    # no test window contains a value that was a training target
    train_targets = set(y[:, 0].tolist())
    assert not train_targets & set(data.x_test.reshape(-1).tolist())


def test_text_windows_and_vocabulary(tmp_path: Path) -> None:
    file = tmp_path / "t.txt"
    text = "hello, world\n" * 40
    file.write_text(text, encoding="utf-8")
    data = datasets.load_text(file, length=16)
    assert data.vocab == tuple(sorted(set(text))) and data.classes == len(data.vocab)
    decode = "".join
    assert decode(data.vocab[i] for i in data.x_train[0]) == text[:16]
    assert decode(data.vocab[i] for i in data.y_train[0]) == text[1:17]
    assert data.x_train.dtype == np.int64 and data.y_train.shape == data.x_train.shape


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "does not exist"), (b"\xff\xfe\x00bad", "not UTF-8"), (b"short", "too few")],
)
def test_bad_text_files_are_refused(tmp_path: Path, content: bytes | None, message: str) -> None:
    file = tmp_path / "t.txt"
    if content is not None:
        file.write_bytes(content)
    with pytest.raises(DataError, match=message):
        datasets.load_text(file, length=16)


def test_per_step_labels_are_checked_against_the_scores(tmp_path: Path) -> None:
    file = tmp_path / "t.txt"
    file.write_text("abcdefgh" * 50, encoding="utf-8")
    data = datasets.load_text(file, length=8)
    datasets.check_against_model(data, (8,), (8, 8), "cross_entropy", "t.txt")
    with pytest.raises(DataError, match="per-step"):
        datasets.check_against_model(data, (8,), (4, 8), "cross_entropy", "t.txt")
    with pytest.raises(DataError, match="dense"):
        datasets.check_against_model(data, (8,), (8, 5), "cross_entropy", "t.txt")


SPEC = """
model M {{
  input x: {shape}
  {body}
}}
train M {{
  data = {data}
  loss = {loss}
}}
"""


@pytest.mark.parametrize(
    ("shape", "body", "data", "loss", "code"),
    [
        ("[28, 28]", "lstm(8) -> dense(10)", "digits(size=28)", "cross_entropy", "E0610"),
        ("[10, 2]", "gru(4) -> dense(1)", "adding(length=10)", "cross_entropy", "E0619"),
        ("[8] int", "embedding(5, 4) -> lstm(4) -> dense(5)", 'text(path="t", length=8)',
         "cross_entropy", "E0618"),
    ],
)  # fmt: skip
def test_sequence_data_diagnostics(shape: str, body: str, data: str, loss: str, code: str) -> None:
    text = SPEC.format(shape=shape, body=body, data=data, loss=loss)
    codes = [d.code for d in compile_source(text, "t.net").diagnostics if d.is_error]
    assert codes == [code]


def test_row_digits_suggest_rows() -> None:
    text = SPEC.format(shape="[28, 28]", body="lstm(8) -> dense(10)", data="digits(size=28)",
                       loss="cross_entropy")  # fmt: skip
    (diag,) = [d for d in compile_source(text, "t.net").diagnostics if d.is_error]
    assert "rows=true" in diag.help


def test_copy_task_asks_for_the_symbols_after_the_delimiter() -> None:
    data = datasets.copy_task(symbols=5, length=4, delay=6, n=100, seed=1)
    x, y = data.x_train, data.y_train
    assert x.shape == (80, 14) and y.shape == (80, 14) and data.classes == 7
    assert x.dtype == np.int64 and y.dtype == np.int64
    assert ((x[:, :4] >= 1) & (x[:, :4] <= 5)).all()  # the symbols
    assert (x[:, 4:9] == 0).all() and (x[:, 9] == 6).all() and (x[:, 10:] == 0).all()
    np.testing.assert_array_equal(y[:, 10:], x[:, :4])  # repeated after the delimiter
    assert (y[:, :10] == 0).all()
    np.testing.assert_array_equal(datasets.copy_task(5, 4, 6, 100, seed=1).x_test, data.x_test)
    assert not np.array_equal(datasets.copy_task(5, 4, 6, 100, seed=2).x_train, x)


def _imdb_file(path: Path, reviews: dict[str, list[list[int]]], labels: dict[str, list]) -> Path:
    """An imdb.npz in Keras's format: object arrays of Python lists of word ids."""
    arrays = {}
    for part in ("train", "test"):
        x = np.empty(len(reviews[part]), dtype=object)
        x[:] = reviews[part]
        arrays[f"x_{part}"], arrays[f"y_{part}"] = x, np.asarray(labels[part])
    np.savez(path, **arrays)
    return path


def test_imdb_follows_keras_conventions(tmp_path: Path) -> None:
    reviews = {"train": [[4, 10, 20], [1, 2, 3, 4, 5, 6, 7]], "test": [[9]]}
    file = _imdb_file(tmp_path / "imdb.npz", reviews, {"train": [1, 0], "test": [0]})
    data = datasets.load_imdb(file, length=5, vocab=12)
    # start 1, word ids + 3, ids >= vocab out-of-vocabulary (2), 0-padding at the end;
    # the rows come in Keras's shuffled order, so each is found by its label
    by_label = dict(zip(data.y_train.tolist(), data.x_train.tolist(), strict=True))
    assert by_label == {1: [1, 7, 2, 2, 0], 0: [1, 4, 5, 6, 7]}
    np.testing.assert_array_equal(data.x_test, [[1, 2, 0, 0, 0]])
    assert data.classes == 2 and data.x_train.dtype == np.int64 and data.y_train.dtype == np.int64
    front = datasets.load_imdb(file, length=5, vocab=100, padding="pre")
    by_label = dict(zip(front.y_train.tolist(), front.x_train.tolist(), strict=True))
    assert by_label == {1: [0, 1, 7, 13, 23], 0: [6, 7, 8, 9, 10]}  # Keras cuts the front too


def test_imdb_through_a_spec_checks_and_loads(tmp_path: Path) -> None:
    reviews = {"train": [[5, 6], [7, 8, 9]] * 4, "test": [[5], [6, 7]]}
    file = _imdb_file(tmp_path / "imdb.npz", reviews, {"train": [0, 1] * 4, "test": [1, 0]})
    spec = f"""
model Sentiment {{
  input words: [6] int
  embedding(50, 8, mask_zero=true) -> lstm(8)
  dense(2)
}}
train Sentiment {{
  data = imdb(path={str(file)!r}, length=6, vocab=50)
  loss = cross_entropy
}}
""".replace("'", '"')
    result = compile_source(spec, "imdb.net")
    assert result.spec is not None, result.diagnostics
    training = result.spec.training
    data = datasets.load(training.data, (6,), "int")
    assert data.x_train.shape == (8, 6)
    net = result.spec.model("Sentiment")
    datasets.check_against_model(data, (6,), net.output_shape, training.loss)
    with pytest.raises(DataError):  # a review length the model does not take
        datasets.check_against_model(data, (7,), net.output_shape, training.loss)


def test_imdb_files_that_are_not_imdb_are_refused_without_running_them(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        datasets.load_imdb(tmp_path / "missing.npz")
    np.savez(tmp_path / "partial.npz", x_train=np.zeros(2))
    with pytest.raises(DataError, match="lacks y_train, x_test, y_test"):
        datasets.load_imdb(tmp_path / "partial.npz")
    # an object array that names something other than a NumPy array is not unpickled
    evil = np.empty(1, dtype=object)
    evil[0] = Path("/etc")
    np.savez(tmp_path / "evil.npz", x_train=evil, y_train=[0], x_test=evil, y_test=[0])
    with pytest.raises(DataError, match="not a valid imdb.npz .*pathlib"):
        datasets.load_imdb(tmp_path / "evil.npz")
    reviews = {"train": [[1, -2]], "test": [[1]]}
    bad = _imdb_file(tmp_path / "neg.npz", reviews, {"train": [0], "test": [1]})
    with pytest.raises(DataError, match="review 0 of x_train"):
        datasets.load_imdb(bad)
    labels = _imdb_file(
        tmp_path / "lab.npz", {"train": [[1]], "test": [[1]]}, {"train": [3], "test": [1]}
    )
    with pytest.raises(DataError, match="labels 0 and 1"):
        datasets.load_imdb(labels)


def test_imdb_is_what_keras_load_data_and_pad_sequences_give(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same arrays, in the same order, as `keras.datasets.imdb.load_data(num_words=vocab)`
    followed by `pad_sequences(maxlen=length, padding=p, truncating=p)`, on a fake file in
    Keras's format (empty reviews, long ones, rare words)."""
    keras = pytest.importorskip("keras")
    keras_imdb = pytest.importorskip("keras.src.datasets.imdb")
    rng = np.random.default_rng(0)
    reviews = {
        part: [[int(w) for w in rng.integers(0, 30, rng.integers(0, 12))] for _ in range(n)]
        for part, n in (("train", 9), ("test", 7))
    }
    labels = {part: rng.integers(0, 2, len(r)).tolist() for part, r in reviews.items()}
    file = _imdb_file(tmp_path / "imdb.npz", reviews, labels)
    monkeypatch.setattr(keras_imdb, "get_file", lambda *args, **kwargs: str(file))  # no download
    (x_train, y_train), (x_test, y_test) = keras.datasets.imdb.load_data(num_words=20)
    for padding in ("post", "pre"):
        ours = datasets.load_imdb(file, length=8, vocab=20, padding=padding)
        for x, y, mine, my_labels in (
            (x_train, y_train, ours.x_train, ours.y_train),
            (x_test, y_test, ours.x_test, ours.y_test),
        ):
            padded = keras.utils.pad_sequences(x, maxlen=8, padding=padding, truncating=padding)
            np.testing.assert_array_equal(mine, padded)
            np.testing.assert_array_equal(my_labels, y)


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"y_train": np.array([[0], [1]])}, r"x_train must be a non-empty list of reviews"),
        ({"x_train": np.arange(4).reshape(2, 2)}, r"x_train must be a non-empty list"),
        ({"y_test": np.array([0.0])}, r"y_test must hold labels 0 and 1, but holds float64 0.0"),
        ({"x_test": np.array([1.5], dtype=object)}, r"review 0 of x_test is not a list"),
        ({"x_test": np.array([[0.5, 2.0]])}, r"x_test must be a non-empty list"),
    ],
)
def test_imdb_content_is_checked_after_loading(
    tmp_path: Path, arrays: dict[str, np.ndarray], message: str
) -> None:
    good = _imdb_file(tmp_path / "good.npz", {"train": [[1, 2], [3]], "test": [[4]]},
                      {"train": [0, 1], "test": [1]})  # fmt: skip
    with np.load(good, allow_pickle=True) as npz:
        content = {k: npz[k] for k in npz.files}
    np.savez(tmp_path / "bad.npz", **{**content, **arrays})
    with pytest.raises(DataError, match=message) as e:
        datasets.load_imdb(tmp_path / "bad.npz")
    assert str(tmp_path / "bad.npz") in str(e.value) and "imdb(path=...)" in str(e.value)


def test_imdb_reviews_of_floats_or_nested_lists_are_refused(tmp_path: Path) -> None:
    for i, review in enumerate(([1.0, 2.0], [[1, 2], [3]], [True, False])):
        x = np.empty(1, dtype=object)
        x[0] = review
        np.savez(tmp_path / f"{i}.npz", x_train=x, y_train=[1], x_test=x, y_test=[0])
        with pytest.raises(DataError, match="review 0 of x_train is not a list of non-negative"):
            datasets.load_imdb(tmp_path / f"{i}.npz")


def test_copy_task_through_a_spec_loads_and_fits(tmp_path: Path) -> None:
    spec = SPEC.format(
        shape="[28] int",
        body="embedding(10, 16) -> lstm(32, return_sequences=true) -> dense(10)",
        data="copy_task(symbols=8, length=4, delay=20, n=50)",
        loss="cross_entropy",
    )
    result = compile_source(spec, "copy.net")
    assert result.ok, [d.message for d in result.diagnostics]
    assert result.spec is not None
    data = run.prepare_data(result.spec)
    assert isinstance(data, datasets.Arrays)
    assert data.x_train.shape == (40, 28) and data.y_train.shape == (40, 28)
    assert data.x_train.max() == 9 and data.y_train.max() <= 8 and data.classes == 10
    with pytest.raises(DataError, match="gives integer token ids, but the model takes float"):
        datasets.load(result.spec.training.data, (28,), "float")


def _npz_tokens(path: Path, x: np.ndarray, y: np.ndarray) -> Path:
    np.savez(path, x_train=x, y_train=y, x_test=x[:2], y_test=y[:2])
    return path


TAGGER = """
model Tagger {{
  input tokens: [6] int
  embedding({vocab}, 8{mask}) -> lstm(8, return_sequences=true)
  dense(4)                       # one of 4 tags per step
}}
train Tagger {{
  data = npz(path="{path}")
  loss = cross_entropy
}}
"""


def _prepare(text: str, capsys: pytest.CaptureFixture[str]) -> datasets.Arrays | str:
    """The spec's data as `specc run` prepares it, or the error `specc run` prints."""
    result = compile_source(text, "t.net")
    assert result.ok and result.spec is not None, [d.message for d in result.diagnostics]
    arrays = run.prepare_data(result.spec)
    return arrays if isinstance(arrays, datasets.Arrays) else capsys.readouterr().err


def test_npz_token_sequences_with_per_step_labels(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(1, 50, (10, 6)).astype(np.int32)  # any integer type: read as int64
    y = rng.integers(0, 4, (10, 6)).astype(np.uint8)
    file = _npz_tokens(tmp_path / "tags.npz", x, y)
    data = _prepare(TAGGER.format(vocab=50, mask="", path=file), capsys)
    assert isinstance(data, datasets.Arrays)
    assert data.x_train.dtype == np.int64 and data.y_train.dtype == np.int64
    assert data.x_train.shape == (10, 6) and data.y_train.shape == (10, 6)
    np.testing.assert_array_equal(data.x_train, x)
    np.testing.assert_array_equal(data.y_test, y[:2])


@pytest.mark.parametrize(
    ("x", "y", "vocab", "mask", "message"),
    [
        (np.full((4, 6), 57), np.zeros((4, 6), int), 50, "",
         r"x_train holds token ids 57..57, but the model's `embedding\(50, ...\)` takes ids "
         r"0..49; use `embedding\(58, ...\)`"),
        (np.full((4, 6), -1), np.zeros((4, 6), int), 50, "", r"ids -1..-1.*never negative"),
        (np.ones((4, 6), int), np.zeros(4, int), 50, "",
         r"per-step scores \[6, 4\], so `cross_entropy` needs one class per step, labels "
         r"\[N, 6\]; y_train is \[4\]"),
        (np.ones((4, 6), int), np.zeros((4, 7), int), 50, "", r"labels \[N, 6\]; y_train is"),
        (np.ones((4, 6), int), np.full((4, 6), 4), 50, "",
         r"the data set has 5 classes, but the model gives 4 score\(s\); end the model with "
         r"`dense\(5\)`"),
        (np.ones((4, 6), int), np.zeros((4, 6)), 50, "", "needs integer class labels"),
        (np.ones((4, 6), int), np.zeros((4, 6), int), 50, "",
         None),  # fits: the control case for the two mask_zero cases below
        (np.array([[0, 0, 1, 2, 3, 4]] * 4), np.zeros((4, 6), int), 50, ", mask_zero=true",
         r"row 0 of x_train has a real token after padding \(0\).*padding='post'"),
        (np.array([[1, 2, 0, 0, 0, 0], [0] * 6] * 2), np.zeros((4, 6), int), 50,
         ", mask_zero=true", r"row 1 of x_train is all padding \(0\)"),
        (np.ones((4, 6)) * 0.5, np.zeros((4, 6), int), 50, "", "non-integer values"),
    ],
)  # fmt: skip
def test_npz_tokens_that_do_not_fit_the_model_are_refused_before_training(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    x: np.ndarray,
    y: np.ndarray,
    vocab: int,
    mask: str,
    message: str | None,
) -> None:
    file = _npz_tokens(tmp_path / "tags.npz", x, y)
    data = _prepare(TAGGER.format(vocab=vocab, mask=mask, path=file), capsys)
    if message is None:
        assert isinstance(data, datasets.Arrays)
        return
    assert isinstance(data, str) and data.startswith("specc: error: "), data
    assert re.search(message, data), data
    assert str(file) in data


def test_synthetic_gives_per_step_labels_to_a_per_step_model(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = TAGGER.format(vocab=20, mask="", path="unused").replace(
        'npz(path="unused")', "synthetic(n=30, classes=4)"
    )
    data = _prepare(text, capsys)
    assert isinstance(data, datasets.Arrays)
    assert data.y_train.shape == (24, 6) and data.y_test.shape == (6, 6)
    assert data.y_train.dtype == np.int64 and set(np.unique(data.y_train)) == {0, 1, 2, 3}
    assert data.x_train.max() < 20  # ids the embedding takes, not TOKEN_IDS
    again = _prepare(text, capsys)
    assert isinstance(again, datasets.Arrays)
    np.testing.assert_array_equal(again.y_train, data.y_train)  # from the seed
    # a model giving one answer per sample still gets one label per sample, as before
    flat = datasets.load(Synthetic(n=30, classes=4), (6,), "int", output_shape=(4,))
    assert flat.y_train.shape == (24,) and flat.x_train.max() >= 20
    same = datasets.synthetic(30, 4, (6,), "int", seed=0)
    np.testing.assert_array_equal(flat.x_train, same.x_train)
    np.testing.assert_array_equal(flat.y_train, same.y_train)


def test_mnist_rows_are_the_images_rows(tmp_path: Path) -> None:
    from tests.test_datasets import write_mnist

    write_mnist(tmp_path, gz=True)
    images = datasets.load(Mnist(path=str(tmp_path)), (1, 5, 4))
    rows = datasets.load(Mnist(path=str(tmp_path), rows=True), (5, 4))
    assert rows.x_train.shape == (6, 5, 4) and rows.x_test.shape == (4, 5, 4)
    np.testing.assert_array_equal(rows.x_train, images.x_train[:, 0])
    np.testing.assert_array_equal(rows.y_train, images.y_train)
    with pytest.raises(DataError, match="gives numbers"):
        datasets.load(Mnist(path=str(tmp_path), rows=True), (5,), "int")


def test_mnist_rows_through_a_spec() -> None:
    rows = SPEC.format(shape="[28, 28]", body="lstm(8) -> dense(10)",
                       data='mnist(path="m", rows=true)', loss="cross_entropy")  # fmt: skip
    assert compile_source(rows, "t.net").ok
    images = rows.replace(", rows=true", "")
    (diag,) = [d for d in compile_source(images, "t.net").diagnostics if d.is_error]
    assert diag.code == "E0610" and 'mnist(path="m", rows=true)' in diag.help


@pytest.mark.parametrize(
    ("shape", "body", "data", "code", "message"),
    [
        ("[28, 1]", "lstm(8, return_sequences=true) -> dense(10)",
         "copy_task(symbols=8, length=4, delay=20)", "E0623",
         "`copy_task` gives token ids, but `M` takes numbers"),
        ("[10] int", "embedding(20, 4) -> gru(4) -> dense(1)", "adding(length=10)", "E0623",
         "`adding` gives numbers, but `M` takes token ids"),
        ("[28] int", "embedding(9, 4) -> lstm(4, return_sequences=true) -> dense(10)",
         "copy_task(symbols=8, length=4, delay=20)", "E0624",
         "`copy_task` gives token ids 0..9, but `embedding(9, 4)` in `M` takes ids below 9"),
        ("[50] int", "embedding(1000, 4) -> lstm(4) -> dense(2)", "imdb(path=\"i\", length=50)",
         "E0624", "`imdb` gives token ids 0..9999, but `embedding(1000, 4)`"),
        ("[50] int", "embedding(100, 4, mask_zero=true) -> lstm(4) -> dense(2)",
         "imdb(path=\"i\", length=50, vocab=100, padding=\"pre\")", "E0625",
         "`imdb(padding=\"pre\")` pads at the front"),
        ("[28] int", "embedding(10, 4, mask_zero=true) -> lstm(4, return_sequences=true) "
         "-> dense(10)", "copy_task(symbols=8, length=4, delay=20)", "E0625",
         "`copy_task` uses id 0 for its blank steps"),
        ("[8] int", "embedding(5, 4, mask_zero=true) -> lstm(4, return_sequences=true) "
         "-> dense(5)", 'text(path="t", length=8)', "E0625", "`text` gives id 0 to a character"),
    ],
)  # fmt: skip
def test_token_data_diagnostics(shape: str, body: str, data: str, code: str, message: str) -> None:
    text = SPEC.format(shape=shape, body=body, data=data, loss="cross_entropy")
    text = text.replace("loss = cross_entropy", "loss = mse") if data.startswith("adding") else text
    errors = [d for d in compile_source(text, "t.net").diagnostics if d.is_error]
    assert [(d.code, d.message[: len(message)]) for d in errors] == [(code, message)]
    assert errors[0].help


def test_imdb_with_post_padding_and_mask_zero_compiles() -> None:
    text = SPEC.format(shape="[50] int", body="embedding(100, 4, mask_zero=true) -> lstm(4) "
                       "-> dense(2)", data='imdb(path="i", length=50, vocab=100)',
                       loss="cross_entropy")  # fmt: skip
    assert compile_source(text, "t.net").ok


@pytest.mark.parametrize("model", ["Text", "Tagger", "Masked", "Encoder"])
def test_synthetic_data_fits_every_catalogue_sequence_model(
    model: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`synthetic` on the catalogue's sequence models, as `specc run` prepares it: token ids
    the embedding takes (no padding for `mask_zero`), per-step labels for per-step scores."""
    from tests.layer_catalogue import trainable_spec

    text = trainable_spec(model)
    data = _prepare(text, capsys)
    assert isinstance(data, datasets.Arrays), data
    spec = compile_source(text, "t.net").spec
    assert spec is not None
    net = spec.model(model)
    out = net.output_shape
    assert data.y_train.shape[1:] == (out[:1] if len(out) == 2 else ())
    vocabs = [n.op.vocab for n in net.layers if isinstance(n.op, Embedding)]
    if vocabs:
        assert data.x_train.dtype == np.int64 and data.x_train.max() < min(vocabs)
    if model == "Masked":
        assert data.x_train.min() >= 1
    if model == "Tagger":
        assert data.y_train.shape[1:] == (7,)
