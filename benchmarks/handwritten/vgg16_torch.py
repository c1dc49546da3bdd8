"""VGG-16 (configuration D, torchvision's layout) trained by hand in idiomatic PyTorch: the
baseline for benchmarks/bench_torch.py. Imports only torch and NumPy.

    python vgg16_torch.py --data data.npz --epochs 2 --batch 2

Same model, optimizer (SGD lr 0.01, momentum 0.9, weight decay 5e-4, no schedule) and data
order as specs/vgg16.net. Prints one JSON line with the samples/s of each epoch's loop.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

CONFIG_D = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


def vgg16(classes: int = 1000) -> nn.Module:
    layers: list[nn.Module] = []
    channels = 3
    for v in CONFIG_D:
        if v == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            layers += [nn.Conv2d(channels, v, 3, padding=1), nn.ReLU()]
            channels = v
    return nn.Sequential(
        *layers,
        nn.AdaptiveAvgPool2d((7, 7)),
        nn.Flatten(),
        nn.Linear(512 * 7 * 7, 4096),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(4096, 4096),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(4096, classes),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with np.load(args.data) as data:
        x_train, y_train = data["x_train"], data["y_train"]
    n = len(x_train)

    torch.manual_seed(args.seed)
    model = vgg16()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    rates = []
    for epoch in range(args.epochs):
        model.train()
        order = np.random.default_rng(args.seed + epoch).permutation(n)
        total_loss = 0.0
        t0 = time.perf_counter()
        for i in range(0, n, args.batch):
            index = order[i : i + args.batch]
            xb, yb = torch.from_numpy(x_train[index]), torch.from_numpy(y_train[index])
            loss = F.cross_entropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(xb)
        rates.append(n / (time.perf_counter() - t0))
        print(f"epoch {epoch + 1}/{args.epochs} loss {total_loss / n:.4f}", flush=True)
    print(json.dumps({"epoch_samples_per_s": rates}), flush=True)


if __name__ == "__main__":
    main()
