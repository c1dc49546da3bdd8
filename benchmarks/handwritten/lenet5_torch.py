"""LeNet-5 on the digits, written by hand in idiomatic PyTorch: the baseline for
benchmarks/bench_torch.py. Imports only torch, NumPy and (for the data) scikit-learn.

    python lenet5_torch.py --data data.npz   # train on a prepared data.npz (as train.py does)
    python lenet5_torch.py                   # end to end: load, resize, normalise, split, train

Same model, optimizer (Adam 2e-3), schedule (cosine per epoch to 1e-5), batch (32), epochs
(20), data order and NumPy random-crop augmentation as specs/lenet5.net. Prints one JSON line:
training samples/s (epoch loops only, no evaluation) and the final test accuracy.
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def load_digits_32() -> tuple[np.ndarray, ...]:
    """scikit-learn's 8x8 digits, bilinear to 32x32, stratified 80/20 split, normalised with
    the train split's mean and std."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = torch.from_numpy(digits.images / 16.0)[:, None]  # [N, 1, 8, 8] float64
    images = F.interpolate(images, size=(32, 32), mode="bilinear", align_corners=False)
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
    n, c, h, w = images.shape
    padded = np.pad(images, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    rows = rng.integers(0, 2 * pad + 1, n)[:, None] + np.arange(h)
    cols = rng.integers(0, 2 * pad + 1, n)[:, None] + np.arange(w)
    return padded[
        np.arange(n)[:, None, None, None],
        np.arange(c)[None, :, None, None],
        rows[:, None, :, None],
        cols[:, None, None, :],
    ]


def lenet5() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 6, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, 10),
    )


@torch.no_grad()
def evaluate(model: nn.Module, x: np.ndarray, y: np.ndarray, batch: int) -> float:
    model.eval()
    correct = 0
    for i in range(0, len(x), batch):
        logits = model(torch.from_numpy(x[i : i + batch]))
        correct += (logits.argmax(1) == torch.from_numpy(y[i : i + batch])).sum().item()
    return correct / len(x)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", help="a data.npz; without it, prepare the digits here")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    if args.data:
        with np.load(args.data) as data:
            x_train, y_train, x_test, y_test = (
                data[k] for k in ("x_train", "y_train", "x_test", "y_test")
            )
    else:
        x_train, y_train, x_test, y_test = load_digits_32()
    n = len(x_train)

    torch.manual_seed(args.seed)
    model = lenet5()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=args.epochs, eta_min=1e-5
    )
    rates = []
    for epoch in range(args.epochs):
        model.train()
        order = np.random.default_rng(args.seed + epoch).permutation(n)
        rng = np.random.default_rng([args.seed, epoch, 1])
        total_loss, correct = 0.0, 0
        t0 = time.perf_counter()
        for i in range(0, n, args.batch):
            index = order[i : i + args.batch]
            xb = torch.from_numpy(random_crop(x_train[index], 2, rng))
            yb = torch.from_numpy(y_train[index])
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(xb)
            correct += (logits.argmax(1) == yb).sum().item()
        rates.append(n / (time.perf_counter() - t0))
        scheduler.step()
        test_accuracy = evaluate(model, x_test, y_test, args.batch)
        print(
            f"epoch {epoch + 1}/{args.epochs} loss {total_loss / n:.4f} "
            f"accuracy {correct / n:.4f} test_accuracy {test_accuracy:.4f}",
            flush=True,
        )
    seconds = sum(n / r for r in rates)
    result = {
        "samples_per_s": n * len(rates) / seconds,
        "epoch_samples_per_s": rates,
        "test_accuracy": evaluate(model, x_test, y_test, args.batch),
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
