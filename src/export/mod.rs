//! Exports of the classified catalogue: SQLite and JSON Lines.
