"""Property tests: durable-rules and the plain-Python reading agree on every input.

Random answer sets (biased to the thresholds, the choices and their neighbours) over the mini
pack and every installed pack, and random whole packs (nested and negated conditions, facts,
any_hazard, operands of the wrong type, conditions wide enough to be split into helper rules):
the engine's outcome - rules fired, facts derived, findings standing - equals
:func:`~inspect_engine.reference_eval.reference_outcome` exactly.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from inspect_engine.engine import compile_pack, fired_rules
from inspect_engine.packs import load_pack, pack_dirs
from inspect_engine.reference_eval import reference_outcome
from inspect_engine.rulepack import RulePack
from tests.conftest import GOOD_PACKS
from tests.engine_helpers import random_packs, site_inputs

PACKS = [GOOD_PACKS / "mini", *pack_dirs()]
_SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@functools.cache
def _load(folder: Path) -> RulePack:
    """Each pack once: packs being edited on disk must not change under a running test."""
    return load_pack(folder, root=folder.parent)


@pytest.mark.parametrize("folder", PACKS, ids=[p.name for p in PACKS])
@_SETTINGS
@given(data=st.data())
def test_engine_agrees_with_plain_reading(folder: Path, data: st.DataObject) -> None:
    """For random valid inputs to a real pack, durable-rules fires exactly the reference's rules."""
    pack = _load(folder)
    types, answers, site = data.draw(site_inputs(pack))
    assert fired_rules(pack, types, answers, site) == reference_outcome(pack, types, answers, site)


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(pack=random_packs(), data=st.data())
def test_engine_agrees_on_random_packs(pack: RulePack, data: st.DataObject) -> None:
    """For random packs and random inputs to them, the two readings give the same outcome."""
    compiled = compile_pack(pack)
    helpers = sum(1 for name in compiled.nodes if name.startswith("x"))
    event("split into helper rules" if helpers else "one pattern per rule")
    event(f"context facts per evaluation: {min(compiled.asserts, 5)}{'+' * (compiled.asserts > 5)}")
    for _ in range(3):
        types, answers, site = data.draw(site_inputs(pack))
        assert fired_rules(pack, types, answers, site) == reference_outcome(
            pack, types, answers, site
        )
