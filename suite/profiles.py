"""Declarative sweep profiles. `quick` is the CPU / CI default (minutes on a laptop); `full` is
the accelerator default (the paper-sized sweep). Edit the data, not the code."""

from __future__ import annotations

from .cases import Case, expand

DECADES = [100, 1_000, 10_000, 100_000, 1_000_000]
CHUNKS = [2**i for i in range(11)]  # 1 .. 1024
QUICK_CHUNKS = [1, 16, 64, 128, 1024]  # every power of 2 in `full`
SHD = 4000  # input events of one SHD utterance (median)
NEURONS = ["lif", "psu", "ipsu", "rpsu"]
# the PSU family's training task (digits, 64 -> hidden -> 10, T = 15; ``training``)
TRAIN_QUICK = {"T": [15], "n_neurons": [128], "batch": [64], "n_layers": [1], "epochs": [8],
               "target_pct": [85]}
TRAIN_FULL = {**TRAIN_QUICK, "epochs": [20], "target_pct": [90]}
# the event-LIF family's training task (Yin-Yang, 5 -> 120 exact LIF -> 3; training_yinyang)
# quick: 60 hidden neurons (0.863 after 3 epochs here, the float64 reference 0.868; 120, the
# published size, cost the row 70 s of a 10-minute profile); full: 120 to 95 %
YY_QUICK = {"n_neurons": [60], "batch": [50], "epochs": [3], "target_pct": [85]}
YY_FULL = {**YY_QUICK, "n_neurons": [120], "epochs": [60], "target_pct": [95]}
# the queue network's delay training (timing classes; training_delays): FIFO queues of 1 and 4
# (1, 2, 4 and 8 in `full`) slots a synapse
DELAYS_QUICK = {"capacity": [1, 4], "batch": [32], "epochs": [3], "target_pct": [85]}
DELAYS_FULL = {**DELAYS_QUICK, "capacity": [1, 2, 4, 8], "epochs": [12], "target_pct": [95]}


def yinyang_training(sizes, timeout_s, impls=("serial", "parallel"),
                     frameworks=("jax", "torch")):
    """The event-LIF train rows on Yin-Yang (README "Training to accuracy"), each against the
    float64 JAX run of the same loop."""
    return {"impls": list(impls), "frameworks": list(frameworks),
            "dtypes": ["float32"], "modes": ["train"], "datasets": ["yinyang"],
            "sizes": sizes, "seed": 0, "timeout_s": timeout_s}
# input events per simulated second of the NEST anchor cases: sparse (Poisson 20 Hz on each of
# 100 inputs), one SHD utterance's rate (4,000 events in 0.95 s) and dense (1 kHz a channel)
RATES_HZ = [2_000, 4_210, 100_000]
STEPS = [4, 8, 16, 32, 64, 128, 256, 512]  # T of the PSU family's time-step sweep (full)
QUICK_STEPS = [4, 64, 256]  # three points of the T curve (every T in `full`)
DESIGNS = ["heap", "fifo", "ring", "sorted", "lossy"]
# the published per-design capacities (heap 7, the others 4; the ring has none)
PUBLISHED_CAPACITY = [{"where": {"impl": "heap", "capacity": 4}, "drop": True},
                      *({"where": {"impl": d, "capacity": 7}, "drop": True}
                        for d in ("fifo", "ring", "sorted", "lossy"))]


# the traffic benchmarks run ours (PyTorch eager and with its step compiled) and the anchor
# (the EventQueues authors' adseq) side by side
TRAFFIC_FWS = ("jax", "torch", "torch-compile", "adseq")


def tallies(values, impls=DESIGNS) -> dict:
    """The ``tally`` knob of the traffic loop for every design: "queue" (per-queue counters,
    ours by default) and "total" (the EventQueues authors' batched form, one total; adseq's
    default). A row in "total" form is checked through an untimed run in "queue" form."""
    return {d: {"tally": list(values)} for d in impls}


def _queues(sizes, *, frameworks=("jax", "torch"), impls=DESIGNS, dtypes=("float32",),
            modes=("forward",), dataset="bernoulli", limits=(), knobs=None, timeout_s=300):
    """One queue sweep (spec/queues.md section 5)."""
    spec = {"impls": list(impls), "frameworks": list(frameworks), "dtypes": list(dtypes),
            "modes": list(modes), "datasets": [dataset], "sizes": sizes, "seed": 0,
            "timeout_s": timeout_s, "limits": list(limits)}
    if knobs:
        spec["knobs"] = knobs
    return spec


def _drop_sweep(intervals, ratios, designs, n_queues, frameworks=("jax",)):
    """(f) drop rate vs load: delay d = ratio * interval, T = 40 intervals."""
    return [_queues({"n_queues": [n_queues], "capacity": [c], "delay": [max(1, round(r * lam))],
                     "interval": [lam], "T": [40 * lam]}, impls=[d], frameworks=frameworks)
            for lam in intervals for r in ratios for d, c in designs]

def _onnx_queues(T_single, T_many, n_many, T_net, chunk=20, timeout_s=600):
    """The queue sweeps of the exported graphs: one queue, many queues, the network forward."""
    knobs = {d: {"chunk": [chunk]} for d in DESIGNS}
    common = {"frameworks": ["onnx"], "knobs": knobs, "timeout_s": timeout_s}
    return [
        _queues({"n_queues": [1], "capacity": [4, 7], "delay": [80], "interval": [400],
                 "T": [T_single]}, limits=PUBLISHED_CAPACITY, **common),
        _queues({"n_queues": list(n_many), "capacity": [4, 7], "delay": [80],
                 "interval": [400], "T": [T_many]}, limits=PUBLISHED_CAPACITY, **common),
        _queues({"n_neurons": [100], "capacity": [4, 7], "T": [T_net]}, dataset="recurrent",
                limits=PUBLISHED_CAPACITY, **common),
    ]


PROFILES: dict[str, dict[str, list[dict]]] = {
    "quick": {
        "event_lif": [
            # training to accuracy (README "Training to accuracy"): Yin-Yang to 85 % test
            # accuracy in 3 epochs, the parallel simulator in JAX (serial, PyTorch and 95 %
            # in `full`: a PyTorch run takes 70-110 s here, over the profile's budget)
            yinyang_training(YY_QUICK, 600, impls=["parallel"], frameworks=["jax"]),
            # time vs events: the serial simulator and its ceiling (the bare linear scan)
            {
                "impls": ["serial", "bare_scan"],
                "frameworks": ["jax", "torch"],
                "dtypes": ["float32", "float64"],
                # Poisson here; SHD-shaped input in the chunk sweeps below and in `full`
                "datasets": ["poisson"],
                "sizes": {"n_events": DECADES[:4], "n_neurons": [128], "n_inputs": [700],
                          "batch": [2]},
                "seed": 0,
                "timeout_s": 600,
                # PyTorch's serial loop runs in Python (see README; ~1 ms per event): 1e3
                # events per sample here, 1e5 and more in `full`
                "limits": [{"where": {"framework": "torch"}, "max": {"n_events": 1_000}}],
            },
            # (compiled PyTorch's serial simulator and bare scan, one compiled while_loop each,
            # are in `full`: the serial graph's cold compile alone took 38-60 s here, the most
            # expensive row of the quick sweep)
            # the anchor across event density: NEST's exact iaf_psc_exp_ps against the serial
            # simulator on the same Poisson input, one thread each (threads knob), one neuron
            # and a 128-neuron layer on 100 inputs over one simulated second. NEST's cost
            # follows simulated time (its grid), ours input events, so the input rate is swept
            # (RATES_HZ: sparse, an SHD utterance's rate, dense and spike-heavy)
            *[{
                "impls": ["serial"],
                "frameworks": ["jax", "nest"],
                "dtypes": ["float64"],
                "datasets": ["poisson"],
                "sizes": {"n_events": [rate], "rate_hz": [rate], "n_neurons": [1, 128],
                          "n_inputs": [100], "batch": [1]},
                "knobs": {"serial": {"threads": [1]}},
                "seed": 0,
                "timeout_s": 600,
            } for rate in RATES_HZ],
            {
                "impls": ["serial"],
                "frameworks": ["nest"],
                "dtypes": ["float64"],
                "datasets": ["poisson"],
                "sizes": {"n_events": DECADES[:3], "n_neurons": [128], "n_inputs": [700],
                          "batch": [2]},
                "seed": 0,
                "timeout_s": 600,
            },
            # speedup over serial vs chunk size (Bullet Trains' Figure 1 on a CPU): one SHD
            # utterance, a single neuron and a 128-neuron layer at batch 8
            *[{
                "impls": ["serial", "parallel"],
                "frameworks": ["jax", "torch"],
                "dtypes": ["float32"],
                "datasets": ["synthetic-shd"],
                "sizes": {"n_events": [SHD], "n_neurons": [n], "n_inputs": [700],
                          "batch": [b]},
                # K = 1, 16, 64, the paper's 128 and 1024 (every power of 2 in `full`)
                "knobs": {"parallel": {"chunk": QUICK_CHUNKS}},
                "seed": 0,
                "timeout_s": 600,
                # PyTorch's step loop runs in Python (seconds per call at small K): K = 16,
                # 128 (the paper's choice), 1024 for one neuron, K = 16, 128 for the layer;
                # JAX's compile time grows with K: K <= 128 for the layer
                "limits": [{"where": {"framework": "torch", "chunk": k}, "drop": True}
                           for k in (1, 64)]
                + ([{"where": {"framework": "torch", "chunk": 1024}, "drop": True},
                    {"where": {"chunk": 1024}, "drop": True}] if n > 1 else []),
            } for n, b in ((1, 1), (128, 8))],
            # a 2-layer 128-wide network at batch 2 on a short utterance (2000 events):
            # forward (serial vs parallel) and a training step (loss + gradients) with the
            # chunk-recomputing backward (remat; without it, and 2 x 128 .. 512, in `full`)
            {
                "impls": ["serial", "parallel"],
                "frameworks": ["jax", "torch"],
                "dtypes": ["float32"],
                "modes": ["forward", "grad"],
                "datasets": ["synthetic-shd"],
                "sizes": {"n_events": [SHD // 2], "n_neurons": [128], "n_inputs": [700],
                          "batch": [2], "n_layers": [2]},
                "knobs": {"parallel": {"chunk": [16, 128], "remat": [True]}},
                "seed": 0,
                "timeout_s": 600,
                "limits": [
                    # the serial event order's training step (K = 1) trains in the train rows
                    {"where": {"impl": "serial", "mode": "grad"}, "drop": True},
                    # JAX's best K on this CPU is 16; PyTorch's is 128 (its step loop runs in
                    # Python)
                    {"where": {"framework": "jax", "chunk": 128}, "drop": True},
                    {"where": {"framework": "torch", "chunk": 16}, "drop": True},
                ],
            },
            # compiled PyTorch (the chunk step through torch.compile) at the paper's K = 128:
            # the layer on one SHD utterance (the 2-layer network, ~35 s to compile cold here,
            # and its training step are in `full` and gpu-smoke)
            {
                "impls": ["parallel"],
                "frameworks": ["torch-compile"],
                "dtypes": ["float32"],
                "datasets": ["synthetic-shd"],
                "sizes": {"n_events": [SHD], "n_neurons": [128], "n_inputs": [700],
                          "batch": [8]},
                "knobs": {"parallel": {"chunk": [128]}},
                "seed": 0,
                "timeout_s": 600,
            },
            # (the exported chunk step on ONNX Runtime, 23-31 s a row here, is in `full`, which
            # the training rows' time pushed out of this profile's 10 minutes;
            # tests/kernels/test_onnx_graphs.py checks the graph)
        ],
        "psu": [
            # neuron level: forward and forward + backward vs T for LIF (the loop) and the PSU
            # family (all steps at once), float32 over the whole T range and vs the layer width
            # at T = 64 (float64 in `full`)
            *[{
                "impls": NEURONS,
                "frameworks": ["jax", "torch"],
                "dtypes": [dt],
                "modes": ["forward", "grad"],
                "datasets": ["gaussian"],
                "sizes": {"T": steps, "n_neurons": widths, "batch": [8]},
                "seed": 0,
                "timeout_s": 300,
            } for dt, steps, widths in (("float32", QUICK_STEPS, [256]),
                                        ("float32", [64], [2048]))],
            # network level: the SHD-shaped 700 -> 256 -> 256 -> 20 network at the paper's
            # T = 15 and at T = 64, inference and one training step (T = 4 .. 256 in `full`)
            {
                "impls": NEURONS,
                "frameworks": ["jax", "torch"],
                "dtypes": ["float32"],
                "modes": ["forward", "grad"],
                "datasets": ["synthetic-shd"],
                "sizes": {"T": [15, 64], "n_inputs": [700], "n_neurons": [256],
                          "batch": [32], "n_layers": [2]},
                "seed": 0,
                "timeout_s": 300,
            },
            # compiled PyTorch (torch.compile) on the network at the paper's T = 15: LIF and
            # PSU, the ratio the family is about (IPSU, RPSU, every T and the training step in
            # `full`: cold, its compile took 6-25 s a row here)
            {
                "impls": ["lif", "psu"],
                "frameworks": ["torch-compile"],
                "dtypes": ["float32"],
                "modes": ["forward"],
                "datasets": ["synthetic-shd"],
                "sizes": {"T": [15], "n_inputs": [700], "n_neurons": [256],
                          "batch": [32], "n_layers": [2]},
                "seed": 0,
                "timeout_s": 300,
            },
            # training to accuracy (README "Training to accuracy"): LIF and PSU on the digits
            # to 85 % test accuracy in 8 epochs, JAX and PyTorch, each against the NumPy
            # float64 run of the same loop (IPSU, RPSU and a 90 % target in `full`)
            {
                "impls": ["lif", "psu"],
                "frameworks": ["jax", "torch"],
                "dtypes": ["float32"],
                "modes": ["train"],
                "datasets": ["digits"],
                "sizes": TRAIN_QUICK,
                "seed": 0,
                "timeout_s": 300,
            },
            # the exported graphs (spec/devices.md) on ONNX Runtime / a GroqChip: forward,
            # float32, the neuron level at T = 64 and the network at the paper's T = 15 (every
            # T in `full`)
            {
                "impls": NEURONS,
                "frameworks": ["onnx"],
                "dtypes": ["float32"],
                "datasets": ["gaussian"],
                "sizes": {"T": [64], "n_neurons": [256], "batch": [8]},
                "seed": 0,
                "timeout_s": 300,
            },
            {
                "impls": NEURONS,
                "frameworks": ["onnx"],
                "dtypes": ["float32"],
                "datasets": ["synthetic-shd"],
                "sizes": {"T": [15], "n_inputs": [700], "n_neurons": [256],
                          "batch": [32], "n_layers": [2]},
                "seed": 0,
                "timeout_s": 300,
            },
        ],
        "queues": [
            # training to accuracy: the timing classes through the network with learned
            # delays at three queue capacities, JAX (PyTorch, capacity 8 and 12 epochs in
            # `full`): accuracy against drop rate
            _queues(DELAYS_QUICK, impls=["fifo"], frameworks=["jax"], modes=["train"],
                    dataset="timing", timeout_s=600),
            # (a) one queue, Poisson: interval 400 steps, delay 80, 1200 steps (~3 events;
            # PyTorch's eager loop costs ~0.3-1 ms per step here; compiled, in `full`)
            _queues({"n_queues": [1], "capacity": [4, 7], "delay": [80], "interval": [400],
                     "T": [1200]}, frameworks=("jax", "torch", "adseq"),
                    limits=PUBLISHED_CAPACITY, knobs=tallies(["total"])),
            # (b) 10,000 independent queues, the same traffic, 400 steps (compiled PyTorch:
            # FIFO, ring and lossy; the heap and the sorted array, 8-16 s of compile each
            # here, in `full`)
            # Both loop forms (``tally``): JAX and adseq with the per-queue counters and with
            # the authors' one total, eager PyTorch in the authors' form, compiled PyTorch
            # with the counters (its step would compile twice, once for the check's run)
            _queues({"n_queues": [10_000], "capacity": [4, 7], "delay": [80],
                     "interval": [400], "T": [400]}, frameworks=TRAFFIC_FWS,
                    knobs=tallies(["queue", "total"]),
                    limits=[*PUBLISHED_CAPACITY,
                            {"where": {"framework": "torch", "tally": "queue"}, "drop": True},
                            {"where": {"framework": "torch-compile", "tally": "total"},
                             "drop": True},
                            *({"where": {"framework": "torch-compile", "impl": d},
                               "drop": True} for d in ("heap", "sorted"))]),
            # (c) size sweep (JAX; with (b)'s 10,000; 100k and more in `full`)
            _queues({"n_queues": [1_000], "capacity": [4, 7], "delay": [80],
                     "interval": [400], "T": [400]}, frameworks=["jax"],
                    limits=PUBLISHED_CAPACITY),
            # (d) capacity sweep at 10,000 queues, interval 10, delay 5
            _queues({"n_queues": [10_000], "capacity": [1, 8], "delay": [5],
                     "interval": [10], "T": [100]}, frameworks=["jax", "adseq"],
                    impls=["heap", "fifo", "sorted", "lossy"], knobs=tallies(["total"])),
            # (e) the recurrent network: 100 neurons (10,000 delayed synapses), 240 steps
            # (6 ms: the input volley and its delayed arrivals), simulate / reverse-mode /
            # forward-mode gradient, float32; PyTorch's forward mode (torch.func.jvp through
            # an eager loop, 2-4x its reverse mode) is in `full`
            _queues({"n_neurons": [100], "capacity": [4, 7], "T": [240]},
                    dataset="recurrent", modes=("forward", "grad"),
                    knobs={d: {"ad": ["reverse", "forward"]} for d in DESIGNS},
                    limits=[*PUBLISHED_CAPACITY,
                            {"where": {"mode": "forward", "ad": "forward"}, "drop": True},
                            {"where": {"framework": "torch", "ad": "forward"},
                             "drop": True},
                            # forward mode: the FIFO here, every design in `full`
                            *({"where": {"ad": "forward", "impl": d}, "drop": True}
                              for d in ("heap", "ring", "sorted", "lossy"))]),
            # (f) drop rate vs load (JAX: the rate is exact, the same in every framework)
            *_drop_sweep([10], [0.5, 1.0, 2.0], [("fifo", 3), ("fifo", 1),
                                                      ("lossy", 3)], 1_000),
            # (adseq counts no drops: its drop rate is ours by construction; it is timed in
            # (a), (b) and (d), and in (f) in `full`)
            # (the exported chunk graphs of the queues are in `full`: each design's export is
            # most of its row, ~5-27 s here; tests/kernels/test_onnx_graphs.py checks them)
        ],
    },
    "full": {
        "event_lif": [
            # training to accuracy: Yin-Yang to the published 95 % in up to 60 epochs
            yinyang_training(YY_FULL, 3600),
            {
                "impls": ["serial", "bare_scan"],
                "frameworks": ["numpy", "jax", "torch", "torch-compile"],
                "dtypes": ["float32", "float64"],
                "datasets": ["poisson", "synthetic-shd"],
                "sizes": {"n_events": DECADES, "n_neurons": [128, 512], "n_inputs": [700],
                          "batch": [1, 8, 32]},
                "seed": 0,
                "timeout_s": 3600,
                # the compiled serial loop copies the spike buffer at every exact-path pass
                # (kernels/event_lif/_loop_torch.py): O(lanes x spikes) per event on a CPU
                "limits": [{"where": {"framework": "numpy"}, "max": {"n_events": 100_000}},
                           {"where": {"framework": "torch-compile"},
                            "max": {"n_events": 10_000}}],
            },
            {
                "impls": ["serial", "parallel"],
                "frameworks": ["jax", "torch", "torch-compile"],
                "dtypes": ["float32", "float64"],
                "datasets": ["synthetic-shd"],
                "sizes": {"n_events": [SHD, 40_000], "n_neurons": [1, 128, 512],
                          "n_inputs": [700], "batch": [1, 8, 128]},
                "knobs": {"parallel": {"chunk": CHUNKS}},
                "seed": 0,
                "timeout_s": 3600,
            },
            # the paper's anchor: SHD-shaped input, 2 layers of 512, batch 128, chunk 128
            {
                "impls": ["serial", "parallel"],
                "frameworks": ["jax", "torch", "torch-compile"],
                "dtypes": ["float32"],
                "modes": ["forward", "grad"],
                "datasets": ["synthetic-shd"],
                "sizes": {"n_events": [SHD], "n_neurons": [128, 256, 512], "n_inputs": [700],
                          "batch": [4, 8, 128], "n_layers": [2]},
                "knobs": {"parallel": {"chunk": [1, 16, 128, 1024], "remat": [True, False]}},
                "seed": 0,
                "timeout_s": 3600,
                # the serial event order's training step is the parallel one at K = 1 (here
                # as a knob); it trains in the train rows
                "limits": [{"where": {"mode": "forward", "remat": False}, "drop": True},
                           {"where": {"impl": "serial", "mode": "grad"}, "drop": True}],
            },
            {
                "impls": ["parallel"],
                "frameworks": ["onnx"],
                "dtypes": ["float32"],
                "datasets": ["synthetic-shd"],
                "sizes": {"n_events": [SHD], "n_neurons": [1, 128, 512], "n_inputs": [700],
                          "batch": [1, 8, 128]},
                "knobs": {"parallel": {"chunk": [16, 128, 1024]}},
                "seed": 0,
                "timeout_s": 3600,
            },
        ],
        "psu": [
            {
                "impls": NEURONS,
                "frameworks": ["jax", "torch", "torch-compile"],
                "dtypes": ["float32", "float64"],
                "modes": ["forward", "grad"],
                "datasets": ["gaussian"],
                "sizes": {"T": STEPS, "n_neurons": [256, 1024, 4096], "batch": [32]},
                "seed": 0,
                "timeout_s": 1800,
            },
            # training to accuracy: every neuron on the digits to 90 % in up to 20 epochs
            {
                "impls": NEURONS,
                "frameworks": ["jax", "torch"],
                "dtypes": ["float32"],
                "modes": ["train"],
                "datasets": ["digits"],
                "sizes": TRAIN_FULL,
                "seed": 0,
                "timeout_s": 1800,
            },
            # the paper's SHD network: 700 -> 1024 -> 1024 -> 20, batch 256, T = 15
            {
                "impls": NEURONS,
                "frameworks": ["jax", "torch", "torch-compile"],
                "dtypes": ["float32"],
                "modes": ["forward", "grad"],
                "datasets": ["synthetic-shd"],
                "sizes": {"T": [4, 8, 15, 32, 64, 128, 256], "n_inputs": [700],
                          "n_neurons": [256, 1024], "batch": [32, 256], "n_layers": [2]},
                "seed": 0,
                "timeout_s": 1800,
            },
            # the exported graphs (forward, float32)
            {
                "impls": NEURONS,
                "frameworks": ["onnx"],
                "dtypes": ["float32"],
                "datasets": ["gaussian"],
                "sizes": {"T": STEPS, "n_neurons": [256, 1024], "batch": [32]},
                "seed": 0,
                "timeout_s": 1800,
            },
            {
                "impls": NEURONS,
                "frameworks": ["onnx"],
                "dtypes": ["float32"],
                "datasets": ["synthetic-shd"],
                "sizes": {"T": [4, 15, 64, 256], "n_inputs": [700], "n_neurons": [256, 1024],
                          "batch": [32, 256], "n_layers": [2]},
                "seed": 0,
                "timeout_s": 1800,
            },
        ],
        "queues": [
            # training to accuracy: the delay task at four capacities, both frameworks
            _queues(DELAYS_FULL, impls=["fifo"], modes=["train"], dataset="timing",
                    timeout_s=3600),
            # the paper's sizes (spec/queues.md section 5), float32
            _queues({"n_queues": [1], "capacity": [4, 7], "delay": [80], "interval": [400],
                     "T": [40_000]}, frameworks=TRAFFIC_FWS, limits=PUBLISHED_CAPACITY,
                    timeout_s=3600),
            _queues({"n_queues": [1_000, 10_000, 100_000, 900_000], "capacity": [4, 7],
                     "delay": [80], "interval": [400], "T": [4_000]}, frameworks=TRAFFIC_FWS,
                    limits=PUBLISHED_CAPACITY, timeout_s=3600),
            _queues({"n_queues": [10_000], "capacity": list(range(1, 40, 2)), "delay": [5],
                     "interval": [10], "T": [4_000]},
                    impls=["heap", "fifo", "sorted", "lossy"], timeout_s=3600),
            _queues({"n_neurons": [100], "capacity": [4, 7], "T": [10_000]},
                    dataset="recurrent", modes=("forward", "grad"),
                    knobs={d: {"ad": ["reverse", "forward"]} for d in DESIGNS},
                    limits=[*PUBLISHED_CAPACITY,
                            {"where": {"mode": "forward", "ad": "forward"}, "drop": True}],
                    timeout_s=3600),
            # (e) with the network's step compiled: forward, reverse mode (the step and its
            # backward compiled) and forward mode (the step's jvp compiled)
            _queues({"n_neurons": [100], "capacity": [4, 7], "T": [10_000]},
                    dataset="recurrent", frameworks=("torch-compile",),
                    modes=("forward", "grad"),
                    knobs={d: {"ad": ["reverse", "forward"]} for d in DESIGNS},
                    limits=[*PUBLISHED_CAPACITY,
                            {"where": {"mode": "forward", "ad": "forward"}, "drop": True}],
                    timeout_s=3600),
            *_drop_sweep([10, 20, 50, 200], [0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0],
                         [("fifo", 3), ("fifo", 1), ("heap", 3), ("sorted", 3), ("lossy", 3)],
                         10_000, frameworks=("jax", "torch")),
            *_onnx_queues(T_single=40_000, T_many=4_000, n_many=[10_000, 900_000],
                          T_net=10_000, timeout_s=3600),
        ],
    },
    # the prepared accelerator run (scripts/gpu_smoke.sh; README "A prepared GPU run"): the
    # headline configurations only, sized to finish within 8 minutes on one GPU
    "gpu-smoke": {
        "event_lif": [
            # the Bullet Trains anchor: SHD-shaped input, 2 layers of 512, batch 128, K = 128
            {
                "impls": ["serial", "parallel"],
                "frameworks": ["jax", "torch", "torch-compile"],
                "dtypes": ["float32"],
                "modes": ["forward", "grad"],
                "datasets": ["synthetic-shd"],
                # forward at the paper's batch 128 (checked on 8 samples); the training step
                # at batch 4: its check is a finite difference of the whole batch's float64
                # NumPy loss, which at batch 128 takes longer than the run's 8 minutes
                "sizes": {"n_events": [SHD], "n_neurons": [512], "n_inputs": [700],
                          "batch": [4, 128], "n_layers": [2]},
                "knobs": {"parallel": {"chunk": [128], "remat": [True]}},
                "seed": 0,
                "timeout_s": 240,
                "limits": [{"where": {"impl": "serial", "mode": "grad"}, "drop": True},
                           {"where": {"mode": "grad", "batch": 128}, "drop": True},
                           {"where": {"mode": "forward", "batch": 4}, "drop": True}],
            },
        ],
        "psu": [
            # the PSU family's forward and training step at the paper's T = 15 on its SHD
            # network: JAX, eager PyTorch and torch.compile
            {
                "impls": NEURONS,
                "frameworks": ["jax", "torch", "torch-compile"],
                "dtypes": ["float32"],
                "modes": ["forward", "grad"],
                "datasets": ["synthetic-shd"],
                "sizes": {"T": [15], "n_inputs": [700], "n_neurons": [1024], "batch": [256],
                          "n_layers": [2]},
                "seed": 0,
                "timeout_s": 120,
            },
        ],
        "queues": [
            # (b) at 10,000 and the paper's 900,000 queues, ours and the authors' (adseq)
            _queues({"n_queues": [10_000, 900_000], "capacity": [4, 7], "delay": [80],
                     "interval": [400], "T": [1_000]}, frameworks=TRAFFIC_FWS,
                    knobs=tallies(["queue", "total"]),
                    limits=[*PUBLISHED_CAPACITY,
                            {"where": {"framework": "torch-compile", "tally": "total"},
                             "drop": True}], timeout_s=120),
        ],
    },
    # the harness's own self-test (not part of the default sweep)
    "selftest": {
        "selftest": [{
            "impls": ["ok", "raises", "hangs"],
            "frameworks": ["numpy"],
            "dtypes": ["float64"],
            "datasets": ["none"],
            "sizes": {"n": [8]},
            "timeout_s": 5,
        }],
    },
}

FILTER_KEYS = ("family", "impl", "framework", "dtype", "dataset", "mode")


def implementations() -> dict[str, set[str]]:
    """Each family's implementations named in any profile (what a results row may hold)."""
    out: dict[str, set[str]] = {}
    for prof in PROFILES.values():
        for fam, specs in prof.items():
            for spec in specs:
                out.setdefault(fam, set()).update(spec["impls"])
    return out


def choices(profile: str | None = None) -> dict[str, list[str]]:
    """The values each filter key takes in `profile` (every profile when None): the case
    fields (FILTER_KEYS), every size and every knob (e.g. ``chunk``, the parallel simulator's
    K), as sorted text. What `--filter` / `--bench-filter` and the CLI's options accept."""
    import collections

    names = [profile] if profile is not None else list(PROFILES)
    out: dict[str, set] = collections.defaultdict(set)
    for name in names:
        for fam, specs in PROFILES[name].items():
            out["family"].add(fam)
            for spec in specs:
                out["impl"].update(spec["impls"])
                out["framework"].update(spec["frameworks"])
                out["dtype"].update(spec["dtypes"])
                out["mode"].update(spec.get("modes", ["forward"]))
                out["dataset"].update(spec["datasets"])
                for k, vals in spec.get("sizes", {}).items():
                    out[k].update(str(int(v)) for v in vals)
                for knobs in spec.get("knobs", {}).values():
                    for k, vals in knobs.items():
                        out[k].update(map(str, vals))

    def order(v):
        try:
            return (0, float(v), v)
        except ValueError:
            return (1, 0.0, v)

    return {k: sorted(v, key=order) for k, v in out.items()}


def parse_filters(texts) -> dict[str, list[str]]:
    """``["framework=jax", "chunk=16,128"]`` -> ``{"framework": ["jax"], "chunk": ["16",
    "128"]}`` (a key given twice keeps both lists); ValueError for text without ``=``."""
    out: dict[str, list[str]] = {}
    for text in texts or []:
        key, sep, values = str(text).partition("=")
        vals = [v.strip() for v in values.split(",") if v.strip()]
        if not sep or not key.strip() or not vals:
            raise ValueError(f"filter {text!r}: expected KEY=V1,V2 (e.g. framework=jax or "
                             f"chunk=16,128)")
        out.setdefault(key.strip(), []).extend(vals)
    return out


def _text(v) -> str:
    """A filter value as the text ``choices`` lists: 1e3 and 1000.0 as 1000."""
    if isinstance(v, bool):
        return str(v)
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    return str(int(f)) if f.is_integer() else str(v)


def check_filters(profile: str, filters: dict) -> None:
    """ValueError naming the bad key or value and listing the choices (``choices``): an
    unknown key, or a value that no case of `profile` has."""
    known = choices(profile)
    for key, allowed in filters.items():
        if allowed is None or len(allowed) == 0:
            continue
        if key not in known:
            raise ValueError(f"unknown filter {key!r}; choose from: {', '.join(sorted(known))}")
        bad = [_text(a) for a in allowed if _text(a) not in known[key]]
        if bad:
            raise ValueError(f"{key} {', '.join(map(repr, bad))} not in profile {profile!r}; "
                             f"choose from: {', '.join(known[key])}")


def profile_cases(profile: str, devices: list[str], limits: bool = True,
                  **filters) -> list[Case]:
    """Cases of a profile, expanded over devices and narrowed by filters.

    limits=False ignores the profile's size caps (e.g. to run PyTorch's serial loop at 1e5
    events per sample in the quick profile's configuration).

    Each filter is a list of allowed values for one of FILTER_KEYS (None = all), a size
    name (e.g. n_events) or a knob name (e.g. chunk); ValueError for an unknown name or a
    value the profile does not have, listing the choices (``check_filters``).
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose from: {', '.join(PROFILES)}")
    check_filters(profile, filters)
    cases = []
    for fam, specs in PROFILES[profile].items():
        for spec in specs:
            cases += expand(spec, fam, devices, limits)
    cases = list(dict.fromkeys(cases))  # a case two sweeps share runs once
    for key, allowed in filters.items():
        if allowed is None or len(allowed) == 0:
            continue
        want = {_text(a) for a in allowed}
        if key in FILTER_KEYS:
            cases = [c for c in cases if getattr(c, key) in want]
        else:
            cases = [c for c in cases if _text(c.size.get(key, c.knob.get(key))) in want]
    return cases


def with_dataset(cases, name: str, data_dir=None, stats_file=None) -> list[Case]:
    """The cases whose inputs are event data, all moved onto dataset `name` (spec/datasets.md):
    event-LIF cases, PSU network cases and the queues' recurrent network (whose input current
    the data then drives). Their input width ``n_inputs`` becomes the dataset's channel count
    (the sized generators ``poisson``, ``synthetic-shd`` and ``synthetic-ssc`` keep any width).
    Cases whose inputs are not event samples (PSU neuron level, the queues' traffic) are left
    out. Reader datasets need `data_dir`; ValueError for an unknown name. With `stats_file`
    (saved by ``spikebench datasets stats FILE --save``) a stand-in generator follows those
    statistics, and the rows' dataset is labelled ``NAME@hash`` so they never pool with the
    defaults."""
    import dataclasses

    from . import datasets, families

    d = datasets.get(name)
    label = name if stats_file is None else datasets.stats_label(name, stats_file)
    if d.kind == "reader":
        if data_dir is None:
            raise ValueError(f"dataset {name!r} reads files: give --data-dir (expected "
                             f"{', '.join(f for fs in d.files.values() for f in fs)})")
        d.open(data_dir, next(iter(d.files)))  # fail now, naming the files, not per case
    out = []
    for c in cases:
        if not families.get(c.family).takes_events(c):
            continue
        sizes = dict(c.sizes)
        if "n_inputs" in sizes and name not in datasets.SIZED:
            sizes["n_inputs"] = d.n_channels
        out.append(dataclasses.replace(
            c, dataset=label, sizes=tuple(sorted(sizes.items())),
            data_dir=None if data_dir is None else str(data_dir),
            stats_file=None if stats_file is None else str(stats_file)))
    return list(dict.fromkeys(out))



def shard(cases, spec: str) -> tuple[list[Case], dict]:
    """Shard `i/n` of a sweep (1 <= i <= n): every n-th case from the i-th on, so the shards
    are disjoint, together hold every case, and mix cheap and costly families alike. The
    returned dict goes into the JSON context: index, count, the whole sweep's size and its
    ``sweep_id`` (a hash of every case id), by which ``spikebench merge`` knows the shards of
    one sweep. ValueError for a malformed spec."""
    import hashlib

    text = str(spec)
    i, sep, n = text.partition("/")
    try:
        i, n = int(i), int(n)
    except ValueError:
        i = n = 0
    if not sep or not (n >= 1 and 1 <= i <= n):
        raise ValueError(f"--shard {text!r}: expected i/n with 1 <= i <= n, e.g. 2/4")
    ids = sorted(c.case_id for c in cases)
    info = {"index": i, "count": n, "n_cases": len(cases),
            "sweep_id": hashlib.sha1(" ".join(ids).encode()).hexdigest()[:12]}
    return list(cases)[i - 1::n], info
