"""The shape every family adapter has: ``Family``, an abstract base class.

A family adapter says how the harness builds a case's inputs, its reference, the arguments of
the registered kernel entry it times, and the correctness check; and what its rows mean to the
people who read them (throughput, the terminal summary, the report page, the headline
sentence), which kernel modules register its implementations, its sweeps per profile and its
training task. Kernels stay pure; everything benchmark-specific lives in the family's package
``spikebench.families.<name>``. The suite (``harness``, ``submission``, ``report``, ``cli``)
only ever calls the methods below, so a new family -- built in or a plugin's -- is one
subclass and one ``families.register(...)`` call, with no suite file edited.

Subclasses must define ``name`` and the abstract methods ``make_inputs``, ``ref_kind``,
``reference``, ``prepare`` and ``check`` (Python refuses to instantiate one that does not);
everything else has a default.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..registry import Unsupported
from ..training import Task


@dataclass
class Section:
    """A family's part of the report: its page title, figures and tables (title, DataFrame,
    note). ``overview`` holds panels for the headline figure: functions of one matplotlib
    axis that draw on it."""

    title: str
    figures: list[Path] = field(default_factory=list)
    tables: list[tuple[str, object, str]] = field(default_factory=list)
    overview: list = field(default_factory=list)


class Family(abc.ABC):
    name: str = ""
    title: str = ""  # the report page's title
    # throughput unit -> the size columns whose product is the work of one timed call (None:
    # the work is not a schema column); ``validate`` checks submitted rows against it
    units: dict[str, tuple[str, ...] | None] = {}
    # the public kernel module of each framework this family has (``kernels(framework)``)
    modules: dict[str, str] = {}
    # the knob columns that belong to the host loop of a device path and are not matched when
    # the same case is compared across device kinds
    host_params: tuple[str, ...] = ()
    # a module with ``summary(df)``, ``section(df, out_dir)`` and ``headline(df)``: the
    # defaults of ``summary``, ``report`` and ``headline`` call them (e.g.
    # "spikebench.families.psu.report"); imported only when a report is made
    report_module: str = ""
    # framework -> the modules whose import registers this family's kernels for it
    # (``registry.register`` decorators next to each timed function); ``families.load_kernels``
    # imports them, noting a framework whose library is missing instead of failing
    kernel_modules: dict[str, tuple[str, ...]] = {}
    # profile name -> this family's sweep specs in that profile (the dict form
    # ``cases.expand`` reads: impls, frameworks, dtypes, modes, datasets, sizes, knobs, seed,
    # timeout_s, limits); ``profiles`` joins every family's
    sweeps: dict[str, list[dict]] = {}
    # the family's training task (``spikebench train --task``, the `train` rows), or None
    task: Task | None = None

    # -- inputs and reference (parent process, once per input set) -------------------------
    def takes_events(self, case) -> bool:
        """Whether the case runs on event samples (``--dataset`` moves it to another)."""
        return False

    @abc.abstractmethod
    def make_inputs(self, case) -> dict:
        """The case's inputs, NumPy arrays in a dict (built once per input set, in the
        parent process; every implementation gets the same)."""

    @abc.abstractmethod
    def ref_kind(self, case) -> str:
        """Cases sharing (ref_kind, input_key) share one reference."""

    @abc.abstractmethod
    def reference(self, case, inputs):
        """(reference, ref_impl name): the outputs ``check`` compares with, computed
        independently of the kernels under test."""

    def context(self, case, inputs) -> dict:
        """What goes into the JSON beside the CSV (dataset statistics, tolerances ...)."""
        return {}

    # -- the timed call (worker) -------------------------------------------------------------
    def entry(self, case) -> str:
        """The registered entry (``registry.register(entry=...)``) the case times."""
        return "forward"

    @abc.abstractmethod
    def prepare(self, case, inputs, fw, device):
        """(args, kwargs, static) for the case's entry: the arrays on `device`, and the static
        arguments (compiled in; ``resize`` may grow them)."""

    def train(self, case, inputs, ref, fw, device) -> dict:
        """A `train` case: run the family's training loop over its registered training steps
        and return the row's measurement columns (``worker`` adds status and memory): the
        timing columns over the epochs (``samples_s``: each epoch's wall time, its
        evaluation included), ``compile_s``, the throughput, the check (``correct``,
        ``max_err`` ...) and ``results.TRAIN_COLUMNS``."""
        raise Unsupported(f"family {self.name} has no training task")

    def state_bytes(self, case, args, static) -> int | None:
        """Bytes of the state the algorithm carries from step to step at this case's sizes,
        from the arrays themselves (a queue design's arrays, the event-LIF lanes and their
        spike buffers, the PSU family's T x T matrices and activations); None where the family
        does not say."""
        return None

    def instrumented(self, case) -> dict | None:
        """Static arguments of an untimed *instrumented* run of the same entry on the same
        inputs, when the timed form returns too little to check (an anchor timed in its own
        form, e.g. adseq's loop that carries one total): the worker runs it once after the
        timed calls and calls ``check(case, inputs, instrumented_out, ref, timed=out)``, which
        must also show that the timed output agrees with it. None (the default): the timed
        call's output is checked itself."""
        return None

    def resize(self, case, out, static):
        """Bigger static arguments when the first call's output overflowed them, else None (the
        worker rebuilds once and times the rebuilt call; an entry's own tightest arguments are
        its ``fit``, ``registry.Entry``)."""
        return None

    def to_numpy(self, out, fw):
        """The output as NumPy: dicts, lists, tuples and named tuples kept, None kept."""
        if isinstance(out, dict):
            return {k: self.to_numpy(v, fw) for k, v in out.items()}
        if isinstance(out, (tuple, list)):
            vals = [self.to_numpy(x, fw) for x in out]
            return type(out)(*vals) if hasattr(out, "_fields") else type(out)(vals)
        if out is None:
            return None
        return fw.to_numpy(out)

    def add_kernels(self, framework: str, modules: tuple[str, ...], public: str | None = None):
        """Name the modules whose import registers `framework`'s implementations of this
        family (a plugin adding rows to a family it does not own, e.g. a peer library's):
        ``families.load_kernels`` imports them only when a case of `framework` runs, and notes
        the missing library as the reason its rows are ``unavailable`` instead of failing.
        `public` is the module ``kernels(framework)`` returns (default: the first)."""
        if not modules or not all(isinstance(m, str) and m for m in modules):
            raise ValueError(f"family {self.name}: modules must be module names, got {modules!r}")
        self.kernel_modules = {**self.kernel_modules, framework: tuple(modules)}
        self.modules = {**self.modules, framework: public or modules[0]}

    def add_sweeps(self, profile: str, specs: list[dict]) -> None:
        """Append sweep specs to this family's `profile` (a plugin's rows of a family it does
        not own, e.g. a peer library's cases beside ours); ValueError for a spec that is not
        a dict naming its impls and frameworks."""
        for spec in specs:
            if not isinstance(spec, dict) or not spec.get("impls") or not spec.get("frameworks"):
                raise ValueError(
                    f"family {self.name}: a sweep spec names impls and frameworks, got {spec!r}"
                )
        self.sweeps = {**self.sweeps, profile: [*self.sweeps.get(profile, []), *specs]}

    def kernels(self, framework: str):
        """The family's public kernel module for `framework` (Unsupported without one)."""
        import importlib

        if framework not in self.modules:
            raise Unsupported(
                f"no {framework} kernels in family {self.name} (it has "
                f"{', '.join(sorted(self.modules)) or 'none'})"
            )
        return importlib.import_module(self.modules[framework])

    # -- the row -------------------------------------------------------------------------------
    @abc.abstractmethod
    def check(self, case, inputs, out, ref, timed=None) -> dict:
        """correct, max_err, mismatch_frac, n_checked (+ note, spike_rate, lif_agreement,
        drop_rate where known). `timed`: the timed call's output where `out` came from an
        untimed instrumented run (``instrumented``), which must agree with it."""

    def work(self, case) -> tuple[float, str]:
        """(work of one timed call, throughput unit): throughput = work / median time. The
        default is one call per call."""
        return 1.0, "calls/s"

    def throughput(self, case, seconds: float) -> tuple[float, str]:
        amount, unit = self.work(case)
        return amount / seconds, unit

    def params(self, case) -> dict:
        """The param_* columns of the case's row."""
        return {}

    # -- reading the rows ----------------------------------------------------------------------
    def summary(self, df) -> list[tuple[str, object]]:
        """Tables (title, DataFrame) for the terminal summary of a sweep, from usable rows of
        this family only."""
        if not self.report_module:
            return []
        return self._report_module().summary(df)

    def report(self, df, out_dir: Path) -> Section:
        """This family's report page from its usable rows (figures written into out_dir)."""
        if not self.report_module:
            return Section(self.title or self.name)
        return self._report_module().section(df, out_dir)

    def headline(self, df) -> list[str]:
        """The report index's sentences for this family (its question answered with its number,
        place and spread), from every row of the report."""
        if not self.report_module:
            return []
        fn = getattr(self._report_module(), "headline", None)
        return fn(df) if fn is not None else []

    def headline_rows(self, df):
        """The rows this family's headline sentences read (its report module's
        ``headline_rows``; None where it has none): the report's "distance from the limit"
        table places them against the machine's peaks."""
        if not self.report_module:
            return None
        fn = getattr(self._report_module(), "headline_rows", None)
        return fn(df) if fn is not None else None

    def answers(self, df) -> list:
        """This family's rows of the answer table (``report.answers.Answer``s) for the rows of
        one place (its report module's ``answers``; none where it has none)."""
        if not self.report_module:
            return []
        fn = getattr(self._report_module(), "answers", None)
        return fn(df) if fn is not None else []

    def memory_headline(self, df) -> list[str]:
        """The report index's memory sentence(s) for this family (its report module's
        ``memory_headline``), from every row of the report."""
        if not self.report_module:
            return []
        fn = getattr(self._report_module(), "memory_headline", None)
        return fn(df) if fn is not None else []

    def _report_module(self):
        import importlib

        return importlib.import_module(self.report_module)


def rel_err(a, b) -> float:
    """max |a - b| / max |b| (0 for empty arrays)."""
    b = np.asarray(b, np.float64)
    if not b.size:
        return 0.0
    scale = float(np.max(np.abs(b)))
    return float(np.max(np.abs(np.asarray(a, np.float64) - b))) / max(scale, 1e-300)
