"""The spike event queues family's sweeps: profile name -> sweep specs (the dict form
``cases.expand`` reads). Edit the data, not the code."""

from __future__ import annotations

# the queue network's delay training (timing classes; training_delays): FIFO queues of 1 and 4
# (1, 2, 4 and 8 in `full`) slots a synapse
DELAYS_QUICK = {"capacity": [1, 4], "batch": [32], "epochs": [3], "target_pct": [85]}

DELAYS_FULL = {**DELAYS_QUICK, "capacity": [1, 2, 4, 8], "epochs": [12], "target_pct": [95]}

DESIGNS = ["heap", "fifo", "ring", "sorted", "lossy"]

# the published per-design capacities (heap 7, the others 4; the ring has none)
PUBLISHED_CAPACITY = [
    {"where": {"impl": "heap", "capacity": 4}, "drop": True},
    *(
        {"where": {"impl": d, "capacity": 7}, "drop": True}
        for d in ("fifo", "ring", "sorted", "lossy")
    ),
]

# the traffic benchmarks run ours (PyTorch eager and with its step compiled) and the anchor
# (the EventQueues authors' adseq) side by side
TRAFFIC_FWS = ("jax", "torch", "torch-compile", "adseq")


def tallies(values, impls=DESIGNS) -> dict:
    """The ``tally`` knob of the traffic loop for every design: "queue" (per-queue counters,
    ours by default) and "total" (the EventQueues authors' batched form, one total; adseq's
    default). A row in "total" form is checked through an untimed run in "queue" form."""
    return {d: {"tally": list(values)} for d in impls}


def _queues(
    sizes,
    *,
    frameworks=("jax", "torch"),
    impls=DESIGNS,
    dtypes=("float32",),
    modes=("forward",),
    dataset="bernoulli",
    limits=(),
    knobs=None,
    timeout_s=300,
):
    """One queue sweep (docs/families/queues.md)."""
    spec = {
        "impls": list(impls),
        "frameworks": list(frameworks),
        "dtypes": list(dtypes),
        "modes": list(modes),
        "datasets": [dataset],
        "sizes": sizes,
        "seed": 0,
        "timeout_s": timeout_s,
        "limits": list(limits),
    }
    if knobs:
        spec["knobs"] = knobs
    return spec


def _drop_sweep(intervals, ratios, designs, n_queues, frameworks=("jax",)):
    """(f) drop rate vs load: delay d = ratio * interval, T = 40 intervals."""
    return [
        _queues(
            {
                "n_queues": [n_queues],
                "capacity": [c],
                "delay": [max(1, round(r * lam))],
                "interval": [lam],
                "T": [40 * lam],
            },
            impls=[d],
            frameworks=frameworks,
        )
        for lam in intervals
        for r in ratios
        for d, c in designs
    ]


def _onnx_queues(T_single, T_many, n_many, T_net, chunk=20, timeout_s=600):
    """The queue sweeps of the exported graphs: one queue, many queues, the network forward."""
    knobs = {d: {"chunk": [chunk]} for d in DESIGNS}
    common = {"frameworks": ["onnx"], "knobs": knobs, "timeout_s": timeout_s}
    return [
        _queues(
            {
                "n_queues": [1],
                "capacity": [4, 7],
                "delay": [80],
                "interval": [400],
                "T": [T_single],
            },
            limits=PUBLISHED_CAPACITY,
            **common,
        ),
        _queues(
            {
                "n_queues": list(n_many),
                "capacity": [4, 7],
                "delay": [80],
                "interval": [400],
                "T": [T_many],
            },
            limits=PUBLISHED_CAPACITY,
            **common,
        ),
        _queues(
            {"n_neurons": [100], "capacity": [4, 7], "T": [T_net]},
            dataset="recurrent",
            limits=PUBLISHED_CAPACITY,
            **common,
        ),
    ]


SWEEPS: dict[str, list[dict]] = {
    "quick": [
        # training to accuracy: the timing classes through the network with learned
        # delays at three queue capacities, JAX (PyTorch, capacity 8 and 12 epochs in
        # `full`): accuracy against drop rate
        _queues(
            DELAYS_QUICK,
            impls=["fifo"],
            frameworks=["jax"],
            modes=["train"],
            dataset="timing",
            timeout_s=600,
        ),
        # (a) one queue, Poisson: interval 400 steps, delay 80, 1200 steps (~3 events;
        # PyTorch's eager loop costs ~0.3-1 ms per step here; compiled, in `full`)
        _queues(
            {"n_queues": [1], "capacity": [4, 7], "delay": [80], "interval": [400], "T": [1200]},
            frameworks=("jax", "torch", "adseq"),
            limits=PUBLISHED_CAPACITY,
            knobs=tallies(["total"]),
        ),
        # (b) 10,000 independent queues, the same traffic, 400 steps (compiled PyTorch:
        # FIFO, ring and lossy; the heap and the sorted array, 8-16 s of compile each
        # here, in `full`)
        # Both loop forms (``tally``): JAX with the per-queue counters and with the
        # authors' one total, adseq and eager PyTorch in the authors' form (adseq with the
        # counters too in `full` and `gpu-smoke`: ~30 s of the ten minutes here), compiled
        # PyTorch with the counters (its step would compile twice, once for the check's run)
        _queues(
            {
                "n_queues": [10_000],
                "capacity": [4, 7],
                "delay": [80],
                "interval": [400],
                "T": [400],
            },
            frameworks=TRAFFIC_FWS,
            knobs=tallies(["queue", "total"]),
            limits=[
                *PUBLISHED_CAPACITY,
                {"where": {"framework": "torch", "tally": "queue"}, "drop": True},
                {"where": {"framework": "adseq", "tally": "queue"}, "drop": True},
                {"where": {"framework": "torch-compile", "tally": "total"}, "drop": True},
                *(
                    {"where": {"framework": "torch-compile", "impl": d}, "drop": True}
                    for d in ("heap", "sorted")
                ),
            ],
        ),
        # (c) size sweep (JAX; with (b)'s 10,000; 100k and more in `full`)
        _queues(
            {"n_queues": [1_000], "capacity": [4, 7], "delay": [80], "interval": [400], "T": [400]},
            frameworks=["jax"],
            limits=PUBLISHED_CAPACITY,
        ),
        # (d) capacity sweep at 10,000 queues, interval 10, delay 5
        _queues(
            {"n_queues": [10_000], "capacity": [1, 8], "delay": [5], "interval": [10], "T": [100]},
            frameworks=["jax", "adseq"],
            impls=["heap", "fifo", "sorted", "lossy"],
            knobs=tallies(["total"]),
        ),
        # (e) the recurrent network: 100 neurons (10,000 delayed synapses), 240 steps
        # (6 ms: the input volley and its delayed arrivals), simulate / reverse-mode /
        # forward-mode gradient, float32; PyTorch's forward mode (torch.func.jvp through
        # an eager loop, 2-4x its reverse mode) is in `full`
        _queues(
            {"n_neurons": [100], "capacity": [4, 7], "T": [240]},
            dataset="recurrent",
            modes=("forward", "grad"),
            knobs={d: {"ad": ["reverse", "forward"]} for d in DESIGNS},
            limits=[
                *PUBLISHED_CAPACITY,
                {"where": {"mode": "forward", "ad": "forward"}, "drop": True},
                {"where": {"framework": "torch", "ad": "forward"}, "drop": True},
                # forward mode: the FIFO here, every design in `full`
                *(
                    {"where": {"ad": "forward", "impl": d}, "drop": True}
                    for d in ("heap", "ring", "sorted", "lossy")
                ),
            ],
        ),
        # (f) drop rate vs load (JAX: the rate is exact, the same in every framework)
        *_drop_sweep([10], [0.5, 1.0, 2.0], [("fifo", 3), ("fifo", 1), ("lossy", 3)], 1_000),
        # (adseq counts no drops: its drop rate is ours by construction; it is timed in
        # (a), (b) and (d), and in (f) in `full`)
        # (the exported chunk graphs of the queues are in `full`: each design's export is
        # most of its row, ~5-27 s here; tests/kernels/test_onnx_graphs.py checks them)
    ],
    "full": [
        # training to accuracy: the delay task at four capacities, both frameworks
        _queues(DELAYS_FULL, impls=["fifo"], modes=["train"], dataset="timing", timeout_s=3600),
        # the paper's sizes (docs/families/queues.md), float32
        _queues(
            {"n_queues": [1], "capacity": [4, 7], "delay": [80], "interval": [400], "T": [40_000]},
            frameworks=TRAFFIC_FWS,
            limits=PUBLISHED_CAPACITY,
            timeout_s=3600,
        ),
        _queues(
            {
                "n_queues": [1_000, 10_000, 100_000, 900_000],
                "capacity": [4, 7],
                "delay": [80],
                "interval": [400],
                "T": [4_000],
            },
            frameworks=TRAFFIC_FWS,
            limits=PUBLISHED_CAPACITY,
            timeout_s=3600,
        ),
        _queues(
            {
                "n_queues": [10_000],
                "capacity": list(range(1, 40, 2)),
                "delay": [5],
                "interval": [10],
                "T": [4_000],
            },
            impls=["heap", "fifo", "sorted", "lossy"],
            timeout_s=3600,
        ),
        _queues(
            {"n_neurons": [100], "capacity": [4, 7], "T": [10_000]},
            dataset="recurrent",
            modes=("forward", "grad"),
            knobs={d: {"ad": ["reverse", "forward"]} for d in DESIGNS},
            limits=[
                *PUBLISHED_CAPACITY,
                {"where": {"mode": "forward", "ad": "forward"}, "drop": True},
            ],
            timeout_s=3600,
        ),
        # (e) with the network's step compiled: forward, reverse mode (the step and its
        # backward compiled) and forward mode (the step's jvp compiled)
        _queues(
            {"n_neurons": [100], "capacity": [4, 7], "T": [10_000]},
            dataset="recurrent",
            frameworks=("torch-compile",),
            modes=("forward", "grad"),
            knobs={d: {"ad": ["reverse", "forward"]} for d in DESIGNS},
            limits=[
                *PUBLISHED_CAPACITY,
                {"where": {"mode": "forward", "ad": "forward"}, "drop": True},
            ],
            timeout_s=3600,
        ),
        *_drop_sweep(
            [10, 20, 50, 200],
            [0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0],
            [("fifo", 3), ("fifo", 1), ("heap", 3), ("sorted", 3), ("lossy", 3)],
            10_000,
            frameworks=("jax", "torch"),
        ),
        *_onnx_queues(
            T_single=40_000, T_many=4_000, n_many=[10_000, 900_000], T_net=10_000, timeout_s=3600
        ),
    ],
    "gpu-smoke": [
        # (b) at 10,000 and the paper's 900,000 queues, ours and the authors' (adseq)
        _queues(
            {
                "n_queues": [10_000, 900_000],
                "capacity": [4, 7],
                "delay": [80],
                "interval": [400],
                "T": [1_000],
            },
            frameworks=TRAFFIC_FWS,
            knobs=tallies(["queue", "total"]),
            limits=[
                *PUBLISHED_CAPACITY,
                {"where": {"framework": "torch-compile", "tally": "total"}, "drop": True},
            ],
            timeout_s=120,
        ),
    ],
}
