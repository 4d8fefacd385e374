"""The Python half of the badge_forge example (see ../README.md)."""
