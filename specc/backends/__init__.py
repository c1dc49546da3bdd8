"""Backends: each turns validated IR into code for one framework."""

from __future__ import annotations

from specc.backends.base import Backend, BackendError


def _torch() -> Backend:
    from specc.backends.torch.torch_backend import TorchBackend

    return TorchBackend()


def _keras() -> Backend:
    from specc.backends.keras.keras_backend import KerasBackend

    return KerasBackend()


BACKENDS = {"torch": _torch, "keras": _keras}


def get_backend(name: str) -> Backend:
    if name not in BACKENDS:
        raise BackendError(
            f"unknown backend `{name}`",
            help="choose one of: " + ", ".join(f"`{b}`" for b in BACKENDS),
        )
    return BACKENDS[name]()


__all__ = ["BACKENDS", "Backend", "BackendError", "get_backend"]
