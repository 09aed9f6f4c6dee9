"""The ONNX path (docs/guide/devices.md): export step functions to ONNX, check that the graphs suit
an LPU, and run them on ONNX Runtime or on a GroqChip.

The kernels (``kernels/*/_onnx.py``) hand over a ``torch.nn.Module`` whose forward is one
step function over a chunk of unrolled steps, with its carry as inputs and outputs; the host
loops over chunks and passes the carry back in. This module owns what is common:

- ``export``: ``torch.onnx.export`` with the TorchScript exporter at opset 16 (the opset the
  GroqWare compiler takes); static shapes, constants folded. The dynamo exporter was tried
  and left aside: on these unrolled step functions it took minutes per graph (156 s for an
  8-step heap chunk against 16 s) and produced an invalid model (an input passed straight
  through to an output of the same name).
- ``lint``: the LPU's constraints, checked on every exported graph: no 64-bit tensor that is
  computed at run time (int64 is allowed only for constant shape and axis operands, which the
  compiler folds), no integer ``Div`` or ``Mod``, no graph input or output wider than 32 bits.
- ``OrtRunner``: an ONNX Runtime session (CUDA provider where onnxruntime-gpu sees a GPU, else
  the CPU provider; intra-op threads pinned like every other framework's).
- ``GroqRunner``: ONNX -> ``groq-compiler`` -> Alan assembly (.aa) -> ``aa-latest`` -> .iop
  program -> ``groq.runner.tsp.create_tsp_runner``. Needs the GroqWare SDK and a GroqCard
  (``groq.lpu_missing`` says what is absent).

Both runners are called alike: ``runner(**{input name: numpy array})`` returns a dict of
output name -> numpy array (on the host: the copy back is part of every timed call, which is
the device sync of this path).
"""

from __future__ import annotations

import collections
import os
import shutil
import subprocess
import tempfile
import warnings
import weakref
from pathlib import Path

import numpy as np

OPSET = 16
WIDE = ("INT64", "UINT64", "DOUBLE")


def provider() -> str:
    """The ONNX Runtime execution provider this machine uses: CUDA where available."""
    import onnxruntime as ort

    have = ort.get_available_providers()
    return "CUDAExecutionProvider" if "CUDAExecutionProvider" in have else "CPUExecutionProvider"


def smoke_test(prov: str | None = None) -> None:
    """A tiny graph (y = x + x) must run and be right, or the runtime is not usable."""
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])
    graph = helper.make_graph([helper.make_node("Add", ["x", "x"], ["y"])], "smoke", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    run = OrtRunner(model.SerializeToString(), prov or provider(), threads=1)
    out = run(x=np.arange(4, dtype=np.float32))["y"]
    if not np.array_equal(out, 2 * np.arange(4, dtype=np.float32)):
        raise RuntimeError(f"x + x gave {out}")


def export(
    module,
    args: tuple,
    input_names: list[str],
    output_names: list[str],
    path: str | os.PathLike,
    *,
    lpu: bool = True,
    symbolics: dict | None = None,
) -> Path:
    """Export `module(*args)` to `path` (opset 16, static shapes) and check it with the ONNX
    checker and (``lpu=True``) the LPU lint: ValueError naming the problems when the graph
    does not suit. `symbolics` ({"aten::op": fn}) are registered for this export only, for
    operators ONNX lacks (a user's own exports in the process are left alone)."""
    import onnx
    import torch

    path = Path(path)
    module.eval()
    for name, fn in (symbolics or {}).items():
        torch.onnx.register_custom_op_symbolic(name, fn, OPSET)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with torch.no_grad():
                torch.onnx.export(
                    module,
                    args,
                    str(path),
                    dynamo=False,
                    opset_version=OPSET,
                    input_names=input_names,
                    output_names=output_names,
                    do_constant_folding=True,
                )
    finally:
        for name in symbolics or {}:
            torch.onnx.unregister_custom_op_symbolic(name, OPSET)
    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    problems = lint(model) if lpu else []
    if problems:
        raise ValueError(f"{path.name} does not suit the LPU path: " + "; ".join(problems))
    return path


def _types(model) -> dict:
    import onnx

    inferred = onnx.shape_inference.infer_shapes(model)
    g = inferred.graph
    out = {v.name: v.type.tensor_type.elem_type for v in [*g.value_info, *g.input, *g.output]}
    out.update({t.name: t.data_type for t in g.initializer})
    return out


def lint(model) -> list[str]:
    """The LPU constraints the graph breaks (empty: none), each with its count. See the
    module docstring."""
    from onnx import TensorProto

    types = _types(model)
    g = model.graph
    wide = {getattr(TensorProto, w) for w in WIDE}
    integer = {
        TensorProto.INT8,
        TensorProto.INT16,
        TensorProto.INT32,
        TensorProto.INT64,
        TensorProto.UINT8,
        TensorProto.UINT16,
        TensorProto.UINT32,
        TensorProto.UINT64,
    }
    problems = [
        f"graph {what} {v.name!r} is {TensorProto.DataType.Name(types[v.name])}"
        for what, vs in (("input", g.input), ("output", g.output))
        for v in vs
        if types.get(v.name) in wide
    ]
    const = {t.name for t in g.initializer}
    for node in g.node:
        # shapes are static (no dynamic axes), so Shape and Size yield constants
        if node.op_type in ("Constant", "Shape", "Size") or (
            node.input and all(i in const or i == "" for i in node.input)
        ):
            const.update(node.output)
            continue
        if node.op_type in ("Div", "Mod") and types.get(node.input[0]) in integer:
            problems.append(f"integer {node.op_type}")
        for o in node.output:
            if types.get(o) in wide:
                problems.append(f"{node.op_type} computes {TensorProto.DataType.Name(types[o])}")
    counts = collections.Counter(problems)
    return [f"{p} (x{n})" if n > 1 else p for p, n in counts.items()]


def op_counts(path) -> dict:
    import onnx

    return dict(collections.Counter(n.op_type for n in onnx.load(str(path)).graph.node))


class OrtRunner:
    """An ONNX Runtime session: ``runner(**feeds) -> {output name: array}``."""

    def __init__(self, model, prov: str | None = None, threads: int | None = None):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        threads = threads or int(os.environ.get("OMP_NUM_THREADS", "0") or 0)
        if threads:
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
        self.provider = prov or provider()
        src = str(model) if isinstance(model, (str, os.PathLike)) else model
        self.session = ort.InferenceSession(src, opts, providers=[self.provider])
        self.outputs = [o.name for o in self.session.get_outputs()]

    def __call__(self, **feeds) -> dict:
        return dict(zip(self.outputs, self.session.run(self.outputs, feeds), strict=True))


class GroqRunner:
    """A GroqChip program built from an ONNX file: ``runner(**feeds) -> {name: array}``.

    Build: ``groq-compiler FILE.onnx -o DIR/output`` writes Alan assembly ``output.aa``;
    ``aa-latest output.aa --output-iop output.iop`` assembles the program;
    ``groq.runner.tsp.create_tsp_runner(iop)`` loads it onto the chip.
    """

    def __init__(self, model_path, build_dir=None):
        from . import groq

        missing = groq.lpu_missing()
        if missing:
            raise RuntimeError(
                "the LPU path needs the GroqWare SDK and a GroqCard: " + "; ".join(missing)
            )
        build = Path(build_dir or tempfile.mkdtemp(prefix="spikebench-groq-"))
        self.iop = build_program(model_path, build)
        from groq.runner import tsp  # groq-runtime (not on PyPI)

        self._run = tsp.create_tsp_runner(str(self.iop))

    def __call__(self, **feeds) -> dict:
        out = self._run(**feeds)
        return {k: np.asarray(v) for k, v in out.items()}


def groq_commands(model_path, build_dir) -> list[list[str]]:
    """The two build commands (compiler, assembler) for `model_path` into `build_dir`."""
    from . import groq

    build = Path(build_dir)
    compiler = groq.groq_tool("groq-compiler") or "groq-compiler"
    assembler = groq.groq_tool("aa-latest") or "aa-latest"
    return [
        [
            compiler,
            str(model_path),
            "--save-stats",
            str(build / "stats.json"),
            "-o",
            str(build / "output"),
        ],
        [assembler, str(build / "output.aa"), "--output-iop", str(build / "output.iop")],
    ]


def build_program(model_path, build_dir) -> Path:
    """Compile and assemble; RuntimeError with the tool's output when a step fails."""
    build = Path(build_dir)
    build.mkdir(parents=True, exist_ok=True)
    for cmd in groq_commands(model_path, build):
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(
                f"{Path(cmd[0]).name} failed ({done.returncode}): "
                f"{(done.stdout + done.stderr)[-2000:]}"
            )
    iop = build / "output.iop"
    if not iop.exists():
        raise RuntimeError(f"the assembler wrote no {iop}")
    return iop


class _Graph:
    """A runner that takes the feeds of every input the step function declared: the exporter
    prunes inputs the forward never reads (e.g. a surrogate's alpha, which only shapes the
    backward pass), and those feeds are dropped here, in one place."""

    def __init__(self, run, model_path):
        import onnx

        self.run = run
        self.inputs = {i.name for i in onnx.load(str(model_path)).graph.input}

    def __call__(self, **feeds) -> dict:
        return self.run(**{k: v for k, v in feeds.items() if k in self.inputs})


def graph_folder(folder=None) -> tuple[Path, bool]:
    """The folder exported graphs go to, and whether it was made here: `folder` (created if
    missing, never removed) or, for None, a fresh temporary one that ``own_graphs`` ties to
    the program using it."""
    if folder is None:
        return Path(tempfile.mkdtemp(prefix="spikebench-onnx-")), True
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    return path, False


def own_graphs(run, folder: Path, made: bool):
    """Set ``run.graphs`` to the graphs' folder; a temporary one (`made`) is removed once `run`
    is garbage or the interpreter exits, so runs leave no graphs behind in the temp dir."""
    run.graphs = str(folder)
    if made:
        weakref.finalize(run, shutil.rmtree, str(folder), ignore_errors=True)
    return run


def make_runner(kind: str, model_path):
    """The runner of device kind `kind` ("onnxrt" or "lpu") for an exported graph."""
    if kind == "onnxrt":
        return _Graph(OrtRunner(model_path), model_path)
    if kind == "lpu":
        return _Graph(GroqRunner(model_path, Path(model_path).with_suffix(".groq")), model_path)
    raise ValueError(f"the ONNX path runs on 'onnxrt' or 'lpu', not {kind!r}")
