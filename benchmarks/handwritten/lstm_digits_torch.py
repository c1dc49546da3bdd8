"""The row-by-row LSTM digit classifier, written by hand in idiomatic PyTorch: the baseline
for benchmarks/bench_sequences.py. Imports only torch and NumPy.

    python lstm_digits_torch.py --data data.npz [--epochs 15] [--batch 32] [--seed 0]

Same model as specs/lstm_digits.net (each 16x16 digit read as 16 time steps of 16 pixels by
one fused `nn.LSTM(16, 128)`, the last hidden state into `nn.Linear(128, 10)`), optimizer
(Adam 2e-3), loss (cross entropy), batch (32) and data order (a NumPy permutation from
`default_rng(seed + epoch)` each epoch, as specc's runtime.epoch_order) as the emitted
train.py; the spec's cosine schedule (one call an epoch, nothing in the loop) is left out.
data.npz holds x_train [N, 16, 16] float32, y_train, x_test, y_test.
Prints one line per epoch and, last, one JSON line: training samples/s (epoch loops only,
no evaluation) and the final test accuracy.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class LstmClassifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(16, 128, batch_first=True)
        self.fc = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: [batch, 16 rows, 16 pixels]
        _, (h, _) = self.lstm(x)
        return self.fc(h[-1])


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

    torch.manual_seed(args.seed)
    model = LstmClassifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    rates = []
    for epoch in range(args.epochs):
        model.train()
        order = np.random.default_rng(args.seed + epoch).permutation(n)
        total_loss, correct = 0.0, 0
        t0 = time.perf_counter()
        for i in range(0, n, args.batch):
            index = order[i : i + args.batch]
            xb = torch.from_numpy(x_train[index])
            yb = torch.from_numpy(y_train[index])
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(xb)
            correct += (logits.argmax(1) == yb).sum().item()
        rates.append(n / (time.perf_counter() - t0))
        test_accuracy = evaluate(model, x_test, y_test, args.batch)
        print(
            f"epoch {epoch + 1}/{args.epochs} loss {total_loss / n:.4f} "
            f"accuracy {correct / n:.4f} test_accuracy {test_accuracy:.4f} "
            f"{rates[-1]:,.0f} samples/s",
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
