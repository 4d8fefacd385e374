defmodule BridgeHarness.Term do
  @moduledoc """
  The described-term language: a lossless JSON view of Erlang terms.

  JSON → term (`from_json/1`) and term → JSON (`to_json/1`):

    * string ↔ UTF-8 binary; integer ↔ integer (outside the signed 64-bit range the
      term → JSON direction uses `{"$int": "<decimal>"}`); float ↔ float;
      true/false ↔ atoms; null ↔ nil; array ↔ proper list; object ↔ map whose keys
      are all UTF-8 binaries.
    * tagged objects (exactly one key, starting with `$`):
      `$atom`, `$tuple`, `$int`, `$float`, `$bytes` (base64 of a non-UTF-8 binary),
      `$bits` (`{"bytes": b64, "bits": n}`: n = bits used in the last byte, 1..7),
      `$charlist` (a list of integers 0..255, i.e. what the external format writes as
      STRING_EXT), `$map` (`[[k, v], ...]`), `$improper` (`{"items", "tail"}`),
      `$struct` (DateTime / Date / NaiveDateTime with `iso`, Decimal with `value`,
      MapSet with `items`), and decode-only `$pid`, `$ref`, `$fun`, `$port`
      (their `inspect/1` text).
  """

  @tags ~w($atom $tuple $int $float $bytes $bits $charlist $map $improper $struct $pid $ref $fun $port)
  @int64_min -9_223_372_036_854_775_808
  @int64_max 9_223_372_036_854_775_807

  ## JSON -> term

  def from_json(v) when is_binary(v) or is_integer(v) or is_float(v), do: v
  def from_json(v) when is_boolean(v) or is_nil(v), do: v
  def from_json(list) when is_list(list), do: Enum.map(list, &from_json/1)

  def from_json(%{"$struct" => type} = m) when map_size(m) == 2 or map_size(m) == 1,
    do: struct_from_json(type, Map.delete(m, "$struct"))

  def from_json(m) when is_map(m) and map_size(m) == 1 do
    [{k, v}] = Map.to_list(m)

    if k in @tags do
      tagged(k, v)
    else
      %{k => from_json(v)}
    end
  end

  def from_json(m) when is_map(m), do: Map.new(m, fn {k, v} -> {k, from_json(v)} end)

  defp tagged("$atom", name) when is_binary(name), do: String.to_atom(name)

  defp tagged("$tuple", items) when is_list(items),
    do: items |> Enum.map(&from_json/1) |> List.to_tuple()

  defp tagged("$int", s) when is_binary(s), do: String.to_integer(s)
  defp tagged("$int", i) when is_integer(i), do: i

  defp tagged("$float", s) when is_binary(s) do
    case Float.parse(s) do
      {f, ""} -> f
      _ -> raise ArgumentError, "bad $float: #{inspect(s)}"
    end
  end

  defp tagged("$float", n) when is_number(n), do: n / 1
  defp tagged("$bytes", b64) when is_binary(b64), do: b64!(b64)

  defp tagged("$bits", %{"bytes" => b64, "bits" => bits}) when bits in 1..8 do
    bytes = b64!(b64)

    case bytes do
      <<>> ->
        raise ArgumentError, "$bits needs at least one byte"

      _ ->
        size = byte_size(bytes) - 1
        <<prefix::binary-size(size), last>> = bytes
        <<head::size(bits), _::bitstring>> = <<last>>
        <<prefix::binary, head::size(bits)>>
    end
  end

  defp tagged("$charlist", items) when is_list(items) do
    Enum.map(items, fn i when is_integer(i) and i >= 0 -> i end)
  end

  defp tagged("$map", pairs) when is_list(pairs),
    do: Map.new(pairs, fn [k, v] -> {from_json(k), from_json(v)} end)

  defp tagged("$improper", %{"items" => items, "tail" => tail}) when is_list(items),
    do: List.foldr(Enum.map(items, &from_json/1), from_json(tail), &[&1 | &2])

  defp tagged(tag, _v) when tag in ~w($pid $ref $fun $port),
    do: raise(ArgumentError, "#{tag} can only be decoded, not built")

  defp tagged(tag, v), do: raise(ArgumentError, "bad #{tag} value: #{inspect(v)}")

  defp struct_from_json("DateTime", %{"iso" => iso}) do
    case DateTime.from_iso8601(iso) do
      {:ok, dt, _offset} -> dt
      {:error, reason} -> raise ArgumentError, "bad DateTime #{inspect(iso)}: #{reason}"
    end
  end

  defp struct_from_json("NaiveDateTime", %{"iso" => iso}), do: NaiveDateTime.from_iso8601!(iso)
  defp struct_from_json("Date", %{"iso" => iso}), do: Date.from_iso8601!(iso)
  defp struct_from_json("Decimal", %{"value" => v}) when is_binary(v), do: Decimal.new(v)

  defp struct_from_json("MapSet", %{"items" => items}),
    do: MapSet.new(Enum.map(items, &from_json/1))

  defp struct_from_json(type, m),
    do: raise(ArgumentError, "unsupported $struct #{inspect(type)} #{inspect(m)}")

  defp b64!(text) do
    text = String.trim_trailing(text, "=")

    case Base.decode64(text, padding: false) do
      {:ok, bin} -> bin
      :error -> raise ArgumentError, "bad base64: #{inspect(text)}"
    end
  end

  ## term -> JSON

  def to_json(v) when is_binary(v) do
    if String.valid?(v), do: v, else: %{"$bytes" => Base.encode64(v, padding: false)}
  end

  def to_json(v) when is_bitstring(v) do
    bits = rem(bit_size(v), 8)
    whole = div(bit_size(v), 8)
    <<prefix::binary-size(whole), rest::bitstring>> = v
    pad = 8 - bits
    padded = <<prefix::binary, rest::bitstring, 0::size(pad)>>
    %{"$bits" => %{"bytes" => Base.encode64(padded, padding: false), "bits" => bits}}
  end

  def to_json(v) when is_integer(v) and v >= @int64_min and v <= @int64_max, do: v
  def to_json(v) when is_integer(v), do: %{"$int" => Integer.to_string(v)}
  def to_json(v) when is_float(v), do: v
  def to_json(v) when is_boolean(v) or is_nil(v), do: v
  def to_json(v) when is_atom(v), do: %{"$atom" => Atom.to_string(v)}
  def to_json(v) when is_tuple(v), do: %{"$tuple" => v |> Tuple.to_list() |> Enum.map(&to_json/1)}
  def to_json(v) when is_pid(v), do: %{"$pid" => inspect(v)}
  def to_json(v) when is_reference(v), do: %{"$ref" => inspect(v)}
  def to_json(v) when is_function(v), do: %{"$fun" => inspect(v)}
  def to_json(v) when is_port(v), do: %{"$port" => inspect(v)}

  def to_json([]), do: []

  def to_json(v) when is_list(v) do
    case split_improper(v, []) do
      {items, []} ->
        if string_ext?(items),
          do: %{"$charlist" => items},
          else: Enum.map(items, &to_json/1)

      {items, tail} ->
        %{"$improper" => %{"items" => Enum.map(items, &to_json/1), "tail" => to_json(tail)}}
    end
  end

  def to_json(%DateTime{} = dt), do: %{"$struct" => "DateTime", "iso" => DateTime.to_iso8601(dt)}

  def to_json(%NaiveDateTime{} = dt),
    do: %{"$struct" => "NaiveDateTime", "iso" => NaiveDateTime.to_iso8601(dt)}

  def to_json(%Date{} = d), do: %{"$struct" => "Date", "iso" => Date.to_iso8601(d)}

  def to_json(%MapSet{} = s),
    do: %{"$struct" => "MapSet", "items" => s |> MapSet.to_list() |> Enum.map(&to_json/1)}

  def to_json(%{__struct__: Decimal} = d),
    do: %{"$struct" => "Decimal", "value" => Decimal.to_string(d)}

  def to_json(m) when is_map(m) do
    plain? =
      Enum.all?(Map.keys(m), &(is_binary(&1) and String.valid?(&1))) and
        not (map_size(m) == 1 and hd(Map.keys(m)) in @tags) and
        not Map.has_key?(m, "$struct")

    if plain? do
      Map.new(m, fn {k, v} -> {k, to_json(v)} end)
    else
      %{"$map" => m |> Enum.sort() |> Enum.map(fn {k, v} -> [to_json(k), to_json(v)] end)}
    end
  end

  defp split_improper([h | t], acc), do: split_improper(t, [h | acc])
  defp split_improper(tail, acc), do: {Enum.reverse(acc), tail}

  # what :erlang.term_to_binary writes as STRING_EXT
  defp string_ext?(items),
    do: length(items) < 65_536 and Enum.all?(items, &(is_integer(&1) and &1 >= 0 and &1 <= 255))
end
