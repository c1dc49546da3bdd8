"""The `specc` command: exit codes, output of check/summary/ir, help, and usage errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from specc.cli import main

ROOT = Path(__file__).resolve().parents[1]
LENET = str(ROOT / "specs/lenet5.net")
BROKEN = str(ROOT / "tests/errors/dense_on_image.net")
WARNS = str(ROOT / "tests/errors/unused_binding.net")


def test_check_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", LENET]) == 0
    out, err = capsys.readouterr()
    assert "ok: LeNet5 (61,706 parameters)" in out and err == ""


def test_check_all_shipped_specs(capsys: pytest.CaptureFixture[str]) -> None:
    specs = sorted(str(p) for p in (ROOT / "specs").glob("*.net"))
    assert main(["check", *specs]) == 0
    assert capsys.readouterr().out.count(": ok: ") == len(specs)


def test_check_error_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", BROKEN]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "error[E0501]" in err and "help: add `flatten` before `dense`" in err
    assert err.rstrip().endswith("1 error")
    assert "\x1b[" not in err  # no color when not a terminal


def test_check_warning_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", WARNS]) == 0
    out, err = capsys.readouterr()
    assert "warning[W0401]" in err and "1 warning" in out


def test_check_mixed_files_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", LENET, BROKEN]) == 1
    assert "ok: LeNet5" in capsys.readouterr().out


def test_summary_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", LENET]) == 0
    out = capsys.readouterr().out
    assert "model LeNet5" in out and "conv2d_1" in out and "61,706" in out


def test_summary_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", str(ROOT / "specs/resnet18.net"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    (model,) = data["models"]
    assert model["name"] == "ResNet18"
    assert (model["trainable"], model["non_trainable"]) == (11_689_512, 9_600)
    assert model["layers"][0] == {
        "name": "image", "op": "input", "inputs": [], "shape": [3, 224, 224], "trainable": 0,
        "non_trainable": 0, "macs": 0, "frozen": False, "lr_scale": 1.0,
    }  # fmt: skip
    assert (model["frozen"], model["unfreeze"]) == (0, None)  # nothing frozen


def test_summary_error_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", BROKEN]) == 1
    assert capsys.readouterr().out == ""


def test_ir(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ir", LENET]) == 0
    data = json.loads(capsys.readouterr().out)
    nodes = data["models"][0]["nodes"]
    assert nodes[1]["name"] == "conv2d_1" and nodes[1]["op"]["op"] == "conv2d"
    assert nodes[1]["op"]["kernel"] == [5, 5]
    assert data["training"]["kind"] == "supervised"


def test_ir_error_exits_1() -> None:
    assert main(["ir", BROKEN]) == 1


@pytest.mark.parametrize("verb", ["check", "summary", "ir", "compile", "run", "weights"])
def test_help_for_each_verb(verb: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([verb, "--help"])
    assert info.value.code == 0
    assert f"usage: specc {verb}" in capsys.readouterr().out


def test_weights_convert_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["weights", "convert", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "usage: specc weights convert" in out and "--model NAME" in out and "--from" in out


def test_weights_without_action_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["weights"]) == 2
    assert "convert" in capsys.readouterr().err


def test_top_level_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    assert "check" in capsys.readouterr().out


def test_no_verb_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2


def test_unknown_flag_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["check", "--bogus", LENET])
    assert info.value.code == 2


@pytest.mark.parametrize("verb", ["check", "summary", "ir"])
def test_missing_file_exits_2_with_one_line(verb: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([verb, "no/such/file.net"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "specc: error: no such file: no/such/file.net\n"


def test_folder_and_binary_file_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(tmp_path)]) == 2
    binary = tmp_path / "b.net"
    binary.write_bytes(b"\xff\xfe\x00model")
    assert main(["check", str(binary)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and "Traceback" not in err


def test_whole_process_no_traceback() -> None:
    """One real process: exit codes and stderr as a user sees them."""
    proc = subprocess.run(
        [sys.executable, "-m", "specc.cli", "check", "missing.net", BROKEN],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip() == "specc: error: no such file: missing.net"
    proc = subprocess.run(
        [sys.executable, "-m", "specc.cli", "check", BROKEN],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
