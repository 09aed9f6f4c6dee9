"""The Parallel Spiking Units family's sweeps: profile name -> sweep specs (the dict form
``cases.expand`` reads). Edit the data, not the code."""

from __future__ import annotations

NEURONS = ["lif", "psu", "ipsu", "rpsu"]

# the PSU family's training task (digits, 64 -> hidden -> 10, T = 15; ``training``)
TRAIN_QUICK = {
    "T": [15],
    "n_neurons": [128],
    "batch": [64],
    "n_layers": [1],
    "epochs": [8],
    "target_pct": [85],
}

TRAIN_FULL = {**TRAIN_QUICK, "epochs": [20], "target_pct": [90]}

STEPS = [4, 8, 16, 32, 64, 128, 256, 512]  # T of the PSU family's time-step sweep (full)

QUICK_STEPS = [4, 64, 256]  # three points of the T curve (every T in `full`)


SWEEPS: dict[str, list[dict]] = {
    "quick": [
        # neuron level: forward and forward + backward vs T for LIF (the loop) and the PSU
        # family (all steps at once), float32 over the whole T range and vs the layer width
        # at T = 64 (float64 in `full`)
        *[
            {
                "impls": NEURONS,
                "frameworks": ["jax", "torch"],
                "dtypes": [dt],
                "modes": ["forward", "grad"],
                "datasets": ["gaussian"],
                "sizes": {"T": steps, "n_neurons": widths, "batch": [8]},
                "seed": 0,
                "timeout_s": 300,
            }
            for dt, steps, widths in (("float32", QUICK_STEPS, [256]), ("float32", [64], [2048]))
        ],
        # network level: the SHD-shaped 700 -> 256 -> 256 -> 20 network at the paper's
        # T = 15 and at T = 64, inference and one training step (T = 4 .. 256 in `full`)
        {
            "impls": NEURONS,
            "frameworks": ["jax", "torch"],
            "dtypes": ["float32"],
            "modes": ["forward", "grad"],
            "datasets": ["synthetic-shd"],
            "sizes": {
                "T": [15, 64],
                "n_inputs": [700],
                "n_neurons": [256],
                "batch": [32],
                "n_layers": [2],
            },
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
            "sizes": {
                "T": [15],
                "n_inputs": [700],
                "n_neurons": [256],
                "batch": [32],
                "n_layers": [2],
            },
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
        # the exported graphs (docs/guide/devices.md) on ONNX Runtime / a GroqChip: forward,
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
            "sizes": {
                "T": [15],
                "n_inputs": [700],
                "n_neurons": [256],
                "batch": [32],
                "n_layers": [2],
            },
            "seed": 0,
            "timeout_s": 300,
        },
    ],
    "full": [
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
            "sizes": {
                "T": [4, 8, 15, 32, 64, 128, 256],
                "n_inputs": [700],
                "n_neurons": [256, 1024],
                "batch": [32, 256],
                "n_layers": [2],
            },
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
            "sizes": {
                "T": [4, 15, 64, 256],
                "n_inputs": [700],
                "n_neurons": [256, 1024],
                "batch": [32, 256],
                "n_layers": [2],
            },
            "seed": 0,
            "timeout_s": 1800,
        },
    ],
    "gpu-smoke": [
        # the PSU family's forward and training step at the paper's T = 15 on its SHD
        # network: JAX, eager PyTorch and torch.compile
        {
            "impls": NEURONS,
            "frameworks": ["jax", "torch", "torch-compile"],
            "dtypes": ["float32"],
            "modes": ["forward", "grad"],
            "datasets": ["synthetic-shd"],
            "sizes": {
                "T": [15],
                "n_inputs": [700],
                "n_neurons": [1024],
                "batch": [256],
                "n_layers": [2],
            },
            "seed": 0,
            "timeout_s": 120,
        },
    ],
}
