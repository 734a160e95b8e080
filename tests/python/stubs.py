"""Generates the cutover.v1 Python stubs at run time from proto/ with
grpc_tools.protoc into a temporary directory (nothing generated is
committed) and imports them."""

import atexit
import importlib
import importlib.resources
import pathlib
import shutil
import sys
import tempfile
import types

PROTO_ROOT = pathlib.Path(__file__).resolve().parents[2] / "proto"
MODULES = ("account", "agent", "lifecycle", "replication_job", "source_server")


def _well_known_include():
    """grpc_tools' bundled google/protobuf/*.proto."""
    return str(importlib.resources.files("grpc_tools") / "_proto")


def load():
    """Returns a namespace with `<module>` (messages) and `<module>_grpc`
    (stubs) for every file of proto/cutover/v1."""
    try:
        from grpc_tools import protoc
    except ImportError as err:  # pragma: no cover - reported by the Rust test
        raise SystemExit(f"grpc_tools is not importable ({err}): run scripts/test") from err

    out = tempfile.mkdtemp(prefix="cutover-py-stubs-")
    atexit.register(shutil.rmtree, out, ignore_errors=True)
    protos = sorted(str(p.relative_to(PROTO_ROOT)) for p in PROTO_ROOT.glob("cutover/v1/*.proto"))
    assert protos, f"no protos under {PROTO_ROOT}"
    status = protoc.main(
        [
            "grpc_tools.protoc",
            f"-I{PROTO_ROOT}",
            f"-I{_well_known_include()}",
            f"--python_out={out}",
            f"--grpc_python_out={out}",
            *protos,
        ]
    )
    if status != 0:
        raise SystemExit(f"grpc_tools.protoc failed with status {status}")
    sys.path.insert(0, out)
    ns = types.SimpleNamespace()
    for name in MODULES:
        setattr(ns, name, importlib.import_module(f"cutover.v1.{name}_pb2"))
        setattr(ns, f"{name}_grpc", importlib.import_module(f"cutover.v1.{name}_pb2_grpc"))
    return ns
