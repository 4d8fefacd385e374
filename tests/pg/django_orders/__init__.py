"""A one-model Django app for tests/pg/test_contrib_django.py: its migration creates the
``orders`` table and, through ``ObanMigration``, Oban's schema."""
