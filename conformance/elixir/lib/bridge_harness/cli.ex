defmodule BridgeHarness.CLI do
  @moduledoc """
  The line protocol: one JSON request per stdin line, one JSON reply per stdout line.
  See README.md for the command table.
  """

  require Logger

  alias BridgeHarness.{JSON, Recorder, Repo, Term}

  @default_name Oban

  def main(_args \\ []) do
    url =
      System.get_env("DATABASE_URL") ||
        fail!("DATABASE_URL is not set")

    # Into the app env (not only start_link opts): Oban's Postgres notifier opens its own
    # connection from Repo.config(), which reads the app env.
    repo_opts =
      :bridge_harness
      |> Application.get_env(Repo, [])
      |> Keyword.merge(Repo.opts_from_url(url))

    Application.put_env(:bridge_harness, Repo, repo_opts)

    case Supervisor.start_child(BridgeHarness.Supervisor, {Repo, []}) do
      {:ok, _} -> :ok
      {:error, {:already_started, _}} -> :ok
      {:error, reason} -> fail!("could not start the Repo: #{inspect(reason)}")
    end

    # Load every Oban and harness module now: option values (unique states, fields, ...)
    # are turned into atoms with String.to_existing_atom/1, which needs them loaded.
    for app <- [:oban, :bridge_harness],
        mod <- Application.spec(app, :modules) || [],
        do: Code.ensure_loaded(mod)

    # Fail fast (on stderr) if the database cannot be reached.
    Repo.query!("SELECT 1")

    emit(Map.put(versions(), "ready", true) |> rename_oban_key())

    state = %{name: @default_name, prefix: "public", pid: nil}
    state = loop(state)
    shutdown(state)
  end

  defp rename_oban_key(%{"oban" => v} = m),
    do: m |> Map.delete("oban") |> Map.put("oban_version", v)

  defp fail!(msg) do
    IO.puts(:stderr, "bridge_harness: " <> msg)
    System.halt(1)
  end

  defp loop(state) do
    case IO.read(:stdio, :line) do
      :eof ->
        state

      {:error, reason} ->
        Logger.error("stdin error: #{inspect(reason)}")
        state

      line ->
        case String.trim(line) do
          "" -> loop(state)
          text -> text |> handle_line(state) |> loop()
        end
    end
  end

  defp handle_line(text, state) do
    case Jason.decode(text) do
      {:ok, %{"cmd" => cmd} = req} ->
        id = Map.get(req, "id")

        {reply, state} =
          try do
            {result, state} = command(cmd, req, state)
            {%{"id" => id, "ok" => true, "result" => result}, state}
          rescue
            e -> {%{"id" => id, "ok" => false, "error" => one_line(Exception.message(e))}, state}
          catch
            kind, reason ->
              {%{"id" => id, "ok" => false, "error" => one_line("#{kind}: #{inspect(reason)}")},
               state}
          end

        emit(reply)
        state

      {:ok, other} ->
        emit(%{
          "id" => is_map(other) && Map.get(other, "id"),
          "ok" => false,
          "error" => "missing cmd"
        })

        state

      {:error, e} ->
        emit(%{
          "id" => nil,
          "ok" => false,
          "error" => one_line("bad JSON: " <> Exception.message(e))
        })

        state
    end
  end

  defp one_line(text), do: text |> String.replace(~r/\s*\n\s*/, " ") |> String.trim()

  defp emit(map) do
    IO.write(:stdio, [JSON.encode!(map), "\n"])
  end

  defp shutdown(%{pid: pid}) when is_pid(pid) do
    _ = DynamicSupervisor.terminate_child(BridgeHarness.ObanSup, pid)
    :ok
  end

  defp shutdown(_state), do: :ok

  ## Commands

  defp command("version", _req, state), do: {versions(), state}

  defp command("migrate", req, state) do
    prefix = Map.get(req, "prefix", "public")
    direction = Map.get(req, "direction", "up")

    opts =
      [prefix: prefix]
      |> maybe_put(:version, req["version"])

    opts =
      case Map.fetch(req, "create_schema") do
        {:ok, v} when is_boolean(v) -> Keyword.put(opts, :create_schema, v)
        _ -> opts
      end

    fun =
      case direction do
        "up" -> :up
        "down" -> :down
        other -> raise ArgumentError, "direction must be up or down, got #{inspect(other)}"
      end

    :persistent_term.put(BridgeHarness.Migration, {fun, opts})
    version = System.system_time(:microsecond)

    case Ecto.Migrator.up(Repo, version, BridgeHarness.Migration, log: false) do
      :ok -> :ok
      other -> raise "migration returned #{inspect(other)}"
    end

    {%{
       "migrated_version" => table_comment(prefix),
       "oban_migrated_version" => oban_migrated_version(prefix)
     }, state}
  end

  defp command("start", req, state) do
    name = oban_name(req)
    prefix = Map.get(req, "prefix", "public")
    node = Map.get(req, "node", "harness-1")

    queues =
      req
      |> Map.get("queues", %{})
      |> Enum.map(fn
        {q, limit} when is_integer(limit) ->
          {String.to_atom(q), limit}

        {q, %{} = qopts} ->
          {String.to_atom(q), Enum.map(qopts, fn {k, v} -> {queue_opt_key(k), v} end)}
      end)

    peer =
      if Code.ensure_loaded?(Oban.Peers.Database),
        do: Oban.Peers.Database,
        else: Oban.Peers.Postgres

    opts =
      [
        name: name,
        repo: Repo,
        prefix: prefix,
        node: node,
        queues: queues,
        engine: Oban.Engines.Basic,
        notifier: Oban.Notifiers.Postgres,
        peer: peer,
        testing: :disabled,
        plugins: []
      ]
      |> then(fn opts ->
        if Map.get(req, "stager", true) == false,
          do: Keyword.put(opts, :stage_interval, :infinity),
          else: opts
      end)
      |> then(fn opts ->
        case req["shutdown_grace_period"] do
          ms when is_integer(ms) -> Keyword.put(opts, :shutdown_grace_period, ms)
          _ -> opts
        end
      end)

    t0 = System.monotonic_time(:millisecond)

    pid =
      case DynamicSupervisor.start_child(BridgeHarness.ObanSup, {Oban, opts}) do
        {:ok, pid} ->
          pid

        {:error, {:already_started, _}} ->
          raise "an Oban named #{inspect(name)} is already running"

        {:error, reason} ->
          raise "Oban failed to start: #{inspect(reason)}"
      end

    :ok = Recorder.listen(name)

    # Oban's notifier connects asynchronously. Unless told not to, wait (up to wait_ms)
    # until this node's own first sonar ping comes back: then LISTEN is in place and a
    # foreign NOTIFY sent after `start` returns cannot be missed.
    wait_ms = Map.get(req, "wait_ms", 6000)
    listening? = wait_ms > 0 and Recorder.await_sonar(node, t0, wait_ms)

    {%{
       "started" => true,
       "ident" => "#{inspect(name)}.#{node}",
       "listening" => listening?,
       "startup_ms" => System.monotonic_time(:millisecond) - t0
     }, %{state | name: name, prefix: prefix, pid: pid}}
  end

  defp command("stop", req, state) do
    name = oban_name(req, state)

    pid =
      if state.pid && name == state.name,
        do: state.pid,
        else: Oban.whereis(name)

    result =
      case pid && DynamicSupervisor.terminate_child(BridgeHarness.ObanSup, pid) do
        :ok -> "ok"
        nil -> raise "no running Oban named #{inspect(name)}"
        {:error, reason} -> raise "stop failed: #{inspect(reason)}"
      end

    {result, if(name == state.name, do: %{state | pid: nil}, else: state)}
  end

  defp command("insert", req, state) do
    changeset = build_changeset(req)

    case Oban.insert(oban_name(req, state), changeset) do
      {:ok, job} -> {%{"job" => JSON.job(job)}, state}
      {:error, %Ecto.Changeset{} = cs} -> raise "invalid changeset: #{inspect(cs.errors)}"
      {:error, reason} -> raise "insert failed: #{inspect(reason)}"
    end
  end

  defp command("insert_all", req, state) do
    changesets = Enum.map(Map.fetch!(req, "jobs"), &build_changeset/1)
    jobs = Oban.insert_all(oban_name(req, state), changesets)
    {%{"jobs" => Enum.map(jobs, &JSON.job/1)}, state}
  end

  defp command(cmd, req, state)
       when cmd in ~w(pause_queue resume_queue scale_queue start_queue stop_queue) do
    opts = queue_opts(req)
    result = apply(Oban, String.to_existing_atom(cmd), [oban_name(req, state), opts])
    {ok_or_inspect(result), state}
  end

  defp command(cmd, req, state) when cmd in ~w(pause_all_queues resume_all_queues) do
    opts = queue_opts(req)
    result = apply(Oban, String.to_existing_atom(cmd), [oban_name(req, state), opts])
    {ok_or_inspect(result), state}
  end

  defp command("check_queue", req, state) do
    {queue_check(oban_name(req, state), Map.fetch!(req, "queue")), state}
  end

  # signals.* scenarios: a signal is handled asynchronously by the producer (after the
  # notifier relays it), so poll its check until it shows what the scenario expects
  defp command("wait_queue", req, state) do
    queue = Map.fetch!(req, "queue")
    deadline = System.monotonic_time(:millisecond) + Map.get(req, "timeout_ms", 5000)
    {wait_queue(oban_name(req, state), queue, Map.get(req, "until"), deadline), state}
  end

  defp command("sonar_status", req, state) do
    name = oban_name(req, state)
    deadline = System.monotonic_time(:millisecond) + Map.get(req, "wait_ms", 0)
    {await_sonar_node(name, Map.get(req, "wait_for"), deadline), state}
  end

  defp command("met_checks", req, state) do
    if Code.ensure_loaded?(Oban.Met) and function_exported?(Oban.Met, :checks, 1) do
      name = oban_name(req, state)
      now = System.monotonic_time(:millisecond)
      # oban_met starts its Examiner for an instance after Oban's [:oban, :supervisor, :init]
      # event, asynchronously: give it up to 5 s to appear, whatever wait_ms says
      :ok = await_examiner(name, now + 5000)
      deadline = now + Map.get(req, "wait_ms", 0)
      {%{"checks" => await_met_checks(name, req, deadline)}, state}
    else
      {nil, state}
    end
  end

  defp command("cancel_job", req, state) do
    {ok_or_inspect(Oban.cancel_job(oban_name(req, state), Map.fetch!(req, "job_id"))), state}
  end

  defp command("retry_job", req, state) do
    {ok_or_inspect(Oban.retry_job(oban_name(req, state), Map.fetch!(req, "job_id"))), state}
  end

  defp command("get_job", req, state) do
    {JSON.job(get_job(req, state)), state}
  end

  defp command("wait_job", req, state) do
    states = Map.get(req, "states", ["completed"])
    timeout = Map.get(req, "timeout_ms", 5000)
    deadline = System.monotonic_time(:millisecond) + timeout
    {wait_job(req, state, states, deadline), state}
  end

  # runtime.* scenarios: many jobs at once, and the peer election seen from this node
  defp command("wait_jobs", req, state) do
    states = Map.get(req, "states", ["completed"])
    deadline = System.monotonic_time(:millisecond) + Map.get(req, "timeout_ms", 10_000)
    ids = Map.fetch!(req, "job_ids")
    {%{"jobs" => Enum.map(ids, &wait_job(Map.put(req, "job_id", &1), state, states, deadline))},
     state}
  end

  defp command("peers", req, state) do
    name = oban_name(req, state)
    deadline = System.monotonic_time(:millisecond) + Map.get(req, "wait_ms", 0)
    {%{"leader" => await_leader(name, deadline), "rows" => peer_rows(state.prefix)}, state}
  end

  defp command("notifications", req, state) do
    msgs = Recorder.messages(Map.get(req, "clear", false))
    {Enum.map(msgs, &JSON.plain/1), state}
  end

  defp command("decode_recorded", req, state) do
    text = req |> Map.fetch!("text") |> String.trim() |> String.trim_trailing("=")
    term = text |> Base.decode64!(padding: false) |> :erlang.binary_to_term([:safe])

    {%{
       "inspect" => inspect(term, limit: :infinity, printable_limit: :infinity),
       "json" => Term.to_json(term)
     }, state}
  end

  defp command("term_to_binary", req, state) do
    term = Term.from_json(Map.fetch!(req, "term"))

    opts =
      []
      |> then(&if(req["compressed"] == true, do: [:compressed | &1], else: &1))
      |> then(fn opts ->
        case req["minor_version"] do
          nil -> opts
          n when n in [0, 1, 2] -> opts ++ [{:minor_version, n}]
        end
      end)

    bin = :erlang.term_to_binary(term, opts)

    {%{
       "base64" => Base.encode64(bin, padding: false),
       "hex" => Base.encode16(bin, case: :lower),
       "inspect" => inspect(term, limit: :infinity, printable_limit: :infinity)
     }, state}
  end

  defp command("bench", req, state),
    do: {BridgeHarness.Bench.run(oban_name(req, state), req), state}

  defp command(other, _req, _state), do: raise(ArgumentError, "unknown cmd #{inspect(other)}")

  ## Helpers

  defp versions do
    %{
      "oban" => to_string(Application.spec(:oban, :vsn)),
      "elixir" => System.version(),
      "otp" => System.otp_release()
    }
  end

  defp oban_name(req, state \\ %{name: @default_name}) do
    case Map.get(req, "name") do
      nil -> state.name
      name when is_binary(name) -> Module.concat([name])
    end
  end

  defp table_comment(prefix) do
    %{rows: rows} =
      Repo.query!(
        """
        SELECT pg_catalog.obj_description(c.oid, 'pg_class')
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relname = 'oban_jobs' AND n.nspname = $1
        """,
        [prefix]
      )

    case rows do
      [[nil]] ->
        nil

      [[text]] ->
        case Integer.parse(text) do
          {n, ""} -> n
          _ -> text
        end

      [] ->
        nil
    end
  end

  # What Oban itself reads back (2.18.3: pg_description join; 2.23.x: obj_description)
  defp oban_migrated_version(prefix) do
    Oban.Migrations.Postgres.migrated_version(repo: Repo, prefix: prefix)
  rescue
    e -> "error: " <> one_line(Exception.message(e))
  end

  defp get_job(req, state) do
    prefix = Map.get(req, "prefix", state.prefix)
    Repo.get(Oban.Job, Map.fetch!(req, "job_id"), prefix: prefix)
  end

  defp wait_job(req, state, states, deadline) do
    job = get_job(req, state)

    cond do
      job && job.state in states ->
        JSON.job(job)

      System.monotonic_time(:millisecond) >= deadline ->
        raise "timeout (last state: #{if job, do: job.state, else: "missing"})"

      true ->
        Process.sleep(20)
        wait_job(req, state, states, deadline)
    end
  end

  defp queue_check(name, queue) do
    case Oban.check_queue(name, queue: queue) do
      %{} = m -> %{"paused" => m.paused, "limit" => m.limit, "running" => m.running}
      nil -> nil
    end
  rescue
    # 2.18.3 raises once the queue's producer is gone; 2.23.x returns nil
    ArgumentError -> nil
  catch
    :exit, _ -> nil
  end

  # `until`: a map whose keys must equal the check's, or nil for "this node runs no such queue"
  defp wait_queue(name, queue, until, deadline) do
    check = queue_check(name, queue)

    matched? =
      case {until, check} do
        {nil, nil} -> true
        {%{} = want, %{} = have} -> Enum.all?(want, fn {k, v} -> Map.get(have, k) == v end)
        _ -> false
      end

    cond do
      matched? ->
        check

      System.monotonic_time(:millisecond) >= deadline ->
        raise "timeout: queue #{inspect(queue)} is #{inspect(check)}, wanted #{inspect(until)}"

      true ->
        Process.sleep(20)
        wait_queue(name, queue, until, deadline)
    end
  end

  # Oban.Notifier.status/1 and the nodes Oban.Sonar tracks (its :get_nodes call, in 2.18.3
  # and 2.23.x alike), once `wait_for` (a node name) is among them
  defp await_sonar_node(name, wait_for, deadline) do
    nodes = name |> Oban.Registry.via(Oban.Sonar) |> GenServer.call(:get_nodes) |> Enum.sort()
    status = Oban.Notifier.status(name)

    cond do
      is_nil(wait_for) or wait_for in nodes ->
        %{"status" => to_string(status), "nodes" => nodes}

      System.monotonic_time(:millisecond) >= deadline ->
        raise "timeout: sonar has not heard #{inspect(wait_for)} (status #{status}, nodes " <>
                "#{inspect(nodes)})"

      true ->
        Process.sleep(50)
        await_sonar_node(name, wait_for, deadline)
    end
  end

  defp await_examiner(name, deadline) do
    cond do
      Registry.lookup(Oban.Registry, Oban.Registry.via(name, Oban.Met.Examiner)) != [] ->
        :ok

      System.monotonic_time(:millisecond) >= deadline ->
        raise "oban_met is loaded but its Examiner is not running for #{inspect(name)}"

      true ->
        Process.sleep(20)
        await_examiner(name, deadline)
    end
  end

  # Oban.Met.checks/1 (what Oban Web's queue pages read), only `node`'s if given, sorted by
  # node and queue; with `until` (a list of maps), polled until every map is a subset of a check
  defp await_met_checks(name, req, deadline) do
    node = Map.get(req, "node")
    until = Map.get(req, "until", [])

    checks =
      apply(Oban.Met, :checks, [name])
      |> Enum.map(&JSON.plain/1)
      |> Enum.filter(&(is_nil(node) or &1["node"] == node))
      |> Enum.sort_by(&{&1["node"], &1["queue"]})

    matched? =
      Enum.all?(until, fn want ->
        Enum.any?(checks, fn check -> Enum.all?(want, fn {k, v} -> check[k] == v end) end)
      end)

    cond do
      matched? ->
        checks

      System.monotonic_time(:millisecond) >= deadline ->
        raise "timeout: Oban.Met.checks has #{inspect(checks)}, wanted #{inspect(until)}"

      true ->
        Process.sleep(100)
        await_met_checks(name, req, deadline)
    end
  end

  defp await_leader(name, deadline) do
    cond do
      Oban.Peer.leader?(name) -> true
      System.monotonic_time(:millisecond) >= deadline -> false
      true ->
        Process.sleep(20)
        await_leader(name, deadline)
    end
  end

  defp peer_rows(prefix) do
    quoted = ~s("#{String.replace(prefix, ~s("), ~s(""))}")
    %{rows: rows} = Repo.query!("SELECT name, node FROM #{quoted}.oban_peers ORDER BY name")
    Map.new(rows, fn [name, node] -> {name, node} end)
  end

  defp ok_or_inspect(:ok), do: "ok"
  defp ok_or_inspect({:ok, _}), do: "ok"
  defp ok_or_inspect(other), do: JSON.plain(other)

  @queue_keys %{
    "queue" => :queue,
    "limit" => :limit,
    "local_only" => :local_only,
    "node" => :node,
    "paused" => :paused
  }
  defp queue_opts(req) do
    req
    |> Map.drop(["id", "cmd", "name"])
    |> Enum.map(fn {k, v} ->
      case Map.fetch(@queue_keys, k) do
        {:ok, key} -> {key, v}
        :error -> raise ArgumentError, "unsupported queue option #{inspect(k)}"
      end
    end)
    |> Enum.sort_by(fn {k, _} ->
      Enum.find_index([:queue, :limit, :local_only, :node, :paused], &(&1 == k))
    end)
  end

  defp queue_opt_key(k) when k in ["limit", "paused", "global_limit", "rate_limit"],
    do: String.to_atom(k)

  defp queue_opt_key(k), do: raise(ArgumentError, "unsupported queue option #{inspect(k)}")

  # {"worker": "...", "args": {...}, "opts": {...}} -> Oban.Job changeset
  defp build_changeset(spec) do
    worker = Map.fetch!(spec, "worker")
    args = Map.get(spec, "args", %{})
    opts = Enum.map(Map.get(spec, "opts", %{}), &job_opt/1)
    Oban.Job.new(args, [{:worker, worker} | opts])
  end

  defp job_opt({"queue", v}), do: {:queue, v}
  defp job_opt({"priority", v}), do: {:priority, v}
  defp job_opt({"max_attempts", v}), do: {:max_attempts, v}
  defp job_opt({"tags", v}), do: {:tags, v}
  defp job_opt({"meta", v}), do: {:meta, v}
  defp job_opt({"schedule_in", v}) when is_integer(v), do: {:schedule_in, v}

  defp job_opt({"schedule_in", [n, unit]}),
    do: {:schedule_in, {n, String.to_existing_atom(unit)}}

  defp job_opt({"scheduled_at", iso}) do
    case DateTime.from_iso8601(iso) do
      {:ok, dt, _} -> {:scheduled_at, dt}
      {:error, reason} -> raise ArgumentError, "bad scheduled_at #{inspect(iso)}: #{reason}"
    end
  end

  defp job_opt({"unique", v}) when is_boolean(v), do: {:unique, v}
  defp job_opt({"unique", %{} = u}), do: {:unique, Enum.map(u, &unique_opt/1)}

  defp job_opt({"replace", %{} = r}),
    do:
      {:replace,
       Enum.map(r, fn {st, fields} -> {existing_atom(st), Enum.map(fields, &existing_atom/1)} end)}

  defp job_opt({"replace", fields}) when is_list(fields),
    do: {:replace, Enum.map(fields, &existing_atom/1)}

  defp job_opt({k, _}), do: raise(ArgumentError, "unsupported job option #{inspect(k)}")

  defp unique_opt({"period", "infinity"}), do: {:period, :infinity}
  defp unique_opt({"period", n}) when is_integer(n), do: {:period, n}
  defp unique_opt({"period", [n, unit]}), do: {:period, {n, existing_atom(unit)}}
  defp unique_opt({"fields", fs}), do: {:fields, Enum.map(fs, &existing_atom/1)}
  defp unique_opt({"keys", ks}), do: {:keys, Enum.map(ks, &String.to_atom/1)}
  defp unique_opt({"states", s}) when is_binary(s), do: {:states, existing_atom(s)}
  defp unique_opt({"states", ss}) when is_list(ss), do: {:states, Enum.map(ss, &existing_atom/1)}
  defp unique_opt({"timestamp", t}), do: {:timestamp, existing_atom(t)}
  defp unique_opt({k, _}), do: raise(ArgumentError, "unsupported unique option #{inspect(k)}")

  defp existing_atom(s) when is_binary(s) do
    String.to_existing_atom(s)
  rescue
    ArgumentError -> raise ArgumentError, "unknown option value #{inspect(s)}"
  end

  defp maybe_put(opts, _k, nil), do: opts
  defp maybe_put(opts, k, v), do: Keyword.put(opts, k, v)
end

defmodule BridgeHarness.Migration do
  @moduledoc false
  # Runs Oban.Migration.up/down with the options the `migrate` command stored.
  use Ecto.Migration

  def up do
    {fun, opts} = :persistent_term.get(__MODULE__)
    apply(Oban.Migration, fun, [opts])
  end

  def down, do: :ok
end
