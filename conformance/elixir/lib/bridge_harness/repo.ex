defmodule BridgeHarness.Repo do
  use Ecto.Repo, otp_app: :bridge_harness, adapter: Ecto.Adapters.Postgres

  @doc "Turns a postgres:// URL into Repo options (user, password, host, port, database)."
  def opts_from_url(url) when is_binary(url) do
    uri = URI.parse(url)

    unless uri.scheme in ["postgres", "postgresql", "ecto"] do
      raise ArgumentError, "DATABASE_URL must be a postgres:// URL, got: #{inspect(url)}"
    end

    {user, pass} =
      case uri.userinfo do
        nil ->
          {nil, nil}

        info ->
          case String.split(info, ":", parts: 2) do
            [u] -> {URI.decode(u), nil}
            [u, p] -> {URI.decode(u), URI.decode(p)}
          end
      end

    database =
      case uri.path do
        "/" <> db when db != "" -> URI.decode(db)
        _ -> raise ArgumentError, "DATABASE_URL has no database name: #{inspect(url)}"
      end

    [
      hostname: if(uri.host in [nil, ""], do: "127.0.0.1", else: uri.host),
      port: uri.port || 5432,
      username: user || System.get_env("USER") || "postgres",
      password: pass,
      database: database,
      pool_size: 10,
      log: false
    ]
    |> Enum.reject(fn {_k, v} -> is_nil(v) end)
  end
end
