"""The layer catalogue: one class per layer kind, registered by its `op` name.

The `op` name is the spelling in specs, the key of the shape rule, the template file name on
every backend and the JSON tag in the IR."""

from __future__ import annotations

from typing import Annotated, Union

from pydantic import Field

from specc.layers import activations, conv, core, latent, merge, sequence  # noqa: F401  (register)
from specc.layers.base import REGISTRY, Op, Shape, ShapeError

Layer = Annotated[Union[tuple(REGISTRY.values())], Field(discriminator="op")]  # noqa: UP007

__all__ = ["REGISTRY", "Layer", "Op", "Shape", "ShapeError"]
