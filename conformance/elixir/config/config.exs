import Config

# stdout is reserved for protocol lines: every log line goes to stderr.
if Version.match?(System.version(), "< 1.15.0") do
  config :logger, :console, device: :standard_error
else
  config :logger, :default_handler, config: [type: :standard_error]
end

config :logger, level: :warning

config :bridge_harness, BridgeHarness.Repo, log: false
