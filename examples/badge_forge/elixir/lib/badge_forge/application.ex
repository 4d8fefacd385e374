defmodule BadgeForge.Application do
  @moduledoc false
  use Application

  @impl true
  def start(_type, _args) do
    children = [
      BadgeForge.Repo,
      {Oban, Application.fetch_env!(:badge_forge, Oban)}
    ]

    Supervisor.start_link(children, strategy: :one_for_one, name: BadgeForge.Supervisor)
  end
end
