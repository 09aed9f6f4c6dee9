"""Sweeps: a Session writes one results CSV (+ JSON context) and measures cases into it.

The CLI's `run` and `pytest --benchmark` both drive a Session, so both produce the same rows.
Inputs and the reference are built once per input set in the parent and shared by every
implementation (same inputs for all); each case is then measured in its own worker.
"""

from __future__ import annotations

import datetime as dt
import os
import pickle
import signal
import tempfile
import threading
import uuid
from pathlib import Path

from .. import __version__, families, plugins, registry, results, rows, versions
from ..hardware import devices, frameworks, machine, peaks
from . import worker

# a sweep's pickled inputs live in <system temp>/spikebench-sweep-<pid>-<random>/; a sweep that
# ends normally (or on SIGTERM / SIGINT / SIGHUP) removes its own, and every new sweep removes
# those whose process is gone (SIGKILL, a power cut), see ``sweep_stale_temp``
TEMP_PREFIX = "spikebench-sweep-"


def sweep_stale_temp(root=None) -> list[Path]:
    """Remove this user's sweep temp folders whose owner process is gone: no process of that
    pid, or one started after the folder was made (the pid was reused). Returns what it
    removed."""
    import shutil

    import psutil

    removed = []
    for d in Path(root or tempfile.gettempdir()).glob(f"{TEMP_PREFIX}*-*"):
        try:
            pid = int(d.name[len(TEMP_PREFIX) :].split("-")[0])
            st = d.lstat()
        except (ValueError, OSError):
            continue
        if not d.is_dir() or d.is_symlink() or st.st_uid != os.getuid() or pid == os.getpid():
            continue
        try:
            alive = psutil.Process(pid).create_time() <= st.st_mtime + 1.0
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            alive = False
        if not alive:
            shutil.rmtree(d, ignore_errors=True)
            removed.append(d)
    return removed


def results_root() -> Path:
    """Where results go by default: ``results/`` in the folder the user runs from (never the
    installed package, nor the checkout it was installed from)."""
    return Path.cwd() / "results"


def reports_root() -> Path:
    """Where reports go by default: ``reports/`` in the folder the user runs from."""
    return Path.cwd() / "reports"


# the peaks measured in this process, by (device kind, threads): a process that runs several
# sweeps (the test suite) measures each once
_PEAKS: dict = {}


PEAKS_ENV = "SPIKEBENCH_PEAKS"


def peaks_wanted() -> bool:
    """Whether a run measures the machine's peaks: yes unless ``SPIKEBENCH_PEAKS=0`` (the
    correctness tests set it for their many small runs)."""
    return os.environ.get(PEAKS_ENV, "1") != "0"


class Session:
    def __init__(
        self,
        out_root: Path | None = None,
        *,
        profile: str = "quick",
        isolate: bool = True,
        timing: dict | None = None,
        threads: int | None = None,
        shard: dict | None = None,
    ):
        self.profile = profile
        self.shard = shard
        self.isolate = isolate
        self.timing = timing
        self.threads = threads
        self.run_id = uuid.uuid4().hex[:12]
        self.started = dt.datetime.now(dt.timezone.utc)
        self.host = machine.host_facts()
        self.cpu = machine.cpu_facts()  # the load average is the start's
        self.suite = machine.suite_facts()
        root = Path(out_root) if out_root else results_root()
        stamp = self.started.strftime("%Y%m%dT%H%M%SZ")
        self.csv_path = root / self.host["machine_id"] / f"{stamp}-{self.suite['git_commit']}.csv"
        self.json_path = self.csv_path.with_suffix(".json")
        sweep_stale_temp()
        self._tmp = tempfile.TemporaryDirectory(prefix=f"{TEMP_PREFIX}{os.getpid()}-")
        self._fw_cache: dict = {}
        self._data: dict = {}
        self._family_ctx: dict = {}
        self.peaks: dict = {}
        self.writer = results.ResultWriter(self.csv_path)
        self.rows: list[results.Row] = []
        self._write_context()

    # -- context ---------------------------------------------------------------------------
    def _fw_facts(self, name: str) -> dict:
        """Version and runtime facts of a framework, probed once per session."""
        if name not in self._fw_cache:
            families.load_kernels((name,))
            if name in registry.UNAVAILABLE:
                self._fw_cache[name] = {"framework_version": None}
            else:
                fw = frameworks.adapter(name)
                facts = {"framework_version": fw.version()}
                if hasattr(fw, "runtime"):
                    facts.update(fw.runtime())
                self._fw_cache[name] = facts
        return self._fw_cache[name]

    def _write_context(self):
        """The JSON beside the CSV; rewritten (atomically) as input sets are prepared, so that
        it always holds the datasets' statistics of the rows written so far."""
        ctx = {
            "schema_version": results.SCHEMA_VERSION,
            "run_id": self.run_id,
            "started_utc": self.started.isoformat(),
            "suite_version": __version__,
            "profile": self.profile,
            **self.suite,
            **self.host,
            "devices": [d.__dict__ for d in devices.discover()],
            "frameworks": {f: self._fw_facts(f) for f in rows.FRAMEWORKS},
            "unavailable_frameworks": dict(registry.UNAVAILABLE),
            "plugins": dict(plugins.LOADED),
            "isolation": "worker process per case" if self.isolate else "in-process",
            "timing": {**worker.TIMING, **(self.timing or {}), "own_warmup_s": worker.OWN_WARMUP_S},
            # the CSV's threads: --threads, else every core
            "threads": self.threads or self.host["cpu_cores"],
            "threads_from": "--threads" if self.threads else "every core",
            "cpu": self.cpu,
            "inputs": self._family_ctx,
            "peaks": self.peaks,
            **({"shard": self.shard} if self.shard else {}),
        }
        results.write_context(self.json_path, ctx, replace=True)

    def _base_row(self, case) -> dict:
        fam = families.get(case.family)
        fw = self._fw_facts(case.framework)
        dev = devices.get(case.device) if case.device in devices.KINDS else None
        return {
            "run_id": self.run_id,
            "timestamp_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "suite_version": __version__,
            "git_commit": self.suite["git_commit"],
            "git_dirty": self.suite["git_dirty"],
            **self.host,
            "device_kind": case.device,
            "device_name": dev.name if dev else None,
            "device_count": dev.count if dev else None,
            "framework": case.framework,
            "framework_version": fw.get("framework_version"),
            "cuda_version": fw.get("cuda_version") or None,
            "xla_version": fw.get("xla_version"),
            "threads": self._threads(case) or self.host["cpu_cores"],
            "family": case.family,
            "impl": case.impl,
            "mode": case.mode,
            "dtype": case.dtype,
            "dataset": case.dataset,
            **fam.params(case),
            "case_id": case.case_id,
        }

    def _threads(self, case) -> int | None:
        """CPU threads of a case: its ``threads`` knob (e.g. the one-thread anchor rows), else
        the session's --threads (None: every core)."""
        return case.knob.get("threads") or self.threads

    def measure_peaks(self, kinds) -> dict:
        """The machine's copy bandwidth and matmul rate (``hardware.peaks``) on each of
        `kinds` it knows, at the run's thread count, into the JSON's ``peaks`` (a few seconds;
        in a worker process of its own when the session isolates cases)."""
        threads = self.threads or self.host["cpu_cores"]
        kinds = [k for k in dict.fromkeys(kinds) if k in peaks.KINDS]
        todo = [k for k in kinds if (k, threads) not in _PEAKS]
        if todo:
            if self.isolate:
                found = worker.call_isolated(peaks.measure_all, (todo, threads), 300, threads)
                if "error" in found:  # the worker itself failed: every kind says why
                    found = {k: {"error": found["error"]} for k in todo}
            else:
                found = peaks.measure_all(todo)
            _PEAKS.update({(k, threads): v for k, v in found.items()})
        self.peaks.update({k: _PEAKS[(k, threads)] for k in kinds})
        self._write_context()
        return self.peaks

    # -- measuring ---------------------------------------------------------------------------
    def _prepare(self, case):
        """(path of pickled inputs + reference, ref_impl, inputs, reference, inputs_version),
        built once per input set."""
        fam = families.get(case.family)
        key = (fam.ref_kind(case), case.input_key)
        if key not in self._data:
            inputs = fam.make_inputs(case)
            ref, ref_impl = fam.reference(case, inputs)
            path = Path(self._tmp.name) / f"data-{len(self._data)}.pkl"
            with open(path, "wb") as f:
                pickle.dump((inputs, ref), f, protocol=pickle.HIGHEST_PROTOCOL)
            context = fam.context(case, inputs)
            version = versions.inputs_version(inputs, ref, context)
            self._data[key] = (path, ref_impl, inputs, ref, version)
            self._family_ctx[repr(case.input_key)] = context
            self._write_context()
        return self._data[key]

    def availability(self, case) -> tuple[str, str] | None:
        """(status, reason) when the case cannot be measured here, else None."""
        families.load_kernels((case.framework,))
        if case.framework in registry.UNAVAILABLE:
            return "unavailable", registry.UNAVAILABLE[case.framework]
        dev = devices.get(case.device)
        if not dev.available:
            return "unavailable", f"no {case.device} here: {dev.reason}"
        if case.framework not in dev.frameworks and case.framework != "numpy":
            return "unavailable", f"{case.framework} cannot reach the {case.device} here"
        impl = registry.REGISTRY.get((case.family, case.impl, case.framework))
        if impl is None:
            return "unsupported", f"no {case.impl} implementation in {case.framework}"
        try:
            entry = impl.entry(families.entry_name(case, impl))
        except registry.Unsupported as exc:
            return "unsupported", str(exc)
        if not entry.supports(case.mode):
            return "unsupported", (
                f"{impl.key} {entry.name} supports modes {entry.modes}, not {case.mode!r}"
            )
        return None

    def run(self, case) -> results.Row:
        """Measure one case and append its row (failures become rows; never raises for them)."""
        row: dict = self._base_row(case)
        why = self.availability(case)
        if why:
            row.update(status=why[0], error=why[1])
        else:
            impl = registry.REGISTRY[(case.family, case.impl, case.framework)]
            row["kernel_version"] = versions.kernel_version(impl, families.entry_name(case, impl))
            try:
                path, ref_impl, inputs, ref, row["inputs_version"] = self._prepare(case)
            except Exception as exc:  # noqa: BLE001 - bad inputs are a failed row too
                row.update(status="failed", error=f"preparing inputs: {exc}")
            else:
                row["ref_impl"] = ref_impl
                if self.isolate:
                    row.update(
                        worker.measure_isolated(
                            case, str(path), case.timeout_s, self.timing, self._threads(case)
                        )
                    )
                else:
                    row.update(worker.measure_safely(case, inputs, ref, self.timing))
        typed = results.new_row(row)  # the one place a row is built (schema-checked)
        self.writer.append(typed)
        self.rows.append(typed)
        return typed

    def close(self):
        self.writer.close()
        self._tmp.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def run_sweep(
    cases,
    *,
    out_root=None,
    profile="quick",
    isolate=True,
    progress=True,
    timing=None,
    threads=None,
    shard=None,
    measure_peaks=True,
) -> Session:
    """Measure `cases` in order into a new results file; Ctrl-C keeps the rows so far. The
    machine's peaks on the cases' device kinds are measured first (`measure_peaks`)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    session = Session(
        out_root, profile=profile, isolate=isolate, timing=timing, threads=threads, shard=shard
    )
    from rich.markup import escape
    from rich.table import Column

    # the bar first, then the whole case label (sizes and knobs, escaped: `[batch=2,...]` is
    # not markup), folded onto a second line rather than cut
    cols = [
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}", table_column=Column(overflow="fold")),
    ]
    worker.INTERRUPT.clear()
    worker.RECEIVED.clear()
    if measure_peaks and peaks_wanted():
        if progress:
            print("measuring the machine's peaks (copy bandwidth, matmul rate) ...", flush=True)
        session.measure_peaks(c.device for c in cases)
    # isolated sweeps wait on workers in short slices, so a flag is enough (see worker.INTERRUPT);
    # SIGTERM and SIGHUP take the same path, so a killed sweep also ends its worker and removes
    # its temp folder (the forkserver and resource tracker end with this process)
    main = isolate and threading.current_thread() is threading.main_thread()
    previous = {s: signal.signal(s, worker.on_signal) for s in worker.SIGNALS} if main else {}
    try:
        with Progress(*cols, disable=not progress, transient=False) as bar:
            task = bar.add_task("sweep", total=len(cases))
            for case in cases:
                if worker.INTERRUPT.is_set():
                    raise KeyboardInterrupt
                bar.update(task, description=escape(case.label()))
                session.run(case)
                bar.advance(task)
            if worker.INTERRUPT.is_set():
                raise KeyboardInterrupt
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        worker.INTERRUPT.clear()
        session.close()
    return session
