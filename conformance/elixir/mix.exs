defmodule BridgeHarness.MixProject do
  use Mix.Project

  def project do
    [
      app: :bridge_harness,
      version: "0.1.0",
      elixir: "~> 1.14",
      start_permanent: false,
      deps: deps(),
      aliases: aliases()
    ]
  end

  def application do
    [
      extra_applications: [:logger],
      mod: {BridgeHarness.Application, []}
    ]
  end

  # Plain Hex dependencies. Which Oban version the harness talks to is decided by
  # the machine (mix deps.get / the lock it resolves), not by this file.
  defp deps do
    [
      {:oban, ">= 2.18.0"},
      {:postgrex, ">= 0.0.0"},
      {:jason, ">= 0.0.0"}
    ]
  end

  defp aliases do
    [bridge_harness: &bridge_harness/1]
  end

  # `mix bridge_harness`: compile (all Mix output to stderr), start the app, then
  # serve the JSON-lines protocol on stdin/stdout until EOF.
  defp bridge_harness(args) do
    Mix.shell(BridgeHarness.MixProject.StderrShell)
    Mix.Task.run("compile", [])
    Mix.Task.run("app.start", [])
    apply(BridgeHarness.CLI, :main, [args])
  end
end

defmodule BridgeHarness.MixProject.StderrShell do
  @moduledoc false
  # A Mix shell that writes everything to stderr, so that stdout carries only
  # protocol lines. Never prompts (the harness is not interactive).

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
