defmodule BridgeHarness.Application do
  @moduledoc false
  use Application

  @impl true
  def start(_type, _args) do
    children = [
      BridgeHarness.Recorder,
      {DynamicSupervisor, name: BridgeHarness.ObanSup, strategy: :one_for_one}
    ]

    # The Repo is added by BridgeHarness.CLI once DATABASE_URL has been read.
    Supervisor.start_link(children, strategy: :one_for_one, name: BridgeHarness.Supervisor)
  end
end
