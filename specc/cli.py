"""The `specc` command: verbs parse arguments, call the library, print, and exit
0 (ok), 1 (errors in the spec or a failed run) or 2 (usage or I/O errors).

torch and tensorflow are imported only by the verbs that run a model."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from specc.compiler import Result, SpecFileError, compile_source, read_spec
from specc.diagnostics import render_all

EXIT_OK, EXIT_SPEC, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad flags, missing files: exit 2 with a one-line message."""


def _color(stream: object) -> bool:
    return bool(getattr(stream, "isatty", lambda: False)()) and "NO_COLOR" not in os.environ


def load(path: str) -> Result:
    try:
        text = read_spec(path)
    except SpecFileError as err:
        raise UsageError(str(err)) from None
    except FileNotFoundError:
        raise UsageError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise UsageError(f"{path} is a folder; give a .net file") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text") from None
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror}") from None
    return compile_source(text, path)


#: the diagnostics printed for one file; the rest are counted (the first ones often cause them)
MAX_SHOWN = 50


def checked(path: str, *, quiet_warnings: bool = False) -> Result:
    """Compile a spec and print its diagnostics to stderr (the first MAX_SHOWN)."""
    result = load(path)
    shown = [d for d in result.diagnostics if d.is_error or not quiet_warnings]
    if shown:
        text = render_all(shown[:MAX_SHOWN], result.source, color=_color(sys.stderr))
        print(text, file=sys.stderr)
        if len(shown) > MAX_SHOWN:
            rest = len(shown) - MAX_SHOWN
            print(
                f"\n... and {rest:,} more diagnostic"
                + ("s" if rest > 1 else "")
                + " (fix the first ones: they often cause the rest)",
                file=sys.stderr,
            )
        print(file=sys.stderr)
    return result


def _error_count(result: Result) -> str:
    errors = sum(d.is_error for d in result.diagnostics)
    warnings = len(result.diagnostics) - errors
    parts = []
    if errors:
        parts.append(f"{errors} error" + ("s" if errors != 1 else ""))
    if warnings:
        parts.append(f"{warnings} warning" + ("s" if warnings != 1 else ""))
    return ", ".join(parts)


def cmd_check(args: argparse.Namespace) -> int:
    status = EXIT_OK
    for path in args.files:
        result = checked(path)
        if result.ok:
            models = ", ".join(
                f"{m.name} ({m.trainable + m.non_trainable:,} parameters)"
                for m in result.spec.models  # type: ignore[union-attr]
            )
            extra = f"; {_error_count(result)}" if result.diagnostics else ""
            print(f"{path}: ok: {models}{extra}")
        else:
            print(f"{path}: {_error_count(result)}", file=sys.stderr)
            status = EXIT_SPEC
    return status


def cmd_summary(args: argparse.Namespace) -> int:
    from specc.tools.summary import summary_json, summary_table, transfer_in

    result = checked(args.file, quiet_warnings=args.json)
    if not result.ok:
        return EXIT_SPEC
    assert result.spec is not None
    if args.json:
        print(json.dumps(summary_json(result.spec), indent=2))
    else:
        spec = result.spec
        print("\n\n".join(summary_table(m, transfer_in(spec, m)) for m in spec.models))
    return EXIT_OK


def cmd_ir(args: argparse.Namespace) -> int:
    result = checked(args.file, quiet_warnings=True)
    if not result.ok:
        return EXIT_SPEC
    assert result.spec is not None
    print(result.spec.model_dump_json(indent=2))
    return EXIT_OK


def cmd_compile(args: argparse.Namespace) -> int:
    from specc.backends import BackendError, get_backend
    from specc.files import write_tree

    result = checked(args.file, quiet_warnings=True)
    if not result.ok:
        return EXIT_SPEC
    assert result.spec is not None
    try:
        backend = get_backend(args.backend)
        files = backend.emit(result.spec, result.source.text)
    except BackendError as err:
        print(
            render_all([err.diagnostic], result.source, color=_color(sys.stderr)), file=sys.stderr
        )
        return EXIT_SPEC
    if args.out is None:
        sys.stdout.write(files["model.py"])
        return EXIT_OK
    if args.data:
        if result.spec.training is None:
            raise UsageError(f"{args.file} has no `train` or `gan` section, so no data set")
        from specc.tools.datasets import save_npz
        from specc.tools.run import prepare_data

        arrays = prepare_data(result.spec)
        if isinstance(arrays, int):
            return arrays
        write_tree(args.out, files)
        save_npz(arrays, f"{args.out}/data.npz")
        files = {**files, "data.npz": ""}
    else:
        write_tree(args.out, files)
    print(f"wrote {', '.join(sorted(files))} to {args.out}")
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from specc.tools.run import run_spec

    result = checked(args.file, quiet_warnings=True)
    if not result.ok:
        return EXIT_SPEC
    return run_spec(result, args)


def cmd_verify(args: argparse.Namespace) -> int:
    from specc.tools.verify import run_verify

    if args.json and len(args.files) > 1:
        raise UsageError("--json writes one spec's comparison: give one FILE with it")
    for flag in ("torch_dir", "keras_dir"):
        given = getattr(args, flag)
        if given and len(given) != len(args.files):
            raise UsageError(
                f"--{flag.replace('_', '-')} given {len(given)} times for {len(args.files)} "
                "FILEs: give one folder per FILE, in the same order"
            )
    results = [checked(path, quiet_warnings=True) for path in args.files]
    if not all(result.ok for result in results):
        return EXIT_SPEC
    return run_verify(results, args)


def cmd_weights(args: argparse.Namespace) -> int:
    if args.action is None:
        print(args.weights_help(), file=sys.stderr)
        return EXIT_USAGE
    result = checked(args.file, quiet_warnings=True)
    if not result.ok:
        return EXIT_SPEC
    if args.action == "extract":
        from specc.tools.weights_extract import run_extract

        return run_extract(result, args)
    from specc.tools.weights import run_convert

    return run_convert(result, args)


def cmd_sample(args: argparse.Namespace) -> int:
    """A text run (one with vocab.json): character generation; otherwise a GAN's samples."""
    from pathlib import Path

    if (Path(args.run_dir) / "vocab.json").is_file():
        from specc.tools.sample_text import sample_text

        return sample_text(args)
    given = [
        flag
        for flag, value in (
            ("--temperature", args.temperature),
            ("--prime", args.prime),
            ("--seed", args.seed),
        )
        if value is not None
    ]
    if given:
        raise UsageError(
            f"{', '.join(given)}: only for text runs (a run folder with vocab.json); "
            f"{args.run_dir} has none"
        )
    from specc.tools.run import sample

    args.n = 64 if args.n is None else args.n
    args.out = "samples.png" if args.out is None else args.out
    args.device = "auto" if args.device is None else args.device
    return sample(args)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="specc",
        description="Compile .net model specs to checked, equivalent PyTorch and Keras code.",
    )
    root.add_argument("--version", action="version", version="specc 0.1.0")
    verbs = root.add_subparsers(dest="verb", metavar="COMMAND")

    p = verbs.add_parser("check", help="parse and validate specs; print diagnostics")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=cmd_check)

    p = verbs.add_parser("summary", help="per layer: output shape, parameters, MACs")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_summary)

    p = verbs.add_parser("ir", help="print the validated IR as JSON")
    p.add_argument("file", metavar="FILE")
    p.set_defaults(func=cmd_ir)

    p = verbs.add_parser("compile", help="emit standalone PyTorch or Keras code")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--backend", default="torch", help="torch (default) or keras")
    p.add_argument(
        "-o",
        "--out",
        metavar="DIR",
        help="write model.py and train.py to DIR (default: print model.py)",
    )
    p.add_argument(
        "--data",
        action="store_true",
        help="with -o: also prepare the spec's data set as DIR/data.npz",
    )
    p.set_defaults(func=cmd_compile)

    p = verbs.add_parser("run", help="compile, train, evaluate and keep the results")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--backend", default="torch", help="torch (default) or keras")
    p.add_argument("--epochs", type=int, help="override the spec's epochs")
    p.add_argument("--batch", type=int, help="override the spec's batch size")
    p.add_argument("--seed", type=int, help="override the spec's seed")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    p.add_argument("--out", default="runs", metavar="DIR", help="parent folder of run folders")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue a run from its last checkpoint")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--log-batches",
        action="store_true",
        help="also log every batch's loss to batches.jsonl (slower)",
    )
    p.set_defaults(func=cmd_run)

    p = verbs.add_parser("verify", help="prove the PyTorch and Keras code compute the same")
    p.add_argument("files", metavar="FILE", nargs="+", help="specs (one process per framework)")
    p.add_argument("--steps", type=int, default=10, help="optimizer steps to compare (10)")
    p.add_argument("--seed", type=int, default=0, help="seed of weights and inputs (0)")
    p.add_argument("--batch", type=int, default=4, help="batch size (4)")
    p.add_argument("--json", metavar="PATH", help="also write the comparison as JSON")
    p.add_argument(
        "--torch-dir",
        metavar="DIR",
        action="append",
        help="verify this emitted PyTorch code instead of compiling (once per FILE, in order)",
    )
    p.add_argument(
        "--keras-dir",
        metavar="DIR",
        action="append",
        help="verify this emitted Keras code instead of compiling (once per FILE, in order)",
    )
    p.set_defaults(func=cmd_verify)

    p = verbs.add_parser("weights", help="convert weights between PyTorch, Keras and canonical")
    p.set_defaults(func=cmd_weights, action=None, weights_help=p.format_help)
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    q = actions.add_parser(
        "convert",
        help="a model's weights from one format to another",
        description="Convert one model's weights between a PyTorch state dict (.pt, .pth; "
        "also a run's checkpoint.pt), Keras weights (.weights.h5, .keras; also a run's "
        "checkpoint.npz) and the canonical safetensors layout (.safetensors). The format "
        "comes from the file name unless --from/--to give it. Across frameworks the weights "
        "pass through the canonical layout, so a model trained with one can be served with "
        "the other.",
    )
    q.add_argument("file", metavar="SPEC", help="the .net spec the weights belong to")
    q.add_argument("input", metavar="IN", help="the weights to read")
    q.add_argument("output", metavar="OUT", help="the file to write (atomically)")
    q.add_argument(
        "--model", metavar="NAME", help="which model of the spec (needed when it has several)"
    )
    q.add_argument(
        "--from",
        dest="source_format",
        choices=["torch", "keras", "canonical"],
        help="format of IN (default: from its name)",
    )
    q.add_argument(
        "--to",
        dest="target_format",
        choices=["torch", "keras", "canonical"],
        help="format of OUT (default: from its name)",
    )
    q.set_defaults(func=cmd_weights)
    q = actions.add_parser(
        "extract",
        help="one block instance's canonical weights (an autoencoder's encoder)",
        description="Write the canonical weights of the layers inside one block instance "
        "(`encoder(32) as encoder`: --scope encoder), names unchanged, so that a model "
        "holding only that instance loads them. Reads and writes canonical .safetensors (a "
        "run's weights.safetensors).",
    )
    q.add_argument("file", metavar="SPEC", help="the .net spec the weights belong to")
    q.add_argument("input", metavar="IN", help="canonical weights (.safetensors) to read")
    q.add_argument("output", metavar="OUT", help="the .safetensors file to write (atomically)")
    q.add_argument("--scope", required=True, help="the block instance, e.g. `encoder`")
    q.add_argument(
        "--model", metavar="NAME", help="which model of the spec (needed when it has several)"
    )
    q.set_defaults(func=cmd_weights)

    p = verbs.add_parser(
        "sample",
        help="generate text from a trained text run, or draw a GAN's or a VAE's samples (an "
        "autoencoder's reconstructions) as a PNG grid",
        description="A text run (its folder has vocab.json): print the prime and -n generated "
        "characters, drawn one at a time from the trained model on the run's own backend. "
        "A GAN run: draw -n samples from its trained generator into a PNG grid. A "
        "variational autoencoder's run: -n samples from the prior, decoded. An image "
        "autoencoder's run: -n test images in rows alternating with their reconstructions.",
    )
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument(
        "-n", type=int, help="how many characters (text, default 200) or samples (images, 64)"
    )
    p.add_argument(
        "-o",
        "--out",
        metavar="FILE",
        help="text: also write the text to FILE; images: the PNG (default samples.png)",
    )
    p.add_argument(
        "--temperature",
        type=float,
        help="text: scores are divided by it before the softmax (default 1.0; 0: greedy)",
    )
    p.add_argument("--prime", help="text: the text to continue (default: a newline)")
    p.add_argument("--seed", type=int, help="text: seed of the draws (default 0)")
    p.add_argument(
        "--device",
        choices=["auto", "cpu", "cuda", "mps"],
        help="GAN: where to run (default auto); text runs on the CPU",
    )
    p.set_defaults(func=cmd_sample)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not getattr(args, "func", None):
        parser().print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args))
    except UsageError as err:
        print(f"specc: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("specc: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
