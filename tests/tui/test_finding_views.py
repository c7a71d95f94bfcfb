"""The backend's finding views made in one pass (orders grouped by finding once per call) are the
views it made one finding at a time, scanning every order for each; and the hazards list shows
them in a :class:`~tui.widgets.table.FixedTable` as before."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Select

from inspect_engine.clock import FixedClock
from inspect_engine.events import parse_time
from inspect_engine.ledger import Ledger
from inspect_engine.queries import FindingRow, finding_row
from inspect_engine.rulepack import RulePack
from tests.tui.conftest import INSPECTOR, NOW, drive, settle
from tui.app import make_app
from tui.backend import FindingView, FivePlan, HistoryEntry, OrderView
from tui.demo import build_demo
from tui.format import level_text, status_text
from tui.ledger_backend import LedgerBackend
from tui.screens.finding import FindingScreen
from tui.screens.hazards import HazardsScreen
from tui.widgets.table import FixedTable


def _one_at_a_time(ledger: Ledger, row: FindingRow) -> FindingView:
    """The view as the backend made it before: every order of the ledger scanned for this one
    finding (the reference for the one-pass views)."""
    proj = ledger.projection
    state = proj.findings[row.finding_id]
    orders = sorted(
        (o for o in proj.orders.values() if o.finding_id == row.finding_id),
        key=lambda o: (o.ordered_on, o.id),
    )
    plan = None
    if row.plan is not None:
        p = row.plan
        plan = FivePlan(p.responsible_person, p.measures, p.funds, p.deadline, p.contingency_plan)
    return FindingView(
        id=row.finding_id,
        site_id=row.site_id,
        site_name=row.site_name,
        county=row.county,
        inspection_id=row.inspection_id,
        finding=state.finding(),
        status=row.status.value,
        deadline=row.deadline,
        overdue=row.overdue,
        history=tuple(
            HistoryEntry(parse_time(s.time), s.action, s.actor, s.note) for s in state.history
        ),
        orders=tuple(
            OrderView(o.id, o.kind, o.ordered_on, o.lifted_on, o.lift_basis) for o in orders
        ),
        plan=plan,
    )


@pytest.fixture
def demo_ledger(tmp_path: Path, real_packs: list[RulePack]) -> Iterator[Ledger]:
    """The demo's history on 160 sites, plus orders that make the grouping matter: several on
    one finding, recorded out of date order and on the same day (the id decides), one lifted,
    one on a closed finding and one on the site alone."""
    data = tmp_path / "data"
    build_demo(data, real_packs, sites=160)
    with Ledger.open(data, clock=FixedClock(NOW), actor=INSPECTOR) as ledger:
        proj = ledger.projection
        open_ = [f for f in proj.findings.values() if f.is_open]
        closed = [f for f in proj.findings.values() if f.status is not None and not f.is_open]
        assert len(open_) >= 3 and closed
        first, second = open_[0], open_[1]
        day = dt.date(2020, 9, 10)
        for kind, on in (
            ("seal", day),
            ("stop_use", day - dt.timedelta(days=5)),
            ("evacuate", day),
        ):
            ledger.order_enforcement(first.site_id, kind, ordered_on=on, finding_id=first.id)
        lifted = ledger.order_enforcement(
            second.site_id, "stop_use", ordered_on=day, finding_id=second.id
        )
        ledger.lift_enforcement(lifted.id, lifted_on=day + dt.timedelta(days=2), basis="复查合格")
        ledger.order_enforcement(closed[0].site_id, "seal", ordered_on=day, finding_id=closed[0].id)
        ledger.order_enforcement(first.site_id, "halt_event", ordered_on=day)
    ledger = Ledger.open(data, clock=FixedClock(NOW), actor=INSPECTOR)
    yield ledger
    ledger.close()


def test_views_are_the_one_at_a_time_views(demo_ledger: Ledger, real_packs: list[RulePack]) -> None:
    """The unresolved list, each site's open findings and each finding alone equal the views
    made one finding at a time, orders included, in the same order."""
    backend = LedgerBackend(demo_ledger, real_packs)
    rows = demo_ledger.open_findings()
    expected = [_one_at_a_time(demo_ledger, row) for row in rows]
    assert backend.unresolved() == expected
    assert max(len(v.orders) for v in expected) >= 3  # the fixture's orders are there
    assert any(o.lifted_on is not None for v in expected for o in v.orders)

    for site_id in {row.site_id for row in rows}:
        record = demo_ledger.site(site_id)
        mine = [_one_at_a_time(demo_ledger, row) for row in record.open_findings]
        assert backend.site_findings(site_id) == mine
    for view in expected:
        assert backend.finding(view.id) == view
    proj = demo_ledger.projection
    closed = [f for f in proj.findings.values() if f.status is not None and not f.is_open]
    for state in closed:
        row = finding_row(proj, state, demo_ledger.today())
        assert backend.finding(state.id) == _one_at_a_time(demo_ledger, row)


def test_hazards_screen_lists_the_views_in_a_fixed_table(
    demo_ledger: Ledger, real_packs: list[RulePack]
) -> None:
    """The office list is a FixedTable of every open hazard, overdue first, one row a view;
    the level filter narrows it and Enter opens the finding under the cursor."""
    views = LedgerBackend(demo_ledger, real_packs).unresolved()

    async def script(pilot: Pilot[None]) -> None:
        await pilot.press("h")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, HazardsScreen)
        table = screen.query_one("#hazards", FixedTable)
        t = screen.t

        def cells(v: FindingView) -> list[str]:
            title = t.text(v.finding.title).replace("[", r"\[")
            deadline = v.deadline.isoformat()
            level = level_text(v.finding.level, t)
            return [v.county, v.site_name, level, title, deadline, status_text(v, t)]

        assert [table.get_row_at(i) for i in range(table.row_count)] == [cells(v) for v in views]
        screen.query_one("#hz-level", Select).value = "一般"
        await settle(pilot)
        general = [v for v in views if v.finding.level == "一般"]
        assert 0 < len(general) < len(views)
        assert [table.get_row_at(i) for i in range(table.row_count)] == [cells(v) for v in general]
        table.move_cursor(row=1)
        await pilot.press("enter")
        await settle(pilot)
        finding = pilot.app.screen
        assert isinstance(finding, FindingScreen) and finding.finding_id == general[1].id

    # not resumed: the demo leaves a walk open on one of this inspector's sites
    drive(make_app(LedgerBackend(demo_ledger, real_packs), resume=False), script)
