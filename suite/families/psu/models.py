"""What a neuron-level row of the PSU family computes when a peer library computes it.

The family's own rows compute the neuron their impl names (lif, psu, ipsu, rpsu) and are checked
against ``kernels/psu/_numpy.py``. A peer library's row (``spikebench.peers``) computes that
library's neuron under the adapter's mapping of the family's parameters (tau, theta) and inputs,
and says how it relates to ours:

- ``exact``: the same recurrence (equal to the family's reference within float tolerance);
  checked against the family's reference;
- ``mapped``: the same neuron after a stated mapping of parameters and inputs, with any
  remaining difference stated; checked against a float64 reference of its own equation;
- ``relative``: a different model (a parallel neuron users compare the PSU family with);
  checked against a float64 reference of its own published equation, and shown beside ours,
  never as the same neuron.

Every peer row also carries ``lif_agreement``: the fraction of its spike entries equal to
discrete LIF's on the same input -- where a mapped or relative model parts from ours, the row
shows by how much.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

RELATIONS = ("exact", "mapped", "relative")


@dataclass(frozen=True)
class Model:
    """A peer's neuron as one (impl, framework) of the PSU family computes it.

    relation:    one of RELATIONS.
    ours:        the family's impl whose time the report divides by (the neuron it stands for).
    description: the library's call, the mapping and the difference, in one sentence.
    reference:   (x [T, ...], inputs, params) -> (spikes [T, M], u [T, M]), float64: its own
                 equation's spikes and the value its threshold compares with 0; None for an
                 exact model (the family's own reference).
    carries:     a flipped spike changes the lane's later steps (a reset carries it forward).
    learned:     takes the case's learned T x T matrix and per-step bias (``mat``, ``mat_b``).
    """

    relation: str
    ours: str
    description: str
    reference: Callable | None = None
    carries: bool = True
    learned: bool = False


MODELS: dict[tuple[str, str], Model] = {}


def add(impl: str, framework: str, model: Model) -> Model:
    """Declare what (impl, framework) computes (ValueError for an unknown relation, an exact
    model with its own reference or a mapped / relative one without)."""
    if model.relation not in RELATIONS:
        raise ValueError(f"relation {model.relation!r} is not one of {RELATIONS}")
    if (model.relation == "exact") != (model.reference is None):
        raise ValueError(
            f"{(impl, framework)}: an exact model uses the family's reference; a "
            f"{model.relation!r} one needs its own"
        )
    MODELS[(impl, framework)] = model
    return model


def of(case) -> Model | None:
    """The peer model a case computes (None: one of the family's own rows)."""
    return MODELS.get((case.impl, case.framework))
