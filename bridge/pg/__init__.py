"""The only package that imports psycopg: drivers and the sync/async clients."""
