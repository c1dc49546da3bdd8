"""Every layer kind is complete: a shape rule and its sentence, canonical parameters that
match its parameter count, a translation on each backend, a docs entry, golden code on both
backends and a verify case. The failure names the kind and what it lacks."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import pytest

from specc.backends.keras.translations import TRANSLATIONS as KERAS
from specc.backends.torch.translations import TRANSLATIONS as TORCH
from specc.compiler import compile_source
from specc.ir.net import Net
from specc.layers import REGISTRY
from specc.layers.base import Op, Shape
from tests.layer_catalogue import TRAINING, trainable_spec
from tests.regen_golden import GOLDEN, ROOT, golden_specs

DOCS = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")


def _nets(path: Path) -> list[Net]:
    result = compile_source(path.read_text(encoding="utf-8"), str(path))
    assert result.spec is not None, path
    return list(result.spec.models)


def _kinds(nets: Iterable[Net]) -> set[str]:
    return {node.kind for net in nets for node in net.layers}


def golden_kinds() -> dict[str, set[str]]:
    """backend -> the layer kinds of the specs that have golden code on it."""
    out: dict[str, set[str]] = {}
    for backend in ("torch", "keras"):
        out[backend] = set()
        for spec in golden_specs():
            if (GOLDEN / backend / spec.stem / "model.py").exists():
                out[backend] |= _kinds(_nets(spec))
    return out


def verified_kinds() -> set[str]:
    """The kinds of the catalogue models that tests/test_verify.py verifies."""
    kinds: set[str] = set()
    for model in TRAINING:
        spec = compile_source(trainable_spec(model)).spec
        assert spec is not None, model
        kinds |= _kinds(net for net in spec.models if net.name == model)
    return kinds


def missing_parts(
    registry: Mapping[str, type[Op]],
    torch: Mapping[str, Any],
    keras: Mapping[str, Any],
    docs: str,
    golden: Mapping[str, set[str]],
    verified: set[str],
) -> list[str]:
    missing = []
    for kind, cls in sorted(registry.items()):
        if not cls.shape_rule:
            missing.append(f"{kind}: no shape_rule sentence (docs/gen_layers.py prints it)")
        if kind not in torch:
            missing.append(f"{kind}: no PyTorch translation (specc/backends/torch/translations.py)")
        if kind not in keras:
            missing.append(f"{kind}: no Keras translation (specc/backends/keras/translations.py)")
        if f"#### `{kind}`" not in docs:
            missing.append(f"{kind}: no entry in docs/language.md (run python docs/gen_layers.py)")
        for backend, kinds in golden.items():
            if kind not in kinds:
                missing.append(f"{kind}: no golden case on {backend} (tests/layer_specs/)")
        if kind not in verified:
            missing.append(f"{kind}: no verify case (tests/layer_catalogue.py TRAINING)")
    return missing


def test_every_layer_kind_is_complete() -> None:
    missing = missing_parts(REGISTRY, TORCH, KERAS, DOCS, golden_kinds(), verified_kinds())
    assert missing == []


def test_a_missing_part_is_named() -> None:
    """The check itself can fail, and says which kind lacks what."""
    torch = {k: v for k, v in TORCH.items() if k != "conv3d"}
    docs = DOCS.replace("#### `gru`", "#### gru")
    golden = {"torch": {"relu"}, "keras": set(REGISTRY)}
    missing = missing_parts(REGISTRY, torch, KERAS, docs, golden, set(REGISTRY) - {"elu"})
    assert "conv3d: no PyTorch translation (specc/backends/torch/translations.py)" in missing
    assert "gru: no entry in docs/language.md (run python docs/gen_layers.py)" in missing
    assert "dense: no golden case on torch (tests/layer_specs/)" in missing
    assert "relu: no golden case on torch (tests/layer_specs/)" not in missing
    assert "elu: no verify case (tests/layer_catalogue.py TRAINING)" in missing
    assert len(missing) == 1 + 1 + (len(REGISTRY) - 1) + 1


def _occurrences() -> list[tuple[str, Op, list[Shape]]]:
    """Every layer of the golden specs, with its input shapes."""
    out = []
    for spec in golden_specs():
        for net in _nets(spec):
            for node in net.layers:
                inputs = [net.node(i).shape or () for i in node.inputs]
                out.append((f"{spec.stem}:{net.name}.{node.name}", node.op, inputs))
    return out


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_canonical_parameters_match_the_parameter_count(kind: str) -> None:
    """A kind's canonical tensors hold exactly its trainable and non-trainable parameters
    (PyTorch's frozen second recurrent bias aside), at every place the specs use it."""
    cases = [(where, op, ins) for where, op, ins in _occurrences() if op.op == kind]
    assert cases, f"{kind}: used by no golden spec"
    for where, op, inputs in cases:
        params = op.canonical_params(inputs)
        names = [p.name for p in params]
        assert len(set(names)) == len(names), (where, names)
        trainable = sum(p.size for p in params if p.counted and p.trainable)
        frozen = sum(p.size for p in params if p.counted and not p.trainable)
        assert (trainable, frozen) == op.parameters(inputs), where
        for p in params:
            assert all(d > 0 for d in p.shape) and math.prod(p.shape) == p.size, (where, p)
            if p.init in ("uniform", "normal"):
                assert p.bound > 0, (where, p)


def test_a_kind_with_parameters_must_list_them() -> None:
    """The canonical initialiser never skips a kind silently."""

    class Scale(Op):
        op: Literal["scale_for_test"] = "scale_for_test"

        def parameters(self, inputs: list[Shape]) -> tuple[int, int]:
            return inputs[0][-1], 0

    with pytest.raises(NotImplementedError, match="`scale_for_test` has parameters"):
        Scale().canonical_params([(4,)])
