defmodule BridgeHarness.EchoWorker do
  @moduledoc """
  Test worker; behaviour chosen by `args["mode"]`:
  ok | ok_value | error | raise | snooze | cancel | discard | sleep.
  """
  use Oban.Worker, queue: :default

  alias BridgeHarness.{Repo, Term}

  @impl Oban.Worker
  def perform(%Oban.Job{args: args} = job) do
    case args["mode"] do
      "ok" ->
        :ok

      "ok_value" ->
        value = Term.from_json(args["value"])
        if args["record"] == true, do: record(job, value)
        {:ok, value}

      "error" ->
        {:error, args["reason"] || "boom"}

      "raise" ->
        raise ArgumentError, "kaboom"

      "snooze" ->
        {:snooze, args["seconds"] || 30}

      "cancel" ->
        {:cancel, args["reason"] || "nope"}

      # deprecated in favour of {:cancel, reason} but still handled by 2.18 and 2.23:
      # the job ends discarded with an Oban.PerformError
      "discard" ->
        {:discard, args["reason"] || "nope"}

      "sleep" ->
        Process.sleep(args["ms"] || 1000)
        :ok

      other ->
        {:error, "unknown mode #{inspect(other)}"}
    end
  end

  # What Oban Pro's recorded workers write: meta.recorded / meta.return
  defp record(job, value) do
    encoded = value |> :erlang.term_to_binary([:compressed]) |> Base.encode64(padding: false)
    merge_meta(job, %{"recorded" => true, "return" => encoded})
  end

  @doc false
  def merge_meta(%Oban.Job{id: id} = job, map) do
    Repo.query!(
      "UPDATE #{quoted_prefix(job)}.oban_jobs SET meta = meta || $1::jsonb WHERE id = $2",
      [map, id]
    )
  end

  @doc false
  def quoted_prefix(job) do
    prefix =
      case Map.get(job, :conf) do
        %{prefix: prefix} when is_binary(prefix) -> prefix
        _ -> "public"
      end

    ~s("#{String.replace(prefix, ~s("), ~s(""))}")
  end
end

defmodule BridgeHarness.TimeoutWorker do
  @moduledoc "Times out after 100 ms (`timeout/1`); sleeps `args[\"ms\"]` (default 1000)."
  use Oban.Worker, queue: :default

  @impl Oban.Worker
  def timeout(_job), do: 100

  @impl Oban.Worker
  def perform(%Oban.Job{args: args}) do
    Process.sleep(args["ms"] || 1000)
    :ok
  end
end

defmodule BridgeHarness.RecordReader do
  @moduledoc "Reads another job's recorded meta.return, decodes it [:safe], stores inspect text."
  use Oban.Worker, queue: :default

  alias BridgeHarness.{EchoWorker, Repo}

  @impl Oban.Worker
  def perform(%Oban.Job{args: %{"job_id" => job_id}} = job) do
    %{rows: [[meta]]} =
      Repo.query!(
        "SELECT meta FROM #{EchoWorker.quoted_prefix(job)}.oban_jobs WHERE id = $1",
        [job_id]
      )

    text = Map.fetch!(meta, "return")

    term =
      text
      |> String.trim_trailing("=")
      |> Base.decode64!(padding: false)
      |> :erlang.binary_to_term([:safe])

    EchoWorker.merge_meta(job, %{
      "decoded_inspect" => inspect(term, limit: :infinity, printable_limit: :infinity)
    })

    :ok
  end
end
