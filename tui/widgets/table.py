"""A :class:`~textual.widgets.DataTable` for long lists laid out in fixed-width columns.

DataTable's cost per row, not its drawing, made the site list slow at city scale (20,000 sites:
the list took 2.5-2.9 s to appear, and every filter or search that brought the rows back paid
most of it again):

* On its next idle, DataTable measures every cell of every new row (``_update_dimensions``)
  to size auto-width columns: 100,000 cells made into Rich text and measured, 1.7-1.9 s. For a
  column with a fixed ``width`` the measure is never used: the column is drawn ``width`` cells
  wide whatever it holds (``Column.get_render_width``).
* ``add_rows`` calls ``add_row`` for each row, and each call sets the cursor again (a reactive
  with watchers) and works out the column order again: about 20 µs a row, 0.4 s.

:class:`FixedTable` skips the measuring when it cannot change anything (every column has a fixed
width and the new rows are one line high, with no label) and adds a batch of rows with the
bookkeeping of ``add_row`` done once per batch. Cells are still formatted and drawn by
DataTable, only for the rows on screen, so what is shown and how the keys behave are DataTable's.

Relies on private parts of Textual 8.2.8 (pinned in pyproject): ``_update_dimensions`` and the
row bookkeeping that ``add_row`` keeps. ``tests/tui/test_fixed_table.py`` checks the table's
state and layout against a plain DataTable's, so an upgrade that changes them fails there.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import zip_longest

from textual.widgets import DataTable
from textual.widgets.data_table import Row, RowKey


class FixedTable(DataTable[str]):
    """A DataTable of one-line rows in fixed-width columns that is cheap per row."""

    def add_rows(self, rows: Iterable[Iterable[str]]) -> list[RowKey]:
        """Add rows at the bottom, as :meth:`DataTable.add_rows` does (generated keys, height 1,
        no label), doing the per-table part of ``add_row`` once for the whole batch."""
        batch = iter(rows)
        first = next(batch, None)
        if first is None:
            return []
        # The first row goes through DataTable: on an empty table it brings the cursor up.
        keys = [self.add_row(*first)]
        columns = [column.key for column in self.ordered_columns]
        locations, data, table_rows, new_rows = (
            self._row_locations,
            self._data,
            self.rows,
            self._new_rows,
        )
        index = len(table_rows)
        try:
            for cells in batch:
                values = tuple(cells)
                if len(values) > len(columns):
                    raise ValueError("More values provided than there are columns.")
                key = RowKey()
                locations[key] = index
                data[key] = dict(zip_longest(columns, values))
                table_rows[key] = Row(key, 1)
                new_rows.add(key)
                keys.append(key)
                index += 1
        finally:
            if len(keys) > 1:
                self._require_update_dimensions = True
                self.cursor_coordinate = self.cursor_coordinate  # clamped, as add_row does
                self._update_count += 1
                self.check_idle()
        return keys

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        keys = list(new_rows)
        if self._needs_measuring(keys):
            super()._update_dimensions(keys)
        else:
            super()._update_dimensions(())  # the virtual size from the column widths alone

    def _needs_measuring(self, keys: list[RowKey]) -> bool:
        """Whether measuring the rows ``keys`` could change a column width or a row height."""
        if any(column.auto_width for column in self.columns.values()):
            return True
        rows = self.rows
        for key in keys:
            row = rows.get(key)
            if row is not None and (row.label is not None or row.auto_height):
                return True
        return False
