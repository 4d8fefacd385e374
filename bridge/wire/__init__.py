"""The pure wire core: stdlib only, no psycopg, no asyncio, no clock, no randomness."""
