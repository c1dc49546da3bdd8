"""`specc weights extract SPEC IN OUT --scope NAME`: the canonical weights of one block
instance (an autoencoder's `encoder`), names unchanged, so that a model holding only that
instance (`encoder(32) as encoder`) loads them with `load_canonical`.

It reads and writes canonical safetensors only (a run's weights.safetensors; `specc weights
convert` turns them into a framework's format) and imports no framework."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from specc.compiler import Result
from specc.diagnostics import suggest
from specc.files import write_atomic
from specc.ir.net import Net
from specc.tools.weights import EXIT_OK, EXIT_USAGE, ConvertError, pick_model


def scope_tensors(net: Net, scope: str) -> list[str]:
    """The canonical names of the weights of the layers inside block instance `scope`."""
    names = []
    for node in net.layers:
        if node.name.startswith(f"{scope}."):
            inputs = [net.node(i).shape or () for i in node.inputs]
            names += [f"{node.ident}.{p.name}" for p in node.op.canonical_params(inputs)]
    return names


def _scopes(net: Net) -> list[str]:
    return sorted({n.name.split(".")[0] for n in net.layers if "." in n.name})


def run_extract(result: Result, args: argparse.Namespace) -> int:
    try:
        return _extract(result, args)
    except ConvertError as err:
        print(f"specc: error: {err}", file=sys.stderr)
        return EXIT_USAGE


def _extract(result: Result, args: argparse.Namespace) -> int:
    assert result.spec is not None
    net = result.spec.model(pick_model(result, args.model))
    scopes = _scopes(net)
    if args.scope not in scopes:
        close = suggest(args.scope, scopes)
        hint = f"did you mean `{close}`? " if close else ""
        listed = ", ".join(f"`{s}`" for s in scopes) or "none (it uses no block)"
        raise ConvertError(
            f"`{net.name}` has no block instance `{args.scope}`; {hint}its block instances "
            f"are {listed}"
        )
    for path, flag in ((args.input, "IN"), (args.output, "OUT")):
        if not path.lower().endswith(".safetensors"):
            raise ConvertError(
                f"{flag} {path}: extract reads and writes canonical .safetensors (a run's "
                "weights.safetensors); `specc weights convert` turns them into other formats"
            )
    source = Path(args.input)
    if not source.is_file():
        raise ConvertError(f"no such file: {args.input}")
    from safetensors import SafetensorError
    from safetensors.numpy import load_file, save

    try:
        tensors = load_file(str(source))
    except (SafetensorError, OSError) as err:
        raise ConvertError(f"{args.input} is not a safetensors file ({err})") from None
    wanted = scope_tensors(net, args.scope)
    missing = [name for name in wanted if name not in tensors]
    if missing:
        raise ConvertError(
            f"{args.input} lacks {len(missing)} of the {len(wanted)} weights of "
            f"`{args.scope}` in `{net.name}` (first: {missing[0]}); is it this spec's run?"
        )
    write_atomic(args.output, save({name: tensors[name] for name in wanted}))
    print(f"wrote {len(wanted)} tensors of `{args.scope}` to {args.output}")
    return EXIT_OK
