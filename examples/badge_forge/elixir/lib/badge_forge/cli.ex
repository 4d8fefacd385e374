defmodule BadgeForge.CLI do
  @moduledoc """
  `mix badge_forge [--count N] [--timeout SECONDS]`.

  Enqueues N badge jobs for the Python worker `badge_forge.generator.GenerateBadge`
  (queue `badges`), then serves the `print` queue until stdin closes or the timeout passes.
  Meanwhile it reads each badge job's recorded output (the `Record(...)` the Python worker
  returned) back as an Erlang term.

  stdout carries one JSON object per line, for the Python driver (`run.py`):

      {"enqueued": [ids], "oban_version": "2.23.1", "elixir": "1.18.4", "otp": "27"}
      {"badge_job": id, "state": "completed", "recorded": "<inspect of the decoded term>"}

  Logs and Mix output go to stderr.
  """

  require Logger

  alias BadgeForge.Repo

  @python_worker "badge_forge.generator.GenerateBadge"

  @people [
    {"Ada Lovelace", "Analyst"},
    {"José Valim", "Language designer"},
    {"Grace Hopper", "Rear admiral"},
    {"Edsger Dijkstra", "Shortest paths"},
    {"Barbara Liskov", "Substitution"}
  ]

  def main(args) do
    {opts, _rest, invalid} =
      OptionParser.parse(args, strict: [count: :integer, timeout: :integer])

    if invalid != [], do: fail!("unknown options: #{inspect(invalid)}")
    count = Keyword.get(opts, :count, 3)
    timeout_s = Keyword.get(opts, :timeout, 120)

    ids =
      for {{name, role}, n} <- @people |> Stream.cycle() |> Enum.take(count) |> Enum.with_index(1) do
        # The Python worker exists only in Python: Elixir names it by its string.
        {:ok, job} =
          %{badge_id: n, name: name, role: role}
          |> Oban.Job.new(worker: @python_worker, queue: :badges)
          |> Oban.insert()

        job.id
      end

    Logger.info(
      "badge_forge: enqueued #{count} badge job(s) for #{@python_worker}: #{inspect(ids)}"
    )

    emit(%{
      "enqueued" => ids,
      "oban_version" => BadgeForge.PrintWorker.oban_version(),
      "elixir" => System.version(),
      "otp" => to_string(:erlang.system_info(:otp_release))
    })

    deadline = System.monotonic_time(:millisecond) + timeout_s * 1000
    Task.start(fn -> read_back(ids, deadline) end)

    parent = self()

    Task.start(fn ->
      # returns at EOF (or a read error): the driver is done with us
      Stream.run(IO.stream(:stdio, :line))
      send(parent, :stdin_closed)
    end)

    receive do
      :stdin_closed -> Logger.info("badge_forge: stdin closed, stopping")
    after
      timeout_s * 1000 -> Logger.warning("badge_forge: #{timeout_s} s passed, stopping")
    end

    # graceful: Oban lets running print jobs finish before the app stops
    Application.stop(:badge_forge)
  end

  # Elixir reading what Python recorded: meta.return is ETF, decoded with [:safe].
  defp read_back([], _deadline), do: :ok

  defp read_back([id | rest] = ids, deadline) do
    case Repo.get(Oban.Job, id) do
      %Oban.Job{state: state, meta: meta} when state in ~w(completed discarded cancelled) ->
        recorded =
          case meta do
            %{"recorded" => true, "return" => text} ->
              text
              |> String.trim_trailing("=")
              |> Base.decode64!(padding: false)
              |> :erlang.binary_to_term([:safe])
              |> inspect(limit: :infinity, printable_limit: :infinity)

            _ ->
              nil
          end

        emit(%{"badge_job" => id, "state" => state, "recorded" => recorded})
        read_back(rest, deadline)

      _ ->
        if System.monotonic_time(:millisecond) < deadline do
          Process.sleep(100)
          read_back(ids, deadline)
        else
          Logger.warning("badge_forge: badge job #{id} did not finish in time")
        end
    end
  end

  defp emit(map), do: IO.puts(Jason.encode!(map))

  defp fail!(message) do
    IO.puts(:stderr, "badge_forge: " <> message)
    System.halt(1)
  end
end
