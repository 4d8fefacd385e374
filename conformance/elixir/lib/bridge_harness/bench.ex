defmodule BridgeHarness.NoopWorker do
  @moduledoc "Benchmark worker: does nothing and returns `:ok`."
  use Oban.Worker, queue: :bench

  @impl Oban.Worker
  def perform(%Oban.Job{}), do: :ok
end

defmodule BridgeHarness.Bench do
  @moduledoc """
  The `bench` command: how long this Oban instance takes to work `count` jobs that are
  already `available` in `queue` (benchmarks/bench_runtime.py inserts them, with worker
  `BridgeHarness.NoopWorker`).

  The queue is started with `limit` on this node only; once its producer exists, the clock
  starts and the producer is told about the jobs (the message the Stager sends in local
  mode), so no stage interval or notification round trip is counted. The clock stops at
  the `count`-th `[:oban, :job, :stop | :exception]` event of the queue: Oban emits it
  after the job's ack (`Engine.complete_job`) returned, so every ack has landed by then.
  The queue is stopped afterwards. Nothing is inserted here.
  """

  @events [[:oban, :job, :stop], [:oban, :job, :exception]]

  def run(name, req) do
    queue = Map.get(req, "queue", "bench")
    limit = Map.fetch!(req, "limit")
    count = Map.fetch!(req, "count")
    timeout = Map.get(req, "timeout_ms", 600_000)

    unless is_integer(limit) and limit > 0 and is_integer(count) and count > 0 do
      raise ArgumentError, "limit and count must be positive integers"
    end

    # slot 1: finished jobs, slot 2: of which exceptions
    counter = :atomics.new(2, signed: false)
    handler = {__MODULE__, make_ref()}

    config = %{
      name: name,
      queue: queue,
      count: count,
      counter: counter,
      waiter: self(),
      id: handler
    }

    :ok = :telemetry.attach_many(handler, @events, &__MODULE__.handle_event/4, config)

    try do
      :ok = Oban.start_queue(name, queue: queue, limit: limit, local_only: true)
      producer = await_producer(name, queue, System.monotonic_time(:millisecond) + 10_000)

      t0 = System.monotonic_time()
      send(producer, {:notification, :insert, %{"queue" => queue}})

      receive do
        {:bench_done, ^handler, t1} ->
          elapsed_ms = System.convert_time_unit(t1 - t0, :native, :microsecond) / 1000

          %{
            "elapsed_ms" => elapsed_ms,
            "finished" => :atomics.get(counter, 1),
            "exceptions" => :atomics.get(counter, 2),
            "jobs_per_s" => count / max(elapsed_ms, 0.001) * 1000,
            "pool_size" => Keyword.get(BridgeHarness.Repo.config(), :pool_size)
          }
      after
        timeout ->
          raise "bench timeout after #{timeout} ms: #{:atomics.get(counter, 1)}/#{count} finished"
      end
    after
      :telemetry.detach(handler)
      _ = Oban.stop_queue(name, queue: queue, local_only: true)
    end
  end

  @doc false
  def handle_event([:oban, :job, kind], _measure, meta, config) do
    if meta.queue == config.queue and Map.get(meta.conf, :name) == config.name do
      if kind == :exception, do: :atomics.add(config.counter, 2, 1)

      # exactly one process sees the count-th finish
      if :atomics.add_get(config.counter, 1, 1) == config.count do
        send(config.waiter, {:bench_done, config.id, System.monotonic_time()})
      end
    end

    :ok
  end

  defp await_producer(name, queue, deadline) do
    case Oban.Registry.whereis(name, {:producer, queue}) do
      pid when is_pid(pid) ->
        pid

      nil ->
        if System.monotonic_time(:millisecond) > deadline,
          do: raise("queue #{queue} did not start within 10 s")

        Process.sleep(1)
        await_producer(name, queue, deadline)
    end
  end
end
