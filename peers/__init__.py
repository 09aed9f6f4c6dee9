"""Peers: the SNN libraries people already use, as rows beside ours (docs/guide/peers.md).

Each library is its own ``framework`` value, registered through the same extension API a
plugin uses (this package is the ``peers`` entry point of the group ``spikebench.plugins`` in
spikebench's own ``pyproject.toml``): ``hardware.frameworks.register`` for the framework (the
devices its backend reaches, the array library it runs on), ``Family.add_kernels`` for the
modules that register its timed functions (imported only when its rows run, so a library that
is not installed makes its rows ``unavailable``, naming the package), and, for the PSU family,
``families.psu.models.add`` for what each row computes and how it relates to ours (exact,
mapped, relative). Every peer row runs on the same inputs as our rows of the same case and is
checked against a float64 reference; the library is timed in its own form (its module, its
loop), with the device sync inside the timed call like ours.

- ``spikingjelly`` (spikingjelly 2.0.0, PyTorch): psu ``lif`` (exact), ``psn`` and
  ``masked_psn`` (relative);
- ``snntorch`` (snntorch 1.0.0, PyTorch): psu ``lif`` (mapped);
- ``norse`` (norse 1.1.0, PyTorch): psu ``lif`` (exact);
- ``spyx`` (spyx 1.0.0, JAX): psu ``lif``, ``psu_lif``, ``parallel_reset_lif`` (relative);
- ``jaxsnn`` (jaxsnn 0.3.0, JAX): event_lif ``serial`` (exact) and its Yin-Yang training
  ``eventprop`` (a train row; its own network).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import version as _version

from spikebench.families import FAMILIES
from spikebench.families.psu import models as _models
from spikebench.hardware import frameworks as _frameworks

from . import _reference as ref


@dataclass(frozen=True)
class Peer:
    """A peer library: its distribution, the built-in framework it runs on (``like``), the
    device kinds its backend reaches, and family -> the modules registering its kernels."""

    dist: str
    like: str
    reaches: tuple[str, ...]
    kernels: dict[str, tuple[str, ...]]


PEERS: dict[str, Peer] = {
    "spikingjelly": Peer("spikingjelly", "torch", ("cpu", "gpu"), {"psu": ("_spikingjelly",)}),
    "snntorch": Peer("snntorch", "torch", ("cpu", "gpu"), {"psu": ("_snntorch",)}),
    "norse": Peer("norse", "torch", ("cpu", "gpu"), {"psu": ("_norse",)}),
    "spyx": Peer("spyx", "jax", ("cpu", "gpu", "tpu"), {"psu": ("_spyx",)}),
    "jaxsnn": Peer("jaxsnn", "jax", ("cpu", "gpu"), {"event_lif": ("_jaxsnn", "_jaxsnn_yinyang")}),
}

# MaskedPSN's order k (the band of the T x T matrix), ParallelResetLIF's iterations K (its
# default): the relatives' settings
MASKED_PSN_K = 4
FPT_ITERATIONS = 3


def _adapter(name: str, peer: Peer):
    """The framework adapter of `peer`: its base framework's, with the library's version."""
    base = type(_frameworks.adapter(peer.like))

    def version(self) -> str:
        return _version(peer.dist)

    def runtime(self) -> dict:
        facts = base.runtime(self) if hasattr(base, "runtime") else {}
        return {**facts, peer.like: base.version(self)}

    return type(
        f"{name.capitalize()}Fw", (base,), {"name": name, "version": version, "runtime": runtime}
    )()


def _lif_consts(p):
    return 1.0 / p.tau, 1.0 - 1.0 / p.tau, p.theta


def _register_models() -> None:
    add = _models.add
    add(
        "lif",
        "spikingjelly",
        _models.Model(
            "exact",
            "lif",
            "neuron.LIFNode(tau, decay_input=True, v_reset=None, detach_reset=True, "
            "step_mode='m'), its torch backend: H = V + (X - V) / tau, soft reset; its Heaviside "
            "counts H = theta as a spike (>=), ours does not (>)",
        ),
    )
    add(
        "lif",
        "norse",
        _models.Model(
            "exact",
            "lif",
            "LIFBoxCell(LIFBoxParameters(tau_mem_inv=1/tau, v_th=theta, v_leak=0, "
            "reset_method=reset_subtract, method='heaviside'), dt=1), one call a step",
        ),
    )
    add(
        "lif",
        "snntorch",
        _models.Model(
            "mapped",
            "lif",
            "Leaky(beta=1-1/tau, threshold=theta, reset_mechanism='subtract', reset_delay=False) "
            "fed X/tau, one call a step; it differs from LIF where the post-reset membrane still "
            "exceeds theta: it subtracts that step's reset again before the next comparison",
            reference=lambda x, inputs, p: ref.snntorch_leaky(x, *_lif_consts(p)),
        ),
    )
    add(
        "lif",
        "spyx",
        _models.Model(
            "relative",
            "lif",
            "nn.LIF(beta=1-1/tau, threshold=theta) fed X/tau under nn.run: it reads the spike "
            "from the membrane before the step's input (one step late) and subtracts theta after "
            "the leak (LIF: theta before it)",
            reference=lambda x, inputs, p: ref.spyx_lif(x, *_lif_consts(p)),
        ),
    )
    add(
        "parallel_reset_lif",
        "spyx",
        _models.Model(
            "relative",
            "lif",
            f"experimental.ParallelResetLIF(beta=1-1/tau, threshold=theta).parallel(X/tau, "
            f"K={FPT_ITERATIONS}): {FPT_ITERATIONS} fixed-point iterations towards spyx's LIF",
            reference=lambda x, inputs, p: ref.spyx_fpt(x, *_lif_consts(p), FPT_ITERATIONS),
        ),
    )
    add(
        "psu_lif",
        "spyx",
        _models.Model(
            "relative",
            "psu",
            "nn.PSU_LIF(beta=1-1/tau, threshold=theta).parallel(X/tau): LIF without the reset, "
            "an associative scan",
            reference=lambda x, inputs, p: ref.spyx_psu_lif(x, *_lif_consts(p)),
            carries=False,
        ),
    )
    add(
        "psn",
        "spikingjelly",
        _models.Model(
            "relative",
            "ipsu",
            "neuron.PSN(T) with the case's learned T x T matrix W and bias b - theta: "
            "S = H(W X + b - theta), no reset term",
            reference=lambda x, inputs, p: ref.psn(x, inputs["mat"], inputs["mat_b"] - p.theta),
            carries=False,
            learned=True,
        ),
    )
    add(
        "masked_psn",
        "spikingjelly",
        _models.Model(
            "relative",
            "ipsu",
            f"neuron.MaskedPSN(k={MASKED_PSN_K}, T, lambda_init=1, step_mode='m'): PSN with W "
            f"masked to a band of {MASKED_PSN_K} steps",
            reference=lambda x, inputs, p: ref.psn(
                x, inputs["mat"], inputs["mat_b"] - p.theta, MASKED_PSN_K
            ),
            carries=False,
            learned=True,
        ),
    )


# -- sweeps: the peers' cases, the same sizes and inputs as our rows they stand beside ------
_LIF_PEERS = ["spikingjelly", "snntorch", "norse", "spyx"]
_RELATIVES = {"spikingjelly": ["psn", "masked_psn"], "spyx": ["psu_lif", "parallel_reset_lif"]}


def _psu_spec(impls, fws, steps, widths, dtypes=("float32",)):
    return {
        "impls": list(impls),
        "frameworks": list(fws),
        "dtypes": list(dtypes),
        "modes": ["forward"],
        "datasets": ["gaussian"],
        "sizes": {"T": list(steps), "n_neurons": list(widths), "batch": [8]},
        "seed": 0,
        "timeout_s": 300,
    }


def _jaxsnn_spec(n_events, fws=("jax", "jaxsnn")):
    # jaxsnn's solver: tau_mem = 2 tau_syn (10 ms); our serial simulator on the same layer
    return {
        "impls": ["serial"],
        "frameworks": list(fws),
        "dtypes": ["float64"],
        "datasets": ["poisson"],
        "sizes": {
            "n_events": list(n_events),
            "n_neurons": [128],
            "n_inputs": [700],
            "batch": [2],
            "tau_mem_ms": [10],
        },
        "seed": 0,
        "timeout_s": 600,
    }


def _jaxsnn_train_spec(epochs: int, target_pct: int):
    # jaxsnn's Yin-Yang example (its network: 100 hidden neurons, batch 64) on our split
    return {
        "impls": ["eventprop"],
        "frameworks": ["jaxsnn"],
        "dtypes": ["float32"],
        "modes": ["train"],
        "datasets": ["yinyang"],
        "sizes": {
            "n_neurons": [100],
            "batch": [64],
            "epochs": [epochs],
            "target_pct": [target_pct],
        },
        "seed": 0,
        "timeout_s": 900,
    }


# quick (the default sweep, ~2.5 s a row here; it must stay within 10 minutes on 2 cores):
# the neuron level at T = 256 (256 neurons, batch 8, float32: a case our rows share) for the
# four LIF peers and one relative of each parallel library (PSN, PSU_LIF), jaxsnn and our
# serial simulator at 1,000 input events, jaxsnn's Yin-Yang training to 85 % in 3 epochs
# (~35 s); full: every peer at every T of the family's sweep, both widths and dtypes, jaxsnn
# up to 10,000 events and to 95 % in 60 epochs (our full training target)
SWEEPS = {
    "quick": {
        "psu": [
            _psu_spec(["lif"], _LIF_PEERS, [256], [256]),
            _psu_spec(["psn"], ["spikingjelly"], [256], [256]),
            _psu_spec(["psu_lif"], ["spyx"], [256], [256]),
        ],
        "event_lif": [_jaxsnn_spec([1_000]), _jaxsnn_train_spec(3, 85)],
    },
    "full": {
        "psu": [
            _psu_spec(
                ["lif"],
                _LIF_PEERS,
                [4, 8, 16, 32, 64, 128, 256, 512],
                [256],
                ("float32", "float64"),
            ),
            _psu_spec(["lif"], _LIF_PEERS, [64], [2048], ("float32", "float64")),
            *[
                _psu_spec(
                    impls, [fw], [4, 8, 16, 32, 64, 128, 256, 512], [256], ("float32", "float64")
                )
                for fw, impls in _RELATIVES.items()
            ],
        ],
        "event_lif": [_jaxsnn_spec([100, 1_000, 10_000]), _jaxsnn_train_spec(60, 95)],
    },
}


@dataclass(frozen=True)
class Relation:
    """How a peer's row relates to ours: ``relation`` (exact, mapped, relative), our impl
    ``ours`` whose time the report divides by, and the mapping / difference in one sentence."""

    relation: str
    ours: str
    description: str


# rows of families without a model registry of their own
_EVENT_LIF = {
    ("serial", "jaxsnn"): Relation(
        "exact",
        "serial",
        "event.modules.LIF with its analytic root solver (ttfs_solver) behind Linear, "
        "tau_mem = 2 tau_syn; parameters and units one to one",
    ),
    ("eventprop", "jaxsnn"): Relation(
        "relative",
        "parallel",
        "its Yin-Yang EventProp example (5 -> 100 LIF -> 3 LIF, first-spike MSE loss, its "
        "optimizer) on our split, times in its unit (x 6 us / 5 ms): a network of its own, "
        "the same task and target",
    ),
}


def relation(family: str, impl: str, framework: str) -> Relation | None:
    """What a peer row computes relative to ours (None: not a peer row)."""
    if family == "psu":
        m = _models.MODELS.get((impl, framework))
        return None if m is None else Relation(m.relation, m.ours, m.description)
    if family == "event_lif":
        return _EVENT_LIF.get((impl, framework))
    return None


def _register() -> None:
    for name, peer in PEERS.items():
        _frameworks.register(
            name, _adapter(name, peer), reaches=peer.reaches, like=peer.like, peer=True
        )
        for family, modules in peer.kernels.items():
            FAMILIES[family].add_kernels(name, tuple(f"{__name__}.{m}" for m in modules))
    _register_models()
    for profile, by_family in SWEEPS.items():
        for family, specs in by_family.items():
            FAMILIES[family].add_sweeps(profile, specs)


_register()
