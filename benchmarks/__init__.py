"""Benchmarks: scripts that print figures. Run them directly, e.g. `python benchmarks/chat_relay.py`."""
