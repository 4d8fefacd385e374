defmodule BadgeForge.MixProject do
  use Mix.Project

  def project do
    [
      app: :badge_forge,
      version: "0.1.0",
      elixir: "~> 1.14",
      start_permanent: false,
      deps: deps(),
      aliases: aliases()
    ]
  end

  def application do
    [
      extra_applications: [:logger, :crypto],
      mod: {BadgeForge.Application, []}
    ]
  end

  # Plain Hex dependencies, as in conformance/elixir: which Oban the example talks to is
  # decided by the machine (mix deps.get / the lock it resolves), not by this file.
  defp deps do
    [
      {:oban, ">= 2.18.0"},
      {:postgrex, ">= 0.0.0"},
      {:jason, ">= 0.0.0"}
    ]
  end

  defp aliases do
    [badge_forge: &badge_forge/1]
  end

  # `mix badge_forge [--count N] [--timeout SECONDS]`: compile (all Mix output to stderr),
  # start the app (Repo + Oban serving the `print` queue), enqueue N badge jobs for the
  # Python worker, and keep serving until stdin closes or the timeout passes.
  defp badge_forge(args) do
    Mix.shell(BadgeForge.MixProject.StderrShell)

    unless System.get_env("DATABASE_URL") do
      IO.puts(:stderr, "badge_forge: DATABASE_URL is not set (postgres://user@host:port/db)")
      System.halt(1)
    end

    Mix.Task.run("compile", [])
    Mix.Task.run("app.start", [])
    apply(BadgeForge.CLI, :main, [args])
  end
end

defmodule BadgeForge.MixProject.StderrShell do
  @moduledoc false
  # A Mix shell that writes everything to stderr, so that stdout carries only the
  # JSON lines the Python driver reads.

  def print_app do
    if name = Mix.Shell.printable_app_name() do
      IO.puts(:stderr, "==> #{name}")
    end

    :ok
  end

  def info(message) do
    print_app()
    IO.puts(:stderr, IO.ANSI.format(message, false))
  end

  def error(message) do
    print_app()
    IO.puts(:stderr, IO.ANSI.format(message, false))
  end

  def prompt(_message), do: ""
  def yes?(_message), do: false
  def yes?(_message, _opts), do: false

  def cmd(command, opts \\ []) do
    Mix.Shell.cmd(command, opts, fn data -> IO.write(:stderr, data) end)
  end
end
