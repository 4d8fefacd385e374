defmodule BridgeHarness.JSON do
  @moduledoc "JSON views of Oban structs and plain data for protocol replies."

  @job_fields ~w(id state queue worker args meta tags errors attempt attempted_by max_attempts
                 priority inserted_at scheduled_at attempted_at completed_at discarded_at
                 cancelled_at)a

  def job(nil), do: nil

  def job(%Oban.Job{} = job) do
    @job_fields
    |> Map.new(fn field -> {Atom.to_string(field), plain(Map.get(job, field))} end)
    |> Map.put("conflict?", Map.get(job, :conflict?, false))
  end

  @doc "Data → something Jason can encode (DateTimes as ISO-8601, atoms as strings)."
  def plain(%DateTime{} = dt), do: DateTime.to_iso8601(dt)
  def plain(%NaiveDateTime{} = dt), do: NaiveDateTime.to_iso8601(dt)
  def plain(%Date{} = d), do: Date.to_iso8601(d)
  def plain(%{__struct__: _} = s), do: inspect(s)
  def plain(m) when is_map(m), do: Map.new(m, fn {k, v} -> {key(k), plain(v)} end)
  def plain(l) when is_list(l), do: Enum.map(l, &plain/1)
  def plain(t) when is_tuple(t), do: t |> Tuple.to_list() |> plain()
  def plain(v) when is_boolean(v) or is_nil(v), do: v
  def plain(a) when is_atom(a), do: Atom.to_string(a)
  def plain(b) when is_binary(b), do: if(String.valid?(b), do: b, else: inspect(b))
  def plain(v) when is_number(v), do: v
  def plain(other), do: inspect(other)

  defp key(k) when is_binary(k), do: k
  defp key(k) when is_atom(k), do: Atom.to_string(k)
  defp key(k), do: inspect(k)

  def encode!(term), do: Jason.encode!(term, escape: :unicode_safe)
end
