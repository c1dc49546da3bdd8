"""The row-by-row LSTM digit classifier, written by hand in idiomatic Keras 3 on TensorFlow (a
tf.function training step with Keras's Adam and metrics, as in Keras's "training loop from
scratch" guide, like lenet5_keras.py): the baseline for benchmarks/bench_sequences.py.
Imports only Keras, TensorFlow and NumPy.

    python lstm_digits_keras.py --data data.npz [--epochs 15] [--batch 32] [--seed 0]

Same model as specs/lstm_digits.net (`layers.LSTM(128)` with Keras's defaults, which take
the fused cuDNN kernel on a GPU, over 16 rows of 16 pixels, then `layers.Dense(10)`),
optimizer (Adam 2e-3), loss (cross entropy from logits), batch (32), epochs (15) and data
order (a NumPy permutation from `default_rng(seed + epoch)` each epoch, as specc's
runtime.epoch_order) as the emitted train.py. A custom loop rather than `model.fit`, as in
lenet5_keras.py: it times the epoch's loop alone, the same span train.py times, and it takes
the batches in exactly that order (fit's `shuffle=True` draws its own order). Prints one line
per epoch and, last, one JSON line: training samples/s (epoch loops only, no evaluation) and
the final test accuracy.
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import tensorflow as tf
from keras import layers


def lstm_classifier() -> keras.Model:
    return keras.Sequential([keras.Input((16, 16)), layers.LSTM(128), layers.Dense(10)])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True, help="x_train, y_train, x_test, y_test")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    with np.load(args.data) as data:
        x_train, y_train, x_test, y_test = (
            data[k] for k in ("x_train", "y_train", "x_test", "y_test")
        )
    n = len(x_train)

    keras.utils.set_random_seed(args.seed)
    model = lstm_classifier()
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
        order = np.random.default_rng(args.seed + epoch).permutation(n)
        train_loss.reset_state()
        train_accuracy.reset_state()
        t0 = time.perf_counter()
        for i in range(0, n, args.batch):
            index = order[i : i + args.batch]
            train_step(x_train[index], y_train[index])
        rates.append(n / (time.perf_counter() - t0))
        print(
            f"epoch {epoch + 1}/{args.epochs} loss {float(train_loss.result()):.4f} "
            f"accuracy {float(train_accuracy.result()):.4f} test_accuracy {evaluate():.4f} "
            f"{rates[-1]:,.0f} samples/s",
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
