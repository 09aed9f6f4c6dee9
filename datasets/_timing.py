"""Spike-timing classes: a generated event dataset whose classes differ only in spike timing.

Every sample holds the same spikes on every channel: C channels each fire a burst of BURST
spikes GAP apart. What tells the K classes apart is when: class k's burst on channel c starts
at its template onset T[k, c] ~ U(0, SPAN) (fixed by TEMPLATE_SEED, the same for every split),
jittered per sample and channel by N(0, JITTER) (clipped at 0). Spike counts carry no
information, so a classifier must read the timing (coincidences through synaptic delays, or
spike times). Labels 0 .. K-1, drawn uniformly; ``duration`` is the window that holds every
burst, SPAN + 3 JITTER + (BURST - 1) GAP.

Made for the queue network's delay training (``spikebench.families.queues.training``): the bursts
fill a synapse's queue with up to BURST events in flight, so small queue capacities drop events.
"""

from __future__ import annotations

import numpy as np

from ._format import EventBatch, pack

N_CHANNELS, N_CLASSES = 4, 4
BURST, GAP = 3, 1e-3  # s
SPAN, JITTER = 8e-3, 1e-3  # s
TEMPLATE_SEED = 7
DURATION = SPAN + 3 * JITTER + (BURST - 1) * GAP


def templates() -> np.ndarray:
    """Onsets [K, C] (s) of every class's bursts."""
    return np.random.default_rng(TEMPLATE_SEED).uniform(0.0, SPAN, (N_CLASSES, N_CHANNELS))


def timing(batch: int = 1, *, n_events: int | None = None, seed: int = 0) -> EventBatch:
    """`batch` samples of C x BURST events (n_events must be None or C x BURST)."""
    if int(batch) < 1:
        raise ValueError(f"batch must be >= 1, got {batch}")
    if n_events not in (None, N_CHANNELS * BURST):
        raise ValueError(
            f"timing samples hold exactly {N_CHANNELS * BURST} events, got n_events={n_events}"
        )
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, N_CLASSES, int(batch))
    onsets = np.maximum(
        templates()[labels] + rng.normal(0.0, JITTER, (int(batch), N_CHANNELS)), 0.0
    )
    ch = np.repeat(np.arange(N_CHANNELS), BURST)
    offsets = np.tile(np.arange(BURST) * GAP, N_CHANNELS)
    samples = [(np.repeat(o, BURST) + offsets, ch) for o in onsets]
    return pack(samples, N_CHANNELS, "timing", [DURATION] * int(batch), labels)
