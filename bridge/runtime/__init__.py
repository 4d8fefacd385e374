"""The worker runtime: an asyncio node whose producers run jobs as an Elixir node would.

``node`` owns connections and lifecycle; ``producer`` fetches per queue; ``executor``
runs one job (loop, thread pool or process pool); ``acker`` writes acks in batches without
losing one; ``notifier`` listens; ``peer`` elects; ``plugins`` stage, rescue and prune.
"""
