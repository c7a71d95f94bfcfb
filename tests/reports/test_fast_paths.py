"""The report's shortcuts give what the plain computation gives.

Times in the devices' shape are compared as text (``asof._Cut``, ``WeekGrid.index_text``,
hazard numbers); the Friday report takes its phase figures from one tally by pack instead of a
tally per pack, and counts alike hazards together (``tallies_of``).
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from inspect_engine.asof import CHINA_TIME_TEXT, _Cut, china_time_text
from inspect_engine.clock import CHINA
from inspect_engine.events import parse_time
from inspect_engine.ledger import Ledger
from inspect_engine.reports.numbering import _number
from inspect_engine.reports.tallies import (
    DIMENSIONS,
    PackIndex,
    Scope,
    gather,
    pack_key,
    tallies_of,
    tally,
)
from inspect_engine.reports.week import ReportWeek, WeekGrid, weeks_between
from inspect_engine.rulepack import RulePack
from tests.reports.friday_ledger import cutoff

UTC = dt.UTC
W4 = cutoff(9, 25)


def _texts_around(at: dt.datetime) -> list[str]:
    """Texts naming times at and one second either side of ``at``, in several shapes."""
    out = []
    for delta in (-1, 0, 1):
        t = at + dt.timedelta(seconds=delta)
        out += [
            t.astimezone(CHINA).isoformat(),  # the devices' shape
            t.astimezone(UTC).isoformat(),  # another offset
            t.astimezone(dt.timezone(dt.timedelta(hours=-5))).isoformat(),
            t.astimezone(CHINA).isoformat(sep=" "),  # another separator
            t.astimezone(CHINA).isoformat(timespec="milliseconds"),  # a fraction
            (t + dt.timedelta(microseconds=1)).astimezone(CHINA).isoformat(),
            (t - dt.timedelta(microseconds=1)).astimezone(CHINA).isoformat(),
        ]
    return out


def _grid(last: dt.datetime) -> WeekGrid:
    return WeekGrid(weeks_between(dt.date(2020, 8, 31), ReportWeek(last)))


GRIDS = {
    "whole seconds": cutoff(10, 2),
    "a fraction of a second": cutoff(10, 2) + dt.timedelta(microseconds=500),
    "another offset": cutoff(10, 2).astimezone(UTC) + dt.timedelta(hours=3),
}


@pytest.mark.parametrize("last", GRIDS.values(), ids=GRIDS.keys())
def test_week_index_of_a_text_is_that_of_its_time(last: dt.datetime) -> None:
    """Every bound of the grid, at and around it, in every shape: the text's week is the time's."""
    grid = _grid(last)
    bounds = [grid.weeks[0].previous, *(w.cutoff for w in grid.weeks)]
    texts = [text for at in bounds for text in _texts_around(at)]
    texts += ["2020-08-01T12:00:00+08:00", "2021-01-01T00:00:00+08:00"]  # before and after all
    assert any(CHINA_TIME_TEXT.fullmatch(t) for t in texts)
    for text in texts:
        assert grid.index_text(text) == grid.index(parse_time(text)), text


@pytest.mark.parametrize("at", GRIDS.values(), ids=GRIDS.keys())
def test_cut_of_a_text_is_that_of_its_time(at: dt.datetime) -> None:
    """``as_of``'s test of event times, at and around the cut-off in every shape."""
    cut = _Cut(at)
    assert (cut.text is None) == bool(at.microsecond)
    for text in [*_texts_around(at), *_texts_around(at + dt.timedelta(days=1))]:
        assert cut.test(text) == (parse_time(text) <= at), text


def test_china_time_text_has_the_devices_shape() -> None:
    """The shape compared as text, and no text for a time with a fraction of a second."""
    text = china_time_text(dt.datetime(2020, 9, 25, 0, 0, tzinfo=UTC))
    assert text == "2020-09-25T08:00:00+08:00"
    assert CHINA_TIME_TEXT.fullmatch(text)
    assert china_time_text(dt.datetime(2020, 9, 25, 0, 0, 0, 1, tzinfo=CHINA)) is None
    for other in ("2020-W39-5T08:00:00+08:00", "2020-09-25T08:00:00+00:00", "20200925T080000+0800"):
        assert not CHINA_TIME_TEXT.fullmatch(other)


def _number_plainly(prefix: str, keyed: list[tuple[str, str, str, int, str]]) -> dict[str, str]:
    """The numbering as specified: per date as written, by instant, then the rest."""
    out = {}
    for day, keys in itertools.groupby(
        sorted(keyed, key=lambda k: dt.datetime.fromisoformat(k[0]).date()),
        key=lambda k: dt.datetime.fromisoformat(k[0]).date(),
    ):
        ordered = sorted(keys, key=lambda k: (dt.datetime.fromisoformat(k[0]), *k[1:]))
        for n, key in enumerate(ordered, start=1):
            out[key[4]] = f"{prefix}-{day.strftime('%Y%m%d')}-{n:03d}"
    return out


def test_numbers_of_texts_are_those_of_their_times() -> None:
    """Days in the devices' shape only, days mixing offsets (one instant written two ways, a UTC
    time on the China date before), ties broken by site, inspection and place."""
    keyed = [
        ("2020-09-25T09:00:00+08:00", "S2", "I1", 0, "a"),
        ("2020-09-25T08:00:00+08:00", "S9", "I2", 1, "b"),
        ("2020-09-25T08:00:00+08:00", "S9", "I2", 0, "c"),
        ("2020-09-25T08:00:00+08:00", "S1", "I3", 0, "d"),
        ("2020-09-26T10:00:00+08:00", "S1", "I4", 0, "e"),
        ("2020-09-26T02:00:00+00:00", "S1", "I5", 0, "f"),  # 10:00 China time, dated the 26th
        ("2020-09-26T01:59:59+00:00", "S3", "I6", 0, "g"),
        ("2020-09-25T23:30:00+00:00", "S3", "I7", 0, "h"),  # the 26th in China, dated the 25th
        ("2020-09-26T10:00:00.5+08:00", "S0", "I8", 0, "i"),
        ("0999-01-01T10:00:00+08:00", "S0", "I9", 0, "j"),  # strftime leaves the year unpadded
    ]
    assert _number("YH", keyed) == _number_plainly("YH", keyed)
    assert _number("YH", keyed[:4]) == {
        "d": "YH-20200925-001",
        "c": "YH-20200925-002",
        "b": "YH-20200925-003",
        "a": "YH-20200925-004",
    }


FIELDS = (
    "sites_inspected",
    "found",
    "found_major",
    "rectified",
    "closed",
    "overdue",
    "major_open",
    "rate",
    "close_rate",
)


@pytest.mark.parametrize(
    "scope", [Scope(), Scope(county="平定县"), Scope(group="第一帮扶督导组")], ids=str
)
def test_one_tally_by_pack_gives_each_pack_s_total(
    friday_ledger: Ledger, campaign_packs: list[RulePack], scope: Scope
) -> None:
    """The Friday phases read a pack's row of the tally by pack: the total of the tally
    narrowed to that pack, as they computed it before."""
    proj = friday_ledger.state_at(W4)
    index = PackIndex(campaign_packs)
    by_pack = tallies_of(gather(proj, index, scope, W4), index, ("pack",))["pack"]
    for pack_id in index.in_force:
        narrowed = tally(proj, index, W4, "pack", scope=Scope(scope.county, scope.group, pack_id))
        row = by_pack.figures_of(pack_key(index, pack_id))
        if row is None:
            assert narrowed.total.found == 0 and narrowed.total.sites_inspected == 0
            continue
        assert [getattr(row, k) for k in FIELDS] == [getattr(narrowed.total, k) for k in FIELDS]


def test_tallies_of_equals_one_tally_per_dimension(
    friday_ledger: Ledger, campaign_packs: list[RulePack]
) -> None:
    """One pass over every dimension gives each dimension's tally, rows and total."""
    proj = friday_ledger.state_at(W4)
    index = PackIndex(campaign_packs)
    together = tallies_of(gather(proj, index, Scope(), W4), index, tuple(DIMENSIONS))
    for by in DIMENSIONS:
        alone = tally(proj, index, W4, by)
        assert together[by].table() == alone.table(), by
        assert together[by].as_json() == alone.as_json(), by
