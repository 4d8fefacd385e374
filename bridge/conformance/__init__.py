"""The oban-bridge conformance suite: the same scenarios against a live Elixir Oban and bridge.

Scenarios are data (``conformance/scenarios/*.json``, one behaviour per file,
stable ids). The runner acts on both sides over one PostgreSQL database and
asserts on rows, NOTIFY payloads and recorded output. ``record`` saves what the
live Elixir side did; ``--offline`` replays those vectors so a machine without
Elixir still checks the Python side. See ``conformance/README.md``. The data (scenarios,
vectors, the Elixir harness) is the repository's ``conformance/`` folder, shipped inside the
wheel as ``bridge._conformance`` (``bridge._resources.conformance_dir``).
"""
