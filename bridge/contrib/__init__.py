"""Framework integrations, each an optional extra: ``bridge.contrib.django``,
``bridge.contrib.sqlalchemy``.

Nothing here is imported by ``import bridge``; each module imports its framework and says
which extra to install when it is missing. How to use them: ``docs/frameworks.md``.
"""
