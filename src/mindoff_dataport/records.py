"""A minimal table of records and a CSV writer.

Spreadsheet and PDF rendering live outside this package's current scope;
this module is the small, dependency-free core they build on.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Table:
    """Rows of records sharing one ordered list of column names."""

    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]]) -> Table:
        """Build a table from mappings; columns keep first-seen order."""
        records = list(records)
        columns: list[str] = []
        for record in records:
            for key in record:
                if key not in columns:
                    columns.append(key)
        rows = [[record.get(name) for name in columns] for record in records]
        return cls(columns=columns, rows=rows)

    def append(self, row: Sequence[Any]) -> None:
        """Add one row; its length must match the columns."""
        if len(row) != len(self.columns):
            raise ValueError(
                f"row has {len(row)} values, table has {len(self.columns)} columns"
            )
        self.rows.append(list(row))

    def __len__(self) -> int:
        return len(self.rows)


def to_csv(table: Table) -> str:
    """Render a table as CSV text with a header line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow(["" if value is None else value for value in row])
    return buffer.getvalue()
