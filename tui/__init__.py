"""The inspector's terminal app (Textual). It calls ``inspect_engine``, never the other way."""
