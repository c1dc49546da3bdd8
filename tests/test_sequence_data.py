"""The sequence data sets: digits row by row, the adding problem, a periodic series, text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from specc.compiler import compile_source
from specc.tools import datasets
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
    # start 1, word ids + 3, ids >= vocab out-of-vocabulary (2), 0-padding at the end
    np.testing.assert_array_equal(data.x_train, [[1, 7, 2, 2, 0], [1, 4, 5, 6, 7]])
    np.testing.assert_array_equal(data.x_test, [[1, 2, 0, 0, 0]])
    np.testing.assert_array_equal(data.y_train, [1, 0])
    assert data.classes == 2 and data.x_train.dtype == np.int64
    front = datasets.load_imdb(file, length=5, vocab=100, padding="pre")
    np.testing.assert_array_equal(front.x_train, [[0, 1, 7, 13, 23], [6, 7, 8, 9, 10]])


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
