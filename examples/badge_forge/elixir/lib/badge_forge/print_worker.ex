defmodule BadgeForge.PrintWorker do
  @moduledoc """
  "Prints" a badge rendered by the Python worker: checks the SVG against the checksum
  Python sent, measures it, and records the result so that any node — Elixir or Python
  (`client.wait(job_id)`) — can read it back.

  Enqueued from Python as `"BadgeForge.PrintWorker"` on queue `print`, with args
  `badge_id`, `name`, `path`, `svg` (the file's content) and `sha256`.
  """
  use Oban.Worker, queue: :print, max_attempts: 3

  alias BadgeForge.Repo

  @impl Oban.Worker
  def perform(%Oban.Job{args: %{"svg" => svg, "sha256" => expected} = args} = job) do
    digest = :crypto.hash(:sha256, svg) |> Base.encode16(case: :lower)

    if digest != expected do
      {:cancel, "checksum mismatch: Python sent #{expected}, the SVG hashes to #{digest}"}
    else
      value = %{
        "badge_id" => args["badge_id"],
        "name" => args["name"],
        "path" => args["path"],
        "bytes" => byte_size(svg),
        "sha256" => digest,
        "elements" => ~r/<[a-zA-Z]/ |> Regex.scan(svg) |> length(),
        "printed_by" =>
          "BadgeForge.PrintWorker on Oban #{oban_version()} / Elixir #{System.version()}",
        "status" => :printed
      }

      record(job, value)
      {:ok, value}
    end
  end

  # What Oban Pro's recorded workers write (and what bridge's `Record` writes from Python):
  # meta.recorded = true, meta.return = unpadded base64 of term_to_binary(value, [:compressed]).
  defp record(%Oban.Job{id: id}, value) do
    encoded = value |> :erlang.term_to_binary([:compressed]) |> Base.encode64(padding: false)

    Repo.query!(
      "UPDATE oban_jobs SET meta = meta || $1::jsonb WHERE id = $2",
      [%{"recorded" => true, "return" => encoded}, id]
    )
  end

  def oban_version, do: :oban |> Application.spec(:vsn) |> to_string()
end
