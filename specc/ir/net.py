"""The validated intermediate representation: flat DAGs of typed layer nodes, with inferred
shapes and parameter counts, plus the training configuration. Immutable; passes build new
nodes rather than editing old ones."""

from __future__ import annotations

import math
from functools import cached_property
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from specc.ir.train_config import Training
from specc.layers import Layer
from specc.source import Span


class Input(BaseModel):
    """A model input (no batch axis). `int` inputs carry token ids."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    op: Literal["input"] = "input"
    dims: tuple[int, ...]
    dtype: Literal["float", "int"] = "float"


NodeOp = Annotated[Layer | Input, Field(discriminator="op")]


class Node(BaseModel):
    """One layer of a flat network."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str  # hierarchical, dotted: `stage2.conv2d_1`; the weight-name prefix
    op: NodeOp
    inputs: tuple[str, ...] = ()
    shape: tuple[int, ...] | None = None  # output shape, no batch axis; None before inference
    trainable: int = 0
    non_trainable: int = 0
    macs: int = 0
    span: Span | None = Field(default=None, exclude=True)

    @property
    def ident(self) -> str:
        """The name as a Python identifier: dots become underscores."""
        return self.name.replace(".", "_")

    @property
    def kind(self) -> str:
        return self.op.op


class Net(BaseModel):
    """A model: its nodes in topological order; inputs first, the output last."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    nodes: tuple[Node, ...]
    inputs: tuple[str, ...]
    output: str
    span: Span | None = Field(default=None, exclude=True)

    def node(self, name: str) -> Node:
        return self.by_name[name]

    @cached_property
    def by_name(self) -> dict[str, Node]:
        return {n.name: n for n in self.nodes}

    @property
    def layers(self) -> tuple[Node, ...]:
        return tuple(n for n in self.nodes if n.kind != "input")

    @property
    def output_shape(self) -> tuple[int, ...]:
        shape = self.node(self.output).shape
        assert shape is not None
        return shape

    @property
    def input_nodes(self) -> tuple[Node, ...]:
        return tuple(self.node(n) for n in self.inputs)

    @property
    def trainable(self) -> int:
        return sum(n.trainable for n in self.nodes)

    @property
    def non_trainable(self) -> int:
        return sum(n.non_trainable for n in self.nodes)

    @property
    def total_macs(self) -> int:
        return sum(n.macs for n in self.nodes)

    def consumers(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {n.name: [] for n in self.nodes}
        for n in self.nodes:
            for i in n.inputs:
                out[i].append(n.name)
        return out


class Spec(BaseModel):
    """A whole compiled spec."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    models: tuple[Net, ...]
    training: Training | None = None

    def model(self, name: str) -> Net:
        for m in self.models:
            if m.name == name:
                return m
        raise KeyError(name)


def element_count(shape: tuple[int, ...]) -> int:
    return math.prod(shape)
