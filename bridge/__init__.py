"""oban-bridge: share one PostgreSQL database with Elixir Oban nodes."""
