import Config

# stdout carries only the JSON lines the Python driver reads: every log line goes to stderr.
if Version.match?(System.version(), "< 1.15.0") do
  config :logger, :console, device: :standard_error
else
  config :logger, :default_handler, config: [type: :standard_error]
end

config :logger, level: :info

config :badge_forge, ecto_repos: [BadgeForge.Repo]
config :badge_forge, BadgeForge.Repo, log: false, pool_size: 5

# An ordinary Oban node: it runs the `print` queue (BadgeForge.PrintWorker). The `badges`
# queue is served by Python (badge_forge.generator.GenerateBadge), so it is not listed here.
# The Postgres notifier is what lets a Python enqueue wake this node's producer at once.
config :badge_forge, Oban,
  repo: BadgeForge.Repo,
  queues: [print: 2],
  notifier: Oban.Notifiers.Postgres,
  plugins: []
