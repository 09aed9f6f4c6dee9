"""What the compiled PyTorch kernels (framework ``torch-compile``) share: telling torch's own
failures apart from ours, so that a kernel torch.compile cannot take becomes an
``unsupported`` row naming torch's error instead of a failed row (an error raised in
spikebench's code still fails the row)."""

from __future__ import annotations

import os

import torch

from ..registry import Unsupported


def raised_in_torch(exc: BaseException) -> bool:
    """Whether the innermost frame of `exc` is PyTorch's own code."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename).startswith(
        os.path.dirname(os.path.abspath(torch.__file__)) + os.sep
    )


def call_or_unsupported(what: str, fn, *args, **kwargs):
    """``fn(*args, **kwargs)``; an exception raised inside torch becomes ``Unsupported``
    saying that torch's compiler cannot take `what`, with torch's error."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:
        if not raised_in_torch(exc):
            raise
        raise Unsupported(
            f"torch {torch.__version__}'s compiler cannot take {what}: "
            f"{type(exc).__name__} inside torch: {exc}"
        ) from exc


def compile_step(fn, **options):
    """``torch.compile(fn, dynamic=False, **options)`` as every compiled kernel here takes it
    (static shapes: automatic dynamic shapes on a second size generated C++ that did not
    compile).

    Dynamo keeps its graphs per code object, and one code object serves many graphs here:
    every ``functools.partial`` goes through the same wrapper of dynamo's, so each design,
    size, dtype and step kind is a recompile of it; past dynamo's limit (8) it silently runs
    the function eagerly, and a ``torch-compile`` row would time eager code. So the limit is
    raised to 64 and hitting it is an error (``fail_on_recompile_limit_hit``), never a silent
    fallback. Both are process-wide dynamo settings, set here at the first compile (not at
    import: importing ``torch._dynamo`` costs about 1.5 s, which every eager row would pay)."""
    cfg = torch._dynamo.config
    cfg.recompile_limit = max(cfg.recompile_limit, 64)
    cfg.fail_on_recompile_limit_hit = True
    return torch.compile(fn, dynamic=False, **options)
