"""The exact event-driven LIF family's sweeps: profile name -> sweep specs (the dict form
``cases.expand`` reads). Edit the data, not the code."""

from __future__ import annotations

DECADES = [100, 1_000, 10_000, 100_000, 1_000_000]

CHUNKS = [2**i for i in range(11)]  # 1 .. 1024

QUICK_CHUNKS = [1, 16, 64, 128, 1024]  # every power of 2 in `full`

SHD = 4000  # input events of one SHD utterance (median)

# the event-LIF family's training task (Yin-Yang, 5 -> 120 exact LIF -> 3; training_yinyang)
# quick: 60 hidden neurons (0.863 after 3 epochs here, the float64 reference 0.868; 120, the
# published size, cost the row 70 s of a 10-minute profile); full: 120 to 95 %
YY_QUICK = {"n_neurons": [60], "batch": [50], "epochs": [3], "target_pct": [85]}

YY_FULL = {**YY_QUICK, "n_neurons": [120], "epochs": [60], "target_pct": [95]}


def yinyang_training(sizes, timeout_s, impls=("serial", "parallel"), frameworks=("jax", "torch")):
    """The event-LIF train rows on Yin-Yang (README "Training to accuracy"), each against the
    float64 JAX run of the same loop."""
    return {
        "impls": list(impls),
        "frameworks": list(frameworks),
        "dtypes": ["float32"],
        "modes": ["train"],
        "datasets": ["yinyang"],
        "sizes": sizes,
        "seed": 0,
        "timeout_s": timeout_s,
    }


# input events per simulated second of the NEST anchor cases: sparse (Poisson 20 Hz on each of
# 100 inputs), one SHD utterance's rate (4,000 events in 0.95 s) and dense (1 kHz a channel)
RATES_HZ = [2_000, 4_210, 100_000]


SWEEPS: dict[str, list[dict]] = {
    "quick": [
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
            "sizes": {"n_events": DECADES[:4], "n_neurons": [128], "n_inputs": [700], "batch": [2]},
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
        *[
            {
                "impls": ["serial"],
                "frameworks": ["jax", "nest"],
                "dtypes": ["float64"],
                "datasets": ["poisson"],
                "sizes": {
                    "n_events": [rate],
                    "rate_hz": [rate],
                    "n_neurons": [1, 128],
                    "n_inputs": [100],
                    "batch": [1],
                },
                "knobs": {"serial": {"threads": [1]}},
                "seed": 0,
                "timeout_s": 600,
            }
            for rate in RATES_HZ
        ],
        {
            "impls": ["serial"],
            "frameworks": ["nest"],
            "dtypes": ["float64"],
            "datasets": ["poisson"],
            "sizes": {"n_events": DECADES[:3], "n_neurons": [128], "n_inputs": [700], "batch": [2]},
            "seed": 0,
            "timeout_s": 600,
        },
        # speedup over serial vs chunk size (Bullet Trains' Figure 1 on a CPU): one SHD
        # utterance, a single neuron and a 128-neuron layer at batch 8
        *[
            {
                "impls": ["serial", "parallel"],
                "frameworks": ["jax", "torch"],
                "dtypes": ["float32"],
                "datasets": ["synthetic-shd"],
                "sizes": {"n_events": [SHD], "n_neurons": [n], "n_inputs": [700], "batch": [b]},
                # K = 1, 16, 64, the paper's 128 and 1024 (every power of 2 in `full`)
                "knobs": {"parallel": {"chunk": QUICK_CHUNKS}},
                "seed": 0,
                "timeout_s": 600,
                # PyTorch's step loop runs in Python (seconds per call at small K): K = 16,
                # 128 (the paper's choice), 1024 for one neuron, K = 16, 128 for the layer;
                # JAX's compile time grows with K: K <= 128 for the layer
                "limits": [
                    {"where": {"framework": "torch", "chunk": k}, "drop": True} for k in (1, 64)
                ]
                + (
                    [
                        {"where": {"framework": "torch", "chunk": 1024}, "drop": True},
                        {"where": {"chunk": 1024}, "drop": True},
                    ]
                    if n > 1
                    else []
                ),
            }
            for n, b in ((1, 1), (128, 8))
        ],
        # a 2-layer 128-wide network at batch 2 on a short utterance (2000 events):
        # forward (serial vs parallel) and a training step (loss + gradients) with the
        # chunk-recomputing backward (remat; without it, and 2 x 128 .. 512, in `full`)
        {
            "impls": ["serial", "parallel"],
            "frameworks": ["jax", "torch"],
            "dtypes": ["float32"],
            "modes": ["forward", "grad"],
            "datasets": ["synthetic-shd"],
            "sizes": {
                "n_events": [SHD // 2],
                "n_neurons": [128],
                "n_inputs": [700],
                "batch": [2],
                "n_layers": [2],
            },
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
            "sizes": {"n_events": [SHD], "n_neurons": [128], "n_inputs": [700], "batch": [8]},
            "knobs": {"parallel": {"chunk": [128]}},
            "seed": 0,
            "timeout_s": 600,
        },
        # (the exported chunk step on ONNX Runtime, 23-31 s a row here, is in `full`, which
        # the training rows' time pushed out of this profile's 10 minutes;
        # tests/kernels/test_onnx_graphs.py checks the graph)
    ],
    "full": [
        # training to accuracy: Yin-Yang to the published 95 % in up to 60 epochs
        yinyang_training(YY_FULL, 3600),
        {
            "impls": ["serial", "bare_scan"],
            "frameworks": ["numpy", "jax", "torch", "torch-compile"],
            "dtypes": ["float32", "float64"],
            "datasets": ["poisson", "synthetic-shd"],
            "sizes": {
                "n_events": DECADES,
                "n_neurons": [128, 512],
                "n_inputs": [700],
                "batch": [1, 8, 32],
            },
            "seed": 0,
            "timeout_s": 3600,
            # the compiled serial loop copies the spike buffer at every exact-path pass
            # (kernels/event_lif/_loop_torch.py): O(lanes x spikes) per event on a CPU
            "limits": [
                {"where": {"framework": "numpy"}, "max": {"n_events": 100_000}},
                {"where": {"framework": "torch-compile"}, "max": {"n_events": 10_000}},
            ],
        },
        {
            "impls": ["serial", "parallel"],
            "frameworks": ["jax", "torch", "torch-compile"],
            "dtypes": ["float32", "float64"],
            "datasets": ["synthetic-shd"],
            "sizes": {
                "n_events": [SHD, 40_000],
                "n_neurons": [1, 128, 512],
                "n_inputs": [700],
                "batch": [1, 8, 128],
            },
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
            "sizes": {
                "n_events": [SHD],
                "n_neurons": [128, 256, 512],
                "n_inputs": [700],
                "batch": [4, 8, 128],
                "n_layers": [2],
            },
            "knobs": {"parallel": {"chunk": [1, 16, 128, 1024], "remat": [True, False]}},
            "seed": 0,
            "timeout_s": 3600,
            # the serial event order's training step is the parallel one at K = 1 (here
            # as a knob); it trains in the train rows
            "limits": [
                {"where": {"mode": "forward", "remat": False}, "drop": True},
                {"where": {"impl": "serial", "mode": "grad"}, "drop": True},
            ],
        },
        {
            "impls": ["parallel"],
            "frameworks": ["onnx"],
            "dtypes": ["float32"],
            "datasets": ["synthetic-shd"],
            "sizes": {
                "n_events": [SHD],
                "n_neurons": [1, 128, 512],
                "n_inputs": [700],
                "batch": [1, 8, 128],
            },
            "knobs": {"parallel": {"chunk": [16, 128, 1024]}},
            "seed": 0,
            "timeout_s": 3600,
        },
    ],
    "gpu-smoke": [
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
            "sizes": {
                "n_events": [SHD],
                "n_neurons": [512],
                "n_inputs": [700],
                "batch": [4, 128],
                "n_layers": [2],
            },
            "knobs": {"parallel": {"chunk": [128], "remat": [True]}},
            "seed": 0,
            "timeout_s": 240,
            "limits": [
                {"where": {"impl": "serial", "mode": "grad"}, "drop": True},
                {"where": {"mode": "grad", "batch": 128}, "drop": True},
                {"where": {"mode": "forward", "batch": 4}, "drop": True},
            ],
        },
    ],
}
