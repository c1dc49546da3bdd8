"""LeNet-5 on the digits, written by hand in idiomatic Keras 3 on TensorFlow (channels-last
images, a tf.function training step with Keras's Adam and metrics, as in Keras's "training
loop from scratch" guide): the baseline for benchmarks/bench_keras.py. Imports only Keras,
TensorFlow, NumPy and (for the data) scikit-learn.

    python lenet5_keras.py --data data.npz   # train on a prepared data.npz (as train.py does)
    python lenet5_keras.py                   # end to end: load, resize, normalise, split, train

Same model, optimizer (Adam 2e-3), schedule (cosine per epoch to 1e-5), batch (32), epochs
(20), data order and NumPy random-crop augmentation as specs/lenet5.net. Prints one JSON line:
training samples/s (epoch loops only, no evaluation) and the final test accuracy.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import tensorflow as tf
from keras import layers


def load_digits_32() -> tuple[np.ndarray, ...]:
    """scikit-learn's 8x8 digits, bilinear to 32x32 (half-pixel centres, no antialiasing),
    stratified 80/20 split, normalised with the train split's mean and std; channels-last."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = tf.image.resize(digits.images[..., None] / 16.0, (32, 32), method="bilinear")
    images = images.numpy()
    labels = digits.target.astype(np.int64)
    train, test = stratified_split(labels, 0.2, np.random.default_rng(0))
    x_train, x_test = images[train], images[test]
    mean, std = x_train.mean(), x_train.std()
    x_train = ((x_train - mean) / std).astype(np.float32)
    x_test = ((x_test - mean) / std).astype(np.float32)
    return x_train, labels[train], x_test, labels[test]


def stratified_split(labels: np.ndarray, test_fraction: float, rng: np.random.Generator):
    """The split specc's digits use: ceil(20%) test samples shared over the classes by
    largest remainder, each class permuted in class order, both halves shuffled."""
    classes, counts = np.unique(labels, return_counts=True)
    n_test = math.ceil(test_fraction * len(labels))
    quotas = counts * (n_test / len(labels))
    per_class = np.floor(quotas).astype(np.int64)
    per_class[np.argsort(-(quotas - per_class), kind="stable")[: n_test - per_class.sum()]] += 1
    train, test = [], []
    for cls, k in zip(classes, per_class, strict=True):
        idx = rng.permutation(np.flatnonzero(labels == cls))
        test.append(idx[:k])
        train.append(idx[k:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def random_crop(images: np.ndarray, pad: int, rng: np.random.Generator) -> np.ndarray:
    """Channels-last images shifted by up to `pad` pixels (the same draws as specc's)."""
    n, h, w, c = images.shape
    padded = np.pad(images, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    rows = rng.integers(0, 2 * pad + 1, n)[:, None] + np.arange(h)
    cols = rng.integers(0, 2 * pad + 1, n)[:, None] + np.arange(w)
    return padded[
        np.arange(n)[:, None, None, None],
        rows[:, :, None, None],
        cols[:, None, :, None],
        np.arange(c)[None, None, None, :],
    ]


def lenet5() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((32, 32, 1)),
            layers.Conv2D(6, 5, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(16, 5, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(120, activation="relu"),
            layers.Dense(84, activation="relu"),
            layers.Dense(10),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", help="a data.npz; without it, prepare the digits here")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    if args.data:
        with np.load(args.data) as data:  # channels-first on disk
            x_train, y_train, x_test, y_test = (
                data[k] for k in ("x_train", "y_train", "x_test", "y_test")
            )
        x_train, x_test = x_train.transpose(0, 2, 3, 1), x_test.transpose(0, 2, 3, 1)
        x_train, x_test = np.ascontiguousarray(x_train), np.ascontiguousarray(x_test)
    else:
        x_train, y_train, x_test, y_test = load_digits_32()
    n = len(x_train)

    keras.utils.set_random_seed(args.seed)
    model = lenet5()
    optimizer = keras.optimizers.Adam(learning_rate=2e-3)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    train_loss = keras.metrics.Mean()
    train_accuracy = keras.metrics.SparseCategoricalAccuracy()
    test_accuracy = keras.metrics.SparseCategoricalAccuracy()

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            loss = loss_fn(y, logits)
        grads = tape.gradient(loss, model.trainable_weights)
        optimizer.apply(grads, model.trainable_weights)
        train_loss.update_state(loss)
        train_accuracy.update_state(y, logits)

    @tf.function
    def test_step(x, y):
        test_accuracy.update_state(y, model(x, training=False))

    def evaluate() -> float:
        test_accuracy.reset_state()
        for i in range(0, len(x_test), args.batch):
            test_step(x_test[i : i + args.batch], y_test[i : i + args.batch])
        return float(test_accuracy.result())

    rates = []
    for epoch in range(args.epochs):
        cosine = (1 + math.cos(math.pi * epoch / args.epochs)) / 2
        optimizer.learning_rate.assign(1e-5 + (2e-3 - 1e-5) * cosine)
        order = np.random.default_rng(args.seed + epoch).permutation(n)
        rng = np.random.default_rng([args.seed, epoch, 1])
        train_loss.reset_state()
        train_accuracy.reset_state()
        t0 = time.perf_counter()
        for i in range(0, n, args.batch):
            index = order[i : i + args.batch]
            train_step(random_crop(x_train[index], 2, rng), y_train[index])
        rates.append(n / (time.perf_counter() - t0))
        print(
            f"epoch {epoch + 1}/{args.epochs} loss {float(train_loss.result()):.4f} "
            f"accuracy {float(train_accuracy.result()):.4f} test_accuracy {evaluate():.4f}",
            flush=True,
        )
    seconds = sum(n / r for r in rates)
    result = {
        "samples_per_s": n * len(rates) / seconds,
        "epoch_samples_per_s": rates,
        "test_accuracy": evaluate(),
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
