defmodule BridgeHarness.Recorder do
  @moduledoc """
  Subscribes to an Oban instance's notifier and records every message relayed to
  subscribers (i.e. after Oban's own decoding and ident filter).
  """
  use GenServer

  @channels [:insert, :signal, :leader, :sonar, :gossip]

  def start_link(_), do: GenServer.start_link(__MODULE__, [], name: __MODULE__)

  def listen(oban_name), do: GenServer.call(__MODULE__, {:listen, oban_name}, 15_000)
  def messages(clear?), do: GenServer.call(__MODULE__, {:messages, clear?})

  @doc """
  Waits until a sonar ping from `node` arrives after `since` (a monotonic ms timestamp):
  true, or false once `timeout` ms have passed.
  """
  def await_sonar(node, since, timeout) do
    deadline = System.monotonic_time(:millisecond) + timeout
    do_await_sonar(node, since, deadline)
  end

  defp do_await_sonar(node, since, deadline) do
    last = GenServer.call(__MODULE__, {:last_sonar, node})

    cond do
      is_integer(last) and last >= since ->
        true

      System.monotonic_time(:millisecond) >= deadline ->
        false

      true ->
        Process.sleep(10)
        do_await_sonar(node, since, deadline)
    end
  end

  @impl true
  def init(_), do: {:ok, %{msgs: [], sonar: %{}, t0: System.monotonic_time(:millisecond)}}

  @impl true
  def handle_call({:listen, name}, _from, state) do
    {:reply, Oban.Notifier.listen(name, @channels), state}
  end

  def handle_call({:last_sonar, node}, _from, state) do
    {:reply, Map.get(state.sonar, node), state}
  end

  def handle_call({:messages, clear?}, _from, state) do
    msgs = Enum.reverse(state.msgs)
    {:reply, msgs, if(clear?, do: %{state | msgs: []}, else: state)}
  end

  @impl true
  def handle_info({:notification, channel, payload}, state) do
    now = System.monotonic_time(:millisecond)

    state =
      case {channel, payload} do
        {:sonar, %{"node" => node}} -> put_in(state.sonar[node], now)
        _ -> state
      end

    msg = %{
      "channel" => to_string(channel),
      "payload" => payload,
      # monotonic milliseconds since the harness booted
      "t_ms" => now - state.t0
    }

    {:noreply, %{state | msgs: [msg | state.msgs]}}
  end

  def handle_info(_other, state), do: {:noreply, state}
end
