"""Demo data: deterministic, clearly marked, and spread over Yangquan's counties."""

from __future__ import annotations

from inspect_engine.demo import COUNTIES, DEMO_MARK, DEMO_PREFIX, demo_sites
from inspect_engine.rulepack import RulePack


def test_demo_sites_are_marked_deterministic_and_spread(mini_pack: RulePack) -> None:
    """Same seed, same sites; every site marked as demo; every county present."""
    first = demo_sites([mini_pack], 60)
    again = demo_sites([mini_pack], 60)
    assert first == again
    assert all(s.id.startswith(DEMO_PREFIX) and s.name.startswith(DEMO_MARK) for s in first)
    assert {s.county for s in first} == set(COUNTIES)
    assert all(s.township in COUNTIES[s.county] for s in first)
    assert {t for s in first for t in s.site_types} == {"building", "site"}
    assert len({s.id for s in first}) == 60
