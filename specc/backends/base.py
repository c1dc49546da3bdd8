"""What every backend shares: the error type, the registry contract, and the planning of
readable variable names for a network's forward pass."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from specc.backends.naming import PythonIdentifier, allocate
from specc.diagnostics import Diagnostic
from specc.ir.net import Net, Node, Spec
from specc.source import Span


class BackendError(Exception):
    """The spec is valid, but this backend cannot express part of it faithfully."""

    def __init__(self, message: str, span: Span | None = None, help: str = "") -> None:
        super().__init__(message)
        self.diagnostic = Diagnostic("E0701", message, span, "", help)


class Backend:
    """A backend turns a validated Spec into source files (name -> text)."""

    name: str = ""
    #: shown in diagnostics: "the Keras backend"
    title: str = ""

    def emit(self, spec: Spec, source_text: str) -> dict[str, str]:
        raise NotImplementedError

    def unsupported(self, node: Node, what: str, help: str = "") -> BackendError:
        return BackendError(
            f"{self.title} cannot express {what} (layer `{node.name}`)", node.span, help
        )


@dataclass
class NodeSite:
    """One node as a backend's translation sees it (each backend adds its own context)."""

    node: Node
    ins: list[Any]  # the input shapes

    @property
    def op(self) -> Any:
        return self.node.op

    @property
    def shape(self) -> Any:
        return self.ins[0]


class TranslationTable(dict[str, Callable[..., Any]]):
    """A backend's translation of each layer kind, filled by `@table.translates(kind, ...)`."""

    def __init__(self, backend: str) -> None:
        super().__init__()
        self.backend = backend

    def translates(self, *kinds: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            for kind in kinds:
                assert kind not in self, f"two {self.backend} translations of `{kind}`"
                self[kind] = fn
            return fn

        return register


#: the variable of a value nobody reads (a recurrent layer's output when only its final
#: states are used)
UNUSED = "_"


@dataclass(frozen=True)
class Variables:
    """The forward pass's variable for each node's output."""

    names: dict[str, PythonIdentifier]

    def of(self, node_name: str) -> PythonIdentifier:
        return self.names[node_name]


def bound_states(net: Net) -> dict[str, list[str | None]]:
    """Each recurrent layer whose final states are bound (`out, h, c = ...`): for each of its
    states, in the layer's order, the `recurrent_state` node holding it (None: not bound)."""
    out: dict[str, list[str | None]] = {}
    for node in net.layers:
        if node.kind == "recurrent_state":
            source = net.node(node.inputs[0])
            slots = out.setdefault(source.name, [None] * len(source.op.states()))
            slots[node.op.index] = node.name
    return out


def plan_variables(
    net: Net, chain_name: str = "x", reserved: frozenset[str] = frozenset()
) -> Variables:
    """A value that only the very next node reads lives in `chain_name`, so a plain stack
    of layers reads `x = layer(x)`; any other value gets its node's name."""
    consumers = net.consumers()
    order = {n.name: i for i, n in enumerate(net.nodes)}
    names: dict[str, PythonIdentifier] = {}
    # one allocator for every node's own variable: distinct by construction (`as x_` beside
    # the input `x`, whose variable is `x_`, gets `x__`)
    own = allocate((n.name for n in net.nodes), reserved | {chain_name})
    for node in net.nodes:
        users = consumers[node.name]
        if (
            node.name != net.output
            and users
            and all(net.node(u).kind == "recurrent_state" for u in users)
        ):  # `_, h = ... -> gru(...)`: only the layer's states are read
            names[node.name] = PythonIdentifier(UNUSED)
            continue
        chained = (
            node.kind != "input"
            and node.name != net.output
            and len(users) == 1
            and order[users[0]] == order[node.name] + 1
            and net.node(users[0]).inputs.count(node.name) == 1
        )
        names[node.name] = PythonIdentifier(chain_name) if chained else own[node.name]
    return Variables(names)
